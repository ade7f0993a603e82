import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, closeSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { storeRequests } from '../../../src-main/contract/store';
import { createRouter } from '../../../src-main/ipc/router';
import { openAppStore } from '../../../src-main/services/open-store';
import { createStoreHandlers } from '../../../src-main/services/store-handlers';
import { UNREADABLE_MARK } from '../../../src-main/store/salvage';
import { Store } from '../../../src-main/store/store';
import { generation } from '../../unit/store/helpers';
import { runChild, startChild } from './spawn';

let dir: string;
let path: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsuzuki-faults-'));
  path = join(dir, 'tsuzuki.db');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

/** A database with 30 documents, a backup of it, and one more document written after the backup. */
async function databaseWithBackup(): Promise<void> {
  const store = await Store.open(path);
  for (let i = 0; i < 30; i++) store.documents.create({ title: `doc ${i}`, body: '本文。'.repeat(1500) });
  await store.backup();
  store.documents.create({ title: 'after the backup' });
  store.close();
}

const damages: Record<string, () => void> = {
  'truncated to half': () => truncateSync(path, Math.floor(statSync(path).size / 2)),
  'pages overwritten with garbage': () => {
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(16384, 0xab), 0, 16384, 4096 * 4);
    closeSync(fd);
  },
  'header overwritten': () => {
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(100, 0x41), 0, 100, 0);
    closeSync(fd);
  },
  'truncated inside the header': () => truncateSync(path, 50),
};

describe('a damaged database', () => {
  for (const [name, damage] of Object.entries(damages)) {
    it(`${name}: reported without touching it, then restored from the newest good backup with the damaged file kept`, async () => {
      await databaseWithBackup();
      damage();
      const damaged = sha(path);
      await expect(Store.open(path)).rejects.toMatchObject({ code: 'corrupt_file', message: expect.stringMatching(/is damaged .*left untouched.*1 backup/s) });
      expect(sha(path)).toBe(damaged);

      const store = await Store.open(path, { recover: true });
      try {
        const recovery = store.report.recovery!;
        expect(recovery).not.toBeNull();
        expect(sha(recovery.damagedPath)).toBe(damaged);
        expect(recovery.backupPath).toContain('-manual.sqlite');
        // Salvage brings back the document written after the backup when its pages survived.
        const titles = store.documents.list(100, null).map((d) => d.title);
        expect(titles).toEqual(expect.arrayContaining(Array.from({ length: 30 }, (_, i) => `doc ${i}`)));
        expect(titles.length).toBe(name === 'pages overwritten with garbage' ? 31 : 30);
        expect(store.check().ok).toBe(true);
      } finally {
        store.close();
      }
    });
  }

  it('with no backup: what can be read is salvaged into a new database, and the damaged file kept', async () => {
    const store = await Store.open(path);
    for (let i = 0; i < 30; i++) store.documents.create({ title: `doc ${i}`, body: '本文。'.repeat(1500) });
    store.close();
    damages['pages overwritten with garbage']!();
    const damaged = sha(path);
    const recovered = await Store.open(path, { recover: true });
    try {
      const recovery = recovered.report.recovery!;
      expect(recovery).toMatchObject({ backupPath: null, backupCreatedAt: null });
      expect(sha(recovery.damagedPath)).toBe(damaged);
      const salvaged = recovered.documents.list(100, null).length;
      expect(salvaged).toBeGreaterThan(0);
      expect(recovery.salvage!.documents.added).toBe(salvaged);
      expect(recovered.check().ok).toBe(true);
    } finally {
      recovered.close();
    }
  });

  it('with no backup and nothing readable: a clear error, the file untouched, never an empty database', async () => {
    const store = await Store.open(path);
    store.documents.create({ title: 'doc' });
    store.close();
    damages['truncated inside the header']!();
    const damaged = sha(path);
    await expect(Store.open(path, { recover: true })).rejects.toMatchObject({ code: 'corrupt_file', message: expect.stringContaining('no good backup') });
    expect(sha(path)).toBe(damaged);
    expect(readdirSync(dir).filter((f) => f.includes('damaged'))).toEqual([]);
  });

  it('skips a damaged backup for an older good one', async () => {
    await databaseWithBackup();
    const first = readdirSync(`${path}-backups`);
    const store = await Store.open(path);
    const second = await store.backup();
    store.close();
    writeFileSync(second.path, 'garbage');
    damages['truncated to half']!();
    const recovered = await Store.open(path, { recover: true });
    expect(recovered.report.recovery!.backupPath).toBe(join(`${path}-backups`, first[0]!));
    recovered.close();
  });
});

