import { constants, copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/**
 * Runs `read` on a read-only connection to a private copy of the database at `path` (with its `-wal`, which holds
 * committed writes too), in a temp folder removed afterwards. SQLite opening a WAL-mode file, even read-only, creates
 * `-wal`/`-shm` files beside it and refuses a read-only folder; a check or a salvage must leave the file and its
 * folder exactly as they were.
 */
export function withPrivateCopy<T>(path: string, read: (db: Database.Database) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'tsuzuki-copy-'));
  try {
    const copy = join(dir, 'copy.db');
    copyFileSync(path, copy, constants.COPYFILE_FICLONE);
    if (existsSync(`${path}-wal`)) copyFileSync(`${path}-wal`, `${copy}-wal`, constants.COPYFILE_FICLONE);
    const db = new Database(copy, { readonly: true, fileMustExist: true });
    try {
      return read(db);
    } finally {
      db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
