import { readdirSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { MAX_BRANCH_POINT, storeRequests } from '../../../src-main/contract/store';
import { createRouter, type CallContext } from '../../../src-main/ipc/router';
import { DocumentsService } from '../../../src-main/services/documents';
import { createStoreHandlers } from '../../../src-main/services/store-handlers';
import { listBackups } from '../../../src-main/store/backups';
import { Store } from '../../../src-main/store/store';
import { TsuzukiError } from '../../../src-main/contract/errors';
import { generation, useTempDir } from '../../unit/store/helpers';

const contract = { requests: storeRequests, events: {} };
type C = typeof contract;
const tmp = useTempDir();
const ctx: CallContext<C> = { emit: () => {}, signal: new AbortController().signal };

async function setup() {
  const store = await tmp.open();
  const router = createRouter(contract, createStoreHandlers({ store }));
  const call = async (channel: string, payload: unknown) => router.dispatch(channel, payload, ctx);
  const ok = async (channel: string, payload: unknown) => {
    const result = await call(channel, payload);
    if (!result.ok) throw new Error(`${channel}: ${result.error.code}: ${result.error.message}`);
    return result.value as any; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  return { store, call, ok };
}

describe('documents, history, settings and db over the router', () => {
  it('create, autosave, list, trash, restore, revisions, restoreRevision', async () => {
    const { ok } = await setup();
    const doc = await ok('documents.create', {});
    expect(doc).toMatchObject({ title: '無題', body: '', writingMode: 'horizontal' });
    const saved = await ok('documents.save', { id: doc.id, body: '第一稿', memo: '登場人物', writingMode: 'vertical' });
    expect(saved).toMatchObject({ id: doc.id, changed: true });
    expect(await ok('documents.save', { id: doc.id, body: '第一稿', memo: '登場人物' })).toMatchObject({ changed: false, updatedAt: saved.updatedAt });
    expect(await ok('documents.get', { id: doc.id })).toMatchObject({ body: '第一稿', memo: '登場人物', writingMode: 'vertical' });
    await ok('documents.rename', { id: doc.id, title: '雪国' });
    const second = await ok('documents.create', { title: '二つ目' });
    const page = await ok('documents.list', { limit: 1 });
    expect(page.items.map((d: { id: number }) => d.id)).toEqual([second.id]);
    expect((await ok('documents.list', { limit: 1, cursor: page.nextCursor })).items[0].title).toBe('雪国');
    await ok('documents.delete', { id: second.id });
    expect((await ok('documents.trash', {})).items.map((d: { id: number }) => d.id)).toEqual([second.id]);
    await ok('documents.restore', { id: second.id });
    await ok('documents.delete', { id: second.id });
    expect(await ok('documents.delete', { id: second.id, permanent: true })).toEqual({ id: second.id, deletedAt: null, purged: true });

    const overwrite = await ok('documents.save', { id: doc.id, body: '全部消えた' });
    const revisions = (await ok('documents.revisions', { id: doc.id })).items;
    expect(revisions[0].id).toBe(overwrite.revisionId);
    expect((await ok('documents.revision', { revisionId: overwrite.revisionId })).body).toBe('第一稿');
    expect((await ok('documents.restoreRevision', { id: doc.id, revisionId: overwrite.revisionId })).body).toBe('第一稿');
  });

  it('an autosave is one transaction: a failure in its last statement leaves the previous text, memo and ranges', async () => {
    const { store, ok, call } = await setup();
    const doc = await ok('documents.create', { body: '第一稿。', memo: '旧メモ' });
    await ok('documents.save', { id: doc.id, generatedRanges: [[0, 2]] });
    // Fault injection: the ranges (written after the text and the memo) fail, as a full disk or a crash would.
    store.db.exec("CREATE TEMP TRIGGER fail_ranges BEFORE UPDATE OF generated_ranges ON documents BEGIN SELECT RAISE(ABORT, 'injected'); END");
    const failed = await call('documents.save', { id: doc.id, body: '第二稿。書き足した。', memo: '新メモ', writingMode: 'vertical', generatedRanges: [[4, 8]] });
    expect(failed.ok).toBe(false);
    store.db.exec('DROP TRIGGER temp.fail_ranges');
    expect(await ok('documents.get', { id: doc.id })).toMatchObject({ body: '第一稿。', memo: '旧メモ', writingMode: 'horizontal', generatedRanges: [[0, 2]] });
    expect(await ok('documents.revisions', { id: doc.id })).toEqual({ items: [] });
    // The cached text is not the rolled-back one: the next save starts from what the file holds.
    await ok('documents.save', { id: doc.id, body: '第一稿。続き。' });
    expect(store.documents.get(doc.id).body).toBe('第一稿。続き。');
  });

  it('while writing, the first save after the interval takes a self-contained backup in the background', async () => {
    const path = join(tmp.dir(), 'writing.db');
    const store = await Store.open(path, { writingBackupEveryMs: 60_000 });
    try {
      const documents = new DocumentsService(store);
      const doc = documents.create({ body: '書き始め。' });
      await store.backup();
      documents.save({ id: doc.id, body: '書き始め。続き。' });
      expect(listBackups(path)).toHaveLength(1);
      // The interval is over (as if 30 minutes had passed): the next save backs up, once.
      (store as unknown as { writingBackupEveryMs: number }).writingBackupEveryMs = 0;
      documents.save({ id: doc.id, body: '書き始め。続き。さらに。' });
      documents.save({ id: doc.id, body: '書き始め。続き。さらに。まだ。' });
      const deadline = Date.now() + 20_000;
      while (!listBackups(path).some((b) => b.reason === 'writing') && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
      const writing = listBackups(path).filter((b) => b.reason === 'writing');
      expect(writing).toHaveLength(1);
      const copy = new Database(writing[0]!.path, { readonly: true });
      expect(copy.pragma('journal_mode', { simple: true })).toBe('delete');
      // It holds at least the save that started it (the backup runs after it returns, so maybe the next one too).
      expect(copy.prepare('SELECT char_count FROM documents').pluck().get()).toBeGreaterThanOrEqual('書き始め。続き。さらに。'.length);
      copy.close();
      expect(readdirSync(`${path}-backups`).filter((f) => !f.endsWith('.sqlite'))).toEqual([]);
    } finally {
      store.close();
    }
  });

  it('history list, search (1, 2, 3+ characters), get with siblings, setStatus, delete, export, import', async () => {
    const { store, ok, call } = await setup();
    const doc = store.documents.create({ title: '猫の本', body: '吾輩は猫である。' });
    const a = store.generations.insert(generation({ documentId: doc.id, groupId: 'g', altIndex: 0, text: '猫が鳴いた。' }));
    const b = store.generations.insert(generation({ documentId: doc.id, groupId: 'g', altIndex: 1, text: '雪国の猫。' }));
    store.generations.insert(generation({ text: '関係ない。' }));
    expect((await ok('history.list', { documentId: doc.id })).items.map((g: { id: number }) => g.id)).toEqual([b.id, a.id]);
    const found = await ok('history.search', { query: '猫' });
    expect(found.generations.map((g: { id: number }) => g.id)).toEqual([b.id, a.id]);
    expect(found.documents.map((d: { documentId: number }) => d.documentId)).toEqual([doc.id]);
    expect((await ok('history.search', { query: '雪国', target: 'generations' })).generations.map((g: { id: number }) => g.id)).toEqual([b.id]);
    const paged = await ok('history.search', { query: '猫', limit: 1 });
    expect((await ok('history.search', { query: '猫', limit: 1, cursor: paged.nextCursor })).generations.map((g: { id: number }) => g.id)).toEqual([a.id]);
    expect((await ok('history.get', { id: a.id })).siblings.map((g: { id: number }) => g.id)).toEqual([b.id]);
    await ok('history.setStatus', { id: a.id, status: 'accepted' });
    expect(store.generations.get(b.id).status).toBe('rejected');
    // Both alternatives continued the same point; only the document's are its branches, and a point is bounded.
    const branches = await ok('history.branches', { documentId: doc.id, before: generation().contextBefore });
    expect(branches).toMatchObject({ nodes: [{ id: a.id, parentId: null, status: 'accepted' }, { id: b.id, parentId: null, status: 'rejected' }], truncated: false });
    expect((await call('history.branches', { documentId: doc.id, before: 'x'.repeat(MAX_BRANCH_POINT + 1) })).ok).toBe(false);

    const md = await ok('history.export', { format: 'md', query: '猫' });
    expect(md).toMatchObject({ mimeType: 'text/markdown', filename: expect.stringMatching(/\.md$/) });
    expect(md.content).toContain('# 「猫」の検索結果（2件）');
    expect(md.content).toContain('雪国の猫。');
    const txt = await ok('history.export', { format: 'txt', documentId: doc.id });
    expect(txt).toEqual({ filename: '猫の本.txt', mimeType: 'text/plain', content: '猫の本\n\n吾輩は猫である。\n' });
    const jsonl = await ok('history.export', { format: 'jsonl', documentId: doc.id });
    expect(jsonl.content.trim().split('\n').map((l: string) => JSON.parse(l).type)).toEqual(['document', 'generation', 'generation']);
    const all = await ok('history.export', { format: 'jsonl' });
    expect(all.content.trim().split('\n')).toHaveLength(1 + 1 + 3);

    expect((await ok('history.import', { content: all.content })).generations).toEqual({ added: 0, updated: 0, unchanged: 3 });
    const bad = await call('history.import', { content: 'nonsense', name: 'x.jsonl' });
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid_argument', message: expect.stringContaining('x.jsonl, line 1') } });
    expect(await ok('history.delete', { ids: [a.id, b.id] })).toEqual({ deleted: 2 });
    expect((await ok('history.search', { query: '猫', target: 'generations' })).generations).toEqual([]);
  });

  it('settings: defaults from the model card, validated writes, bad stored values fall back field by field', async () => {
    const { store, ok, call } = await setup();
    const defaults = await ok('settings.get', {});
    const active = defaults.sampling.presets.find((p: { id: string }) => p.id === defaults.sampling.activePresetId);
    expect(active.params).toEqual({ doSample: true, temperature: 1, topK: 500, topP: 0.95, repetitionPenalty: 1, maxNewTokens: 60, minNewTokens: 0, numAlternatives: 1, seed: null });

    const ui = { ...defaults.ui, fontSize: 22, writingMode: 'vertical' };
    expect((await ok('settings.set', { ui })).ui).toEqual(ui);
    expect((await call('settings.set', { ui: { ...ui, fontSize: 1000 } })).ok).toBe(false);
    expect((await call('settings.set', { sampling: { activePresetId: 'nope', presets: defaults.sampling.presets } })).ok).toBe(false);

    store.settings.set('ui', { ...ui, fontSize: 'huge', theme: 'neon' });
    store.settings.set('shortcuts', { 'generation.start': 'Mod+J', broken: 42 });
    store.settings.set('sampling', { activePresetId: 'x', presets: [{ id: 'x', name: 'X', params: { temperature: -1 } }, defaults.sampling.presets[1]] });
    store.db.prepare("UPDATE settings SET value = '{not json' WHERE key = 'ui'").run();
    // A section an older version wrote, before the read-ahead switch existed: its fields stay, the new one is on.
    store.settings.set('engine', { device: 'cpu', threads: 2 });
    const read = await ok('settings.get', {});
    expect(defaults.engine).toEqual({ device: 'auto', threads: null, readAhead: true });
    expect(read.engine).toEqual({ device: 'cpu', threads: 2, readAhead: true });
    expect(read.ui).toEqual(defaults.ui);
    expect(read.shortcuts).toEqual({ ...defaults.shortcuts, 'generation.start': 'Mod+J' });
    expect(read.sampling).toEqual({ activePresetId: defaults.sampling.presets[1].id, presets: [defaults.sampling.presets[1]] });
  });

  it('db.status, db.check and db.backup', async () => {
    const { ok } = await setup();
    expect(await ok('db.status', {})).toMatchObject({ created: true, migratedFrom: 0, recovery: null, backups: [] });
    expect(await ok('db.check', {})).toMatchObject({ ok: true, integrity: ['ok'], recovery: null, documents: 0 });
    const backup = await ok('db.backup', {});
    expect(backup.reason).toBe('manual');
    expect((await ok('db.check', {})).backups).toHaveLength(1);
  });

  it('refuses oversized, malformed and hostile payloads; stores SQL-looking text as text', async () => {
    const { store, call, ok } = await setup();
    const doc = await ok('documents.create', { title: 't' });
    const refused = async (channel: string, payload: unknown) => {
      const result = await call(channel, payload);
      expect(result.ok, `${channel} ${JSON.stringify(payload).slice(0, 80)}`).toBe(false);
      return result.ok ? null : result.error.code;
    };
    expect(await refused('documents.create', { title: 'x'.repeat(1_000_000) })).toBe('invalid_payload');
    expect(await refused('documents.rename', { id: doc.id, title: 'x'.repeat(501) })).toBe('invalid_payload');
    expect(await refused('documents.save', { id: doc.id, body: 'x'.repeat(5_000_001) })).toBe('invalid_payload');
    for (const id of [0, -1, 1.5, '1', null, 2 ** 53, Number.NaN]) expect(await refused('documents.get', { id })).toBe('invalid_payload');
    expect(await refused('documents.get', { id: 123456 })).toBe('not_found');
    expect(await refused('documents.get', { id: doc.id, extra: 1 })).toBe('invalid_payload');
    expect(await refused('documents.rename', { id: doc.id, title: 'a\ud800b' })).toBe('invalid_payload');
    expect(await refused('history.search', { query: '\udc00' })).toBe('invalid_payload');
    expect(await refused('history.search', { query: '   ' })).toBe('invalid_payload');
    expect(await refused('history.list', { cursor: "1; DROP TABLE generations" })).toBe('invalid_argument');
    expect(await refused('history.delete', { ids: [] })).toBe('invalid_payload');
    expect(await refused('history.setStatus', { id: 1, status: 'deleted' })).toBe('invalid_payload');

    // A lone surrogate in the editor's text (half an emoji) is repaired, not a reason to lose the autosave.
    await ok('documents.save', { id: doc.id, body: '絵文字\ud83d途中' });
    expect((await ok('documents.get', { id: doc.id })).body).toBe('絵文字\ufffd途中');

    const evil = "Robert'); DROP TABLE documents;-- \" OR 1=1 NEAR(x y) *";
    await ok('documents.rename', { id: doc.id, title: evil });
    await ok('documents.save', { id: doc.id, body: evil });
    expect(await ok('documents.get', { id: doc.id })).toMatchObject({ title: evil, body: evil });
    expect((await ok('history.search', { query: "'); DROP" })).documents).toHaveLength(1);
    expect(store.check().ok).toBe(true);
  });

  it('db.status tells the UI that a damaged database was replaced by its backup', async () => {
    const first = await tmp.open('damaged.db');
    for (let i = 0; i < 20; i++) first.documents.create({ title: `${i}`, body: '本文。'.repeat(3000) });
    const backup = await first.backup();
    first.close();
    truncateSync(first.path, 20_000);
    const store = await Store.open(first.path, { recover: true });
    try {
      const router = createRouter(contract, createStoreHandlers({ store }));
      const status = await router.dispatch('db.status', {}, ctx);
      expect(status).toMatchObject({ ok: true, value: { recovery: { backupPath: backup.path, damagedPath: expect.stringContaining('damaged.db.damaged-') } } });
    } finally {
      store.close();
    }
  });

  it('without a database, every request says why', async () => {
    const router = createRouter(contract, createStoreHandlers({ storeError: new TsuzukiError('corrupt_file', 'x.db is damaged') }));
    expect(await router.dispatch('documents.list', {}, ctx)).toEqual({ ok: false, error: { code: 'corrupt_file', message: 'x.db is damaged' } });
  });
});