/**
 * Overwrites with garbage the first non-root leaf page of each of `tables` (rows written early, before the backup)
 * and the root page of each of `roots` (the whole table).
 */
function damagePages(tables: string[], roots: string[] = []): void {
  const db = new Database(path, { readonly: true });
  const pages = [
    ...tables.map((name) => db.prepare("SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' AND path != '/' ORDER BY path LIMIT 1").pluck().get(name) as number),
    ...roots.map((name) => db.prepare('SELECT rootpage FROM sqlite_schema WHERE name = ?').pluck().get(name) as number),
  ];
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  db.close();
  const fd = openSync(path, 'r+');
  for (const page of pages) writeSync(fd, Buffer.alloc(pageSize, 0x5a), 0, pageSize, (page - 1) * pageSize);
  closeSync(fd);
}

describe('salvage: writing newer than the last backup survives damage', () => {
  it('the app keeps the damaged file, salvages the newer documents and generations, and reports what was lost', async () => {
    const store = await Store.open(path);
    const old = [];
    for (let i = 0; i < 40; i++) old.push(store.documents.create({ title: `古い${i}`, body: `第${i}章。\n`.repeat(400), createdAt: 1000 + i }));
    for (let i = 0; i < 400; i++) store.generations.insert(generation({ text: `古い続き${i}。`.repeat(20), createdAt: 1000 + i }));
    await store.backup();
    // Written after the backup: an edit to an old document, new documents, new generations.
    store.documents.save(old[39]!.id, '書き直した最終章。\n'.repeat(50));
    const fresh = [0, 1, 2].map((i) => store.documents.create({ title: `新しい${i}`, body: `バックアップの後に書いた${i}。\n`.repeat(300), memo: `メモ${i}` }));
    const newGen = store.generations.insert(generation({ documentId: fresh[0]!.id, text: '新しい続き。' }));
    store.close();
    const lines: string[] = [];
    damagePages(['document_chunk_texts', 'generations'], ['document_revisions']);
    const damaged = sha(path);

    const opened = await openAppStore(path, (line) => lines.push(line));
    const recovered = opened.store!;
    try {
      const recovery = recovered.report.recovery!;
      expect(sha(recovery.damagedPath)).toBe(damaged);
      expect(recovery.damagedPath).toMatch(/tsuzuki\.db\.damaged-\d{8}T\d{9}Z$/);
      const salvage = recovery.salvage!;
      expect(salvage.error).toBeNull();
      expect(salvage.documents).toMatchObject({ added: 3, updated: 1 });
      expect(salvage.generations.added).toBe(1);
      expect(salvage.unreadable.generations).toBeGreaterThan(0);
      // With its root page gone, nothing says how many revisions there were.
      expect(salvage.unreadable.revisions).toBeNull();
      // The documents whose text was on the damaged page had not changed since the backup, which holds them whole.
      expect(salvage.incomplete).toEqual([]);
      for (const doc of fresh) {
        const got = recovered.documents.findByUuid(doc.uuid)!;
        expect(recovered.documents.get(got.id)).toMatchObject({ title: doc.title, body: doc.body, memo: doc.memo });
      }
      const edited = recovered.documents.findByUuid(old[39]!.uuid)!;
      expect(recovered.documents.get(edited.id).body).toBe('書き直した最終章。\n'.repeat(50));
      // The backup's version of the edited document stays reachable.
      expect(recovered.documents.revisions(edited.id).map((r) => r.reason)).toContain('before-salvage');
      expect(recovered.generations.get(recovered.generations.findByUuid(newGen.uuid)!.id)).toMatchObject({ text: '新しい続き。', documentId: recovered.documents.findByUuid(fresh[0]!.uuid)!.id });
      // Documents whose text was on the damaged page keep the backup's whole text, never a text with holes.
      for (const doc of old.slice(0, 39)) expect(recovered.documents.get(recovered.documents.findByUuid(doc.uuid)!.id).body).toBe(doc.body);
      expect(recovered.check().ok).toBe(true);
      expect(lines.join('\n')).toMatch(/kept at .*damaged-.*Salvaged from the damaged file: 3 new and 1 newer document.*an unknown number of revisions/s);
      expect(readdirSync(`${path}-backups`).filter((f) => /-(wal|shm|journal)$/.test(f))).toEqual([]);
      // What the renderer gets to tell the writer.
      const router = createRouter({ requests: storeRequests, events: {} }, createStoreHandlers(opened));
      const status = await router.dispatch('db.status', {}, { emit: () => {}, signal: new AbortController().signal });
      expect(status).toMatchObject({ ok: true, value: { recovery: { damagedPath: recovery.damagedPath, salvage: { documents: { added: 3, updated: 1 } } } } });
    } finally {
      recovered.close();
    }
  });

  it('a newest text on a damaged page: the backup\'s whole version is kept, or the text with the gap marked, and both are named', async () => {
    const store = await Store.open(path);
    const edited = store.documents.create({ title: '書き直し', body: '最初の原稿。' });
    await store.backup();
    // Long paragraphs: each text spills onto overflow pages, so one damaged page costs one text only.
    const marker = (name: string) => `${name}の最後の一文。`;
    store.documents.save(edited.id, 'あ'.repeat(6000) + marker('書き直し'));
    const fresh = store.documents.create({ title: '新作', body: 'い'.repeat(6000) + marker('新作') });
    const intact = store.documents.create({ title: '無事', body: 'う'.repeat(6000) });
    // A row that reads but no longer makes sense is counted lost, like one on an unreadable page.
    const broken = store.generations.insert(generation({ text: '壊れた続き。' }));
    store.db.prepare("UPDATE generations SET params = '{broken' WHERE id = ?").run(broken.id);
    store.close();
    const bytes = readFileSync(path);
    const pageSize = bytes.readUInt16BE(16);
    const fd = openSync(path, 'r+');
    for (const name of ['書き直し', '新作']) {
      const at = bytes.indexOf(Buffer.from(marker(name)));
      expect(at).toBeGreaterThan(0);
      writeSync(fd, Buffer.alloc(pageSize, 0x5a), 0, pageSize, at - (at % pageSize));
    }
    closeSync(fd);

    const recovered = await Store.open(path, { recover: true });
    try {
      const salvage = recovered.report.recovery!.salvage!;
      expect(salvage.incomplete.sort()).toEqual(['新作', '書き直し'].sort());
      expect(salvage.documents).toMatchObject({ added: 2, updated: 0 });
      expect(salvage.unreadable).toEqual({ documents: 0, revisions: 0, generations: 1 });
      expect(salvage.generations.added).toBe(0);
      const get = (uuid: string) => recovered.documents.get(recovered.documents.findByUuid(uuid)!.id).body;
      expect(get(edited.uuid)).toBe('最初の原稿。');
      expect(get(fresh.uuid)).toMatch(new RegExp(`^い+${UNREADABLE_MARK}$|^${UNREADABLE_MARK}い+$|^い+${UNREADABLE_MARK}い+$`));
      expect(get(intact.uuid)).toBe('う'.repeat(6000));
    } finally {
      recovered.close();
    }
  });
});

