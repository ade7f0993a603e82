import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { EMPTY_DOCUMENT_AIDS } from '../../../src-main/contract/document-aids';
import { countChars } from '../../../src-main/manuscript/counts';
import { listBackups } from '../../../src-main/store/backups';
import { openDatabase } from '../../../src-main/store/connection';
import { LATEST_VERSION, migrations } from '../../../src-main/store/migrations';
import { Store } from '../../../src-main/store/store';
import { useTempDir } from './helpers';

const tmp = useTempDir();
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** What a user of each schema version had in their database, written with that version's SQL. */
const seeds: Record<number, (db: Database.Database) => void> = {
  1: (db) => {
    db.prepare("INSERT INTO documents (id, uuid, title, created_at, updated_at, char_count, preview) VALUES (1, 'doc-1', '雪国', 100, 200, 12, '国境の長いトンネル')").run();
    db.prepare("INSERT INTO document_bodies (document_id, body) VALUES (1, '国境の長いトンネルを抜けると雪国であった。\n猫が一匹。')").run();
    db.prepare("INSERT INTO document_revisions (document_id, body, created_at, reason) VALUES (1, '国境の', 150, 'periodic')").run();
    db.prepare(`INSERT INTO settings (key, value, updated_at) VALUES ('ui', '{"fontSize":20}', 1)`).run();
  },
  2: (db) => {
    db.prepare(`INSERT INTO generations (uuid, document_id, group_id, alt_index, context_before, context_after, text, token_ids, params, seed,
      model_id, precision, device, timings, status, created_at)
      VALUES ('gen-1', 1, 'g', 0, '国境の', '', '夜の底が白くなった。猫', x'01000000', '{"topK":500}', 7, 'rinna', 'fp32', 'cpu', '{}', 'accepted', 300)`).run();
  },
  3: (db) => {
    db.prepare("UPDATE documents SET memo = '島村と駒子', writing_mode = 'vertical' WHERE id = 1").run();
  },
  4: (db) => {
    // Version 4 kept chunk texts in document_chunks, indexed by triggers.
    db.prepare("INSERT INTO documents (id, uuid, title, created_at, updated_at, char_count, preview) VALUES (2, 'doc-2', '春', 300, 300, 12, '春の小川')").run();
    db.prepare("INSERT INTO document_bodies (document_id, body) VALUES (2, '春の小川はさらさら行くよ')").run();
    db.prepare("INSERT INTO document_chunks (document_id, hash, body) VALUES (2, 'old-hash', '春の小川はさらさら行くよ')").run();
  },
  5: (db) => {
    // Version 5 kept revisions as copied text.
    db.prepare("INSERT INTO document_revisions (document_id, body, created_at, reason) VALUES (2, '春の小川は', 350, 'periodic')").run();
  },
  6: (db) => {
    db.prepare(`INSERT INTO settings (key, value, updated_at) VALUES ('shortcuts', '{"generation.start":"Mod+Enter"}', 2)`).run();
  },
  7: (db) => {
    // Still proposed when that version was closed: it can no longer be accepted.
    db.prepare(`INSERT INTO generations (uuid, document_id, group_id, alt_index, context_before, context_after, text, token_ids, params, seed,
      model_id, precision, device, timings, status, created_at)
      VALUES ('gen-2', 1, 'h', 0, '国境の', '', '信号所に汽車が止まった。', x'02000000', '{}', 8, 'rinna', 'fp32', 'cpu', '{}', 'proposed', 400)`).run();
  },
  8: (db) => {
    db.prepare("UPDATE documents SET generated_ranges = '[[0,3]]' WHERE id = 1").run();
  },
  9: (db) => {
    // A retry at the same point as gen-1, before the branches were indexed.
    db.prepare(`INSERT INTO generations (uuid, document_id, group_id, alt_index, context_before, context_after, text, token_ids, params, seed,
      model_id, precision, device, timings, status, created_at)
      VALUES ('gen-3', 1, 'i', 0, '国境の', '', '長いトンネル。', x'03000000', '{}', 9, 'rinna', 'fp32', 'cpu', '{}', 'rejected', 500)`).run();
  },
  10: (db) => {
    // Counted before the one rule: the line break and the ruby's reading and marks were counted.
    const body = '｜駒子《こまこ》は\n笑った。';
    db.prepare("INSERT INTO documents (id, uuid, title, created_at, updated_at, char_count, preview) VALUES (3, 'doc-3', '駒子', 600, 600, 14, '')").run();
    const chunk = Number(db.prepare("INSERT INTO document_chunks (document_id, hash) VALUES (3, 'h3')").run().lastInsertRowid);
    db.prepare('INSERT INTO document_chunk_texts (chunk_id, body) VALUES (?, ?)').run(chunk, body);
    db.prepare('UPDATE documents SET chunk_ids = ? WHERE id = 3').run(String(chunk));
    db.prepare("INSERT INTO document_revisions (document_id, body, created_at, reason, char_count, preview) VALUES (3, '', 650, 'periodic', 14, '')").run();
    db.prepare('UPDATE document_revisions SET chunk_ids = ? WHERE document_id = 3').run(String(chunk));
    db.prepare('INSERT INTO revision_chunks (revision_id, chunk_id) SELECT id, ? FROM document_revisions WHERE document_id = 3').run(chunk);
  },
};

