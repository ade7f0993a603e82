import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../../src-main/store/store';
import { startChild } from './spawn';

let dir: string | null = null;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = null;
});

describe('kill -9 in the middle of autosaves and inserts', () => {
  it('loses no write that returned, and the file passes integrity_check', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tsuzuki-crash-'));
    const path = join(dir, 'tsuzuki.db');
    const acks: Array<Record<string, unknown>> = [];
    let killedAfter = -1;
    const { child, exited } = startChild(['writer', path], (msg) => {
      acks.push(msg);
      // Kill at an arbitrary point mid-stream, right after an ack arrives, while the child keeps writing.
      if (killedAfter < 0 && msg.kind === 'save' && (msg.i as number) >= 120) {
        killedAfter = msg.i as number;
        child.kill('SIGKILL');
      }
    });
    await exited;
    expect(killedAfter).toBeGreaterThanOrEqual(120);
    const saves = acks.filter((m) => m.kind === 'save');
    const gens = acks.filter((m) => m.kind === 'gen');
    const lastSave = saves[saves.length - 1]!.i as number;
    const docId = acks.find((m) => m.kind === 'doc')!.id as number;

    const store = await Store.open(path);
    try {
      expect(store.check()).toMatchObject({ ok: true, integrity: ['ok'] });
      const body = store.documents.get(docId).body;
      const version = Number(/^第(\d+)版。/.exec(body)?.[1]);
      // The last acknowledged save is there (or the one after it, which finished before its ack was printed).
      expect(version === lastSave || version === lastSave + 1).toBe(true);
      for (const g of gens) expect(store.generations.findByUuid(g.uuid as string)?.id).toBe(g.id);
      // The search index agrees with the text that survived.
      expect(store.documentSearch.search(`第${version}版`, 5).map((h) => h.documentId)).toEqual([docId]);
    } finally {
      store.close();
    }
  });
});