describe('files that are not ours', () => {
  it('a text file: foreign_file, untouched, even with recover', async () => {
    writeFileSync(path, 'これはデータベースではありません\n'.repeat(100));
    const before = sha(path);
    await expect(Store.open(path, { recover: true })).rejects.toMatchObject({ code: 'foreign_file', message: expect.stringContaining('not a Tsuzuki database') });
    expect(sha(path)).toBe(before);
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  it('another application\'s SQLite database: foreign_file, untouched', async () => {
    const other = new Database(path);
    other.exec('CREATE TABLE contacts (name TEXT); INSERT INTO contacts VALUES (\'x\')');
    other.close();
    const before = sha(path);
    await expect(Store.open(path)).rejects.toMatchObject({ code: 'foreign_file' });
    expect(sha(path)).toBe(before);
  });

  it('a folder, or a missing file when not creating', async () => {
    mkdirSync(join(dir, 'folder.db'));
    await expect(Store.open(join(dir, 'folder.db'))).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(Store.open(join(dir, 'missing.db'), { create: false })).rejects.toMatchObject({ code: 'not_found' });
    expect(existsSync(join(dir, 'missing.db'))).toBe(false);
  });
});

describe('environment faults', () => {
  it('locked by another running instance: busy, and usable once it exits', async () => {
    (await Store.open(path)).close();
    let ready!: () => void;
    const isReady = new Promise<void>((resolve) => (ready = resolve));
    const { child, exited } = startChild(['hold', path], (m) => m.kind === 'ready' && ready());
    await isReady;
    try {
      await expect(Store.open(path, { busyTimeoutMs: 200 })).rejects.toMatchObject({ code: 'busy', message: expect.stringContaining('another running Tsuzuki') });
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    const store = await Store.open(path);
    expect(store.documents.create({ title: 'after' }).title).toBe('after');
    store.close();
  });

  it('a second open in the same process is refused too', async () => {
    const first = await Store.open(path);
    try {
      await expect(Store.open(path, { busyTimeoutMs: 100 })).rejects.toMatchObject({ code: 'busy' });
    } finally {
      first.close();
    }
  });

  it('read-only file or folder: read_only, nothing written', async (ctx) => {
    const store = await Store.open(path);
    store.documents.create({ title: 'keep me' });
    store.close();
    chmodSync(path, 0o444);
    chmodSync(dir, 0o555);
    const before = sha(path);
    try {
      // As root, permissions do not apply: try as an unprivileged user instead.
      const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
      const [result] = await runChild(['open', path], asUser);
      // As root in a checkout that user cannot read, the child cannot even start: nothing to test here.
      if (result === undefined && 'uid' in asUser) ctx.skip();
      expect(result).toMatchObject({ ok: false, code: 'read_only', message: expect.stringContaining(path) });
    } finally {
      chmodSync(dir, 0o755);
      chmodSync(path, 0o644);
    }
    expect(sha(path)).toBe(before);
  });

  it('disk full: disk_full, the write rolled back, earlier data intact, usable after space is freed', async () => {
    const store = await Store.open(path);
    try {
      const doc = store.documents.create({ title: 'novel', body: '書き始め。' });
      const pages = store.db.pragma('page_count', { simple: true }) as number;
      store.db.pragma(`max_page_count = ${pages + 5}`);
      const big = '長い原稿の一文。'.repeat(50_000);
      expect(() => store.run((s) => s.documents.save(doc.id, big))).toThrow(expect.objectContaining({ code: 'disk_full', message: expect.stringContaining(path) }));
      expect(() => store.run((s) => s.documents.create({ title: 'x', body: big }))).toThrow(expect.objectContaining({ code: 'disk_full' }));
      expect(store.documents.get(doc.id).body).toBe('書き始め。');
      expect(store.documents.list(10, null)).toHaveLength(1);
      store.db.pragma('max_page_count = 1073741823');
      store.documents.save(doc.id, big);
      expect(store.documents.get(doc.id).body).toBe(big);
      expect(store.check().ok).toBe(true);
    } finally {
      store.close();
    }
  });
});