async function databaseAt(version: number): Promise<string> {
  // As a user would have: each version's data written by that version, then the app upgraded.
  const path = join(tmp.dir(), `v${version}.db`);
  for (let v = 1; v <= version; v++) {
    const { db } = await openDatabase(path, { migrations: migrations.filter((m) => m.version <= v) });
    seeds[v]?.(db);
    db.close();
  }
  rmSync(`${path}-backups`, { recursive: true, force: true });
  return path;
}

describe('migrations', () => {
  it('are numbered 1, 2, 3… and each has a seed here (add one with every new migration)', () => {
    expect(migrations.map((m) => m.version)).toEqual(migrations.map((_, i) => i + 1));
    for (const m of migrations.slice(0, -1)) expect(seeds[m.version], `seed for v${m.version}`).toBeDefined();
  });

  it('create the latest schema on a new file', async () => {
    const store = await tmp.open();
    expect(store.report).toMatchObject({ created: true, migratedFrom: 0, migratedTo: LATEST_VERSION, recovery: null });
    expect(store.db.pragma('user_version', { simple: true })).toBe(LATEST_VERSION);
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(listBackups(store.path)).toEqual([]);
  });

  for (const from of migrations.map((m) => m.version).filter((v) => v < LATEST_VERSION)) {
    it(`upgrade a database made by schema version ${from}, keeping its data, after a backup`, async () => {
      const path = await databaseAt(from);
      const store = await Store.open(path);
      try {
        expect(store.report).toMatchObject({ created: false, migratedFrom: from, migratedTo: LATEST_VERSION });
        const backups = listBackups(path);
        expect(backups).toHaveLength(1);
        expect(backups[0]!.reason).toBe(`before-v${from + 1}`);
        const old = new Database(backups[0]!.path, { readonly: true });
        expect(old.pragma('user_version', { simple: true })).toBe(from);
        old.close();

        const doc = store.documents.get(1);
        expect(doc).toMatchObject({ uuid: 'doc-1', title: '雪国', body: '国境の長いトンネルを抜けると雪国であった。\n猫が一匹。', updatedAt: 200 });
        expect(doc.memo).toBe(from >= 3 ? '島村と駒子' : '');
        expect(doc.writingMode).toBe(from >= 3 ? 'vertical' : 'horizontal');
        expect(store.documents.revisions(1).map((r) => r.createdAt)).toEqual([150]);
        expect(store.settings.get('ui')).toEqual({ fontSize: 20 });
        // The search indexes cover rows written before they existed.
        expect(store.documentSearch.search('猫', 10).map((h) => h.documentId)).toEqual([1]);
        expect(store.documentSearch.search('トンネル', 10).map((h) => h.documentId)).toEqual([1]);
        if (from >= 2) {
          expect(store.generations.get(1)).toMatchObject({ uuid: 'gen-1', status: 'accepted', tokenIds: [1], params: { topK: 500 }, seed: 7 });
          expect(store.generations.search('猫', {}, 10, null).map((h) => h.id)).toEqual([1]);
          expect(store.generations.search('白くな', {}, 10, null).map((h) => h.id)).toEqual([1]);
        }
        if (from >= 5) {
          const [revision] = store.documents.revisions(2);
          expect(revision).toMatchObject({ createdAt: 350, charCount: 5, preview: '春の小川は' });
          expect(store.documents.revision(revision!.id).body).toBe('春の小川は');
        }
        if (from >= 4) {
          expect(store.documentSearch.search('小川', 10).map((h) => h.documentId)).toEqual([2]);
          expect(store.documentSearch.search('さらさら', 10).map((h) => h.documentId)).toEqual([2]);
        }
        if (from >= 7) {
          expect(store.generations.get(2)).toMatchObject({ uuid: 'gen-2', status: 'interrupted' });
          expect(store.generations.search('信号所', {}, 10, null).map((h) => h.id)).toEqual([2]);
          expect(store.generations.search('汽', {}, 10, null).map((h) => h.id)).toEqual([2]);
        }
        // Text from before v7 has no record of what came from the model.
        expect(doc.generatedRanges).toEqual(from >= 8 ? [[0, 3]] : []);
        // The generations at a point are found in what was stored before migration 10 indexed them.
        const atPoint = [[2, 'gen-1'], [7, 'gen-2'], [9, 'gen-3']].filter(([v]) => from >= (v as number)).map(([, uuid]) => uuid);
        expect(store.generations.branches(1, '国境の').nodes.map((n) => store.generations.get(n.id).uuid)).toEqual(atPoint);
        // Documents from before v9 have no aids: every part at its defaults.
        expect(doc.aids).toEqual(EMPTY_DOCUMENT_AIDS);
        // Every stored 文字数 follows the one rule, whatever counted it before.
        expect(store.documents.summary(1).charCount).toBe(countChars(doc.body));
        for (const r of store.documents.revisions(1)) expect(r.charCount).toBe(countChars(store.documents.revision(r.id).body));
        if (from >= 10) {
          expect(store.documents.summary(3).charCount).toBe(7);
          expect(store.documents.revisions(3).map((r) => r.charCount)).toEqual([7]);
        }
        expect(store.check().ok).toBe(true);
      } finally {
        store.close();
      }
    });
  }

  it('run each in one transaction: a failing migration leaves the database at the previous version', async () => {
    const path = await databaseAt(LATEST_VERSION);
    const broken = [...migrations, { version: LATEST_VERSION + 1, name: 'broken', up: (db: Database.Database) => {
      db.exec('CREATE TABLE half_done (x)');
      throw new Error('boom');
    } }];
    await expect(openDatabase(path, { migrations: broken })).rejects.toThrow('boom');
    const db = new Database(path, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(LATEST_VERSION);
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE name = 'half_done'").get()).toEqual({ n: 0 });
    db.close();
  });

  it('refuse a database from a newer version of the app, touching nothing', async () => {
    const path = await databaseAt(LATEST_VERSION);
    const db = new Database(path);
    db.pragma(`user_version = ${LATEST_VERSION + 1}`);
    db.close();
    const before = sha(path);
    await expect(Store.open(path)).rejects.toMatchObject({ code: 'unsupported', message: expect.stringContaining('newer version of Tsuzuki') });
    expect(sha(path)).toBe(before);
  });
});
