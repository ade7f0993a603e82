import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { listBackups, takeBackup } from '../../../src-main/store/backups';
import { useTempDir } from './helpers';

const tmp = useTempDir();

describe('backups', () => {
  it('are closed rollback-journal files, and the half-hourly ones never push out the newest of the others', async () => {
    const store = await tmp.open();
    const path = join(tmp.dir(), 'tsuzuki.db');
    store.documents.create({ title: '原稿', body: '本文。' });
    await takeBackup(store.db, path, 'daily', 2);
    for (let i = 0; i < 3; i++) await takeBackup(store.db, path, 'writing', 2);
    expect(listBackups(path).map((b) => b.reason)).toEqual(['writing', 'writing', 'daily']);
    await takeBackup(store.db, path, 'manual', 2);
    expect(listBackups(path).map((b) => b.reason)).toEqual(['manual', 'writing']);
    for (const backup of listBackups(path)) {
      const copy = new Database(backup.path, { readonly: true });
      expect(copy.pragma('journal_mode', { simple: true })).toBe('delete');
      copy.close();
    }
    expect(readdirSync(`${path}-backups`).filter((name) => !name.endsWith('.sqlite'))).toEqual([]);
  });
});
