// The app's database in its worker thread (services/store-remote.ts), started from source as the app starts it.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { storeRequests } from '../../../src-main/contract/store';
import { createRouter, type CallContext } from '../../../src-main/ipc/router';
import { openRemoteStore, type RemoteStore } from '../../../src-main/services/store-remote';
import { Store } from '../../../src-main/store/store';
import { generation, useTempDir } from '../../unit/store/helpers';

const contract = { requests: storeRequests, events: {} };
const ctx: CallContext<typeof contract> = { emit: () => {}, signal: new AbortController().signal };
const tmp = useTempDir();
let opened: RemoteStore[] = [];
afterEach(async () => {
  await Promise.all(opened.map((store) => store.close()));
  opened = [];
});

async function open(path = join(tmp.dir(), 'tsuzuki.db')) {
  const log: string[] = [];
  const { store, storeError } = await openRemoteStore(path, (line) => log.push(line));
  if (store) opened.push(store);
  const router = store ? createRouter(contract, store.handlers) : null;
  const ok = async (channel: string, payload: unknown) => {
    const result = await router!.dispatch(channel, payload, ctx);
    if (!result.ok) throw new Error(`${channel}: ${result.error.code}: ${result.error.message}`);
    return result.value as any; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  return { store, storeError, log, router, ok, path };
}

/** A JSONL export of `count` generations, made by a Store in this thread. */
async function exportOf(count: number): Promise<string> {
  const source = await tmp.open('source.db');
  source.db.transaction(() => {
    for (let i = 0; i < count; i++) source.generations.insert(generation({ groupId: `g-${i}`, text: `雪国であった。${i}` }));
  })();
  return [...source.exportAll()].join('\n');
}

describe('the database in its worker', () => {
  it('answers the store requests, keeps the settings it wrote, records generations, and leaves the file closed', async () => {
    const { store, ok, path } = await open();
    const doc = await ok('documents.create', { title: '雪国' });
    await ok('documents.save', { id: doc.id, body: '国境の長いトンネルを抜けると', memo: '島村' });
    expect(await ok('documents.get', { id: doc.id })).toMatchObject({ body: '国境の長いトンネルを抜けると', memo: '島村' });
    // The document's aids pass through the worker both ways; a part left out of a save stays as it was.
    const authorNote = { text: '雪の夜', depth: 2, unit: 'sentences' };
    await ok('documents.save', { id: doc.id, aids: { authorNote } });
    await ok('documents.save', { id: doc.id, aids: { book: { entries: [{ id: 'k', keys: ['駒子'], text: '芸者' }] } } });
    expect((await ok('documents.get', { id: doc.id })).aids).toMatchObject({ authorNote, book: { tokenBudget: 256, entries: [{ keys: ['駒子'], regex: false, enabled: true }] } });
    await expect(ok('documents.save', { id: doc.id, aids: { authorNote: { depth: 1000 } } })).rejects.toThrow('invalid_payload');

    const ui = { ...store!.settings().ui, fontSize: 21 };
    await ok('settings.set', { ui });
    expect(store!.settings().ui.fontSize).toBe(21);

    const ids = await store!.record([
      { ...generation({ documentId: doc.id, groupId: 'req-1' }), altIndex: 0, finishReason: 'eos', status: 'proposed' },
      { ...generation({ documentId: doc.id, groupId: 'req-1', text: '夜の底が白くなった。' }), altIndex: 1, finishReason: 'length', status: 'proposed' },
    ]);
    expect(ids).toHaveLength(2);
    expect((await ok('history.get', { id: ids[1] })).generation).toMatchObject({ text: '夜の底が白くなった。', groupId: 'req-1', altIndex: 1 });

    await store!.close();
    opened = [];
    // The worker released the file: a Store in this thread opens it (it holds an instance lock) and sees everything.
    const again = await Store.open(path);
    try {
      expect(again.documents.get(doc.id)).toMatchObject({ body: '国境の長いトンネルを抜けると' });
      expect(again.generations.count()).toBe(2);
    } finally {
      again.close();
    }
  });

  it('records all of a generation’s entries or none', async () => {
    const { store, ok } = await open();
    const entry = { ...generation(), altIndex: 0, finishReason: 'eos', status: 'proposed' as const };
    await expect(store!.record([entry, { ...entry, documentId: 999, altIndex: 1 }])).rejects.toMatchObject({ code: 'not_found' });
    expect((await ok('history.list', {})).items).toHaveLength(0);
  });

  it('turns the event loop of this thread while a large import runs', async () => {
    const content = await exportOf(3000);
    const { ok } = await open();
    let turns = 0;
    let importing = true;
    const spin = () => {
      turns++;
      if (importing) setImmediate(spin);
    };
    setImmediate(spin);
    const summary = await ok('history.import', { content, name: 'big.jsonl' }).finally(() => (importing = false));
    expect(summary.generations.added).toBe(3000);
    // In this thread, SQLite's import would have run between two turns; in the worker, turns go on meanwhile.
    expect(turns).toBeGreaterThan(1);
  });

  it('reports a database that cannot be opened, and every request says why', async () => {
    const folder = join(tmp.dir(), 'a-folder.db');
    mkdirSync(folder);
    const { store, storeError, log } = await open(folder);
    expect(store).toBeNull();
    expect(storeError).toMatchObject({ code: expect.any(String), message: expect.stringContaining('a-folder.db') });
    expect(log.join('\n')).toContain('a-folder.db');
  });
});
