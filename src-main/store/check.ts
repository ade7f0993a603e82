/**
 * `tsuzuki db check`: a full check of a database file that writes nothing — not the file, and nothing beside it.
 * SQLite opening a WAL-mode file even read-only creates `-wal`/`-shm` files next to it, and refuses a read-only
 * folder; so the check reads a private copy (with its `-wal`, which holds committed writes too) in a temp folder.
 */
import { constants, copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { TsuzukiError } from '../util/errors';
import { listBackups, type BackupInfo } from './backups';
import { inspectFile } from './connection';
import { APPLICATION_ID } from './migrations';
import { isCorruption, toStoreError } from './sqlite-errors';

export interface FileCheck {
  path: string;
  ok: boolean;
  /** `['ok']` or SQLite's list of problems. */
  integrity: string[];
  schemaVersion: number;
  /** null when the damage keeps them from being counted. */
  documents: number | null;
  generations: number | null;
  backups: BackupInfo[];
}

function countOrNull(db: Database.Database, table: string): number | null {
  try {
    return db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
  } catch (error) {
    if (isCorruption(error)) return null;
    throw error;
  }
}

export function checkFile(path: string): FileCheck {
  const kind = inspectFile(path);
  if (kind === 'missing') throw new TsuzukiError('not_found', `${path} does not exist. Check the path.`);
  if (kind === 'empty' || kind === 'foreign') {
    throw new TsuzukiError('foreign_file', `${path} is not a Tsuzuki database (it is not an SQLite file). It was left untouched.`);
  }
  if (kind === 'truncated') throw new TsuzukiError('corrupt_file', `${path} is damaged (the file is truncated). It was left untouched.`);
  const dir = mkdtempSync(join(tmpdir(), 'tsuzuki-check-'));
  try {
    const copy = join(dir, 'check.db');
    copyFileSync(path, copy, constants.COPYFILE_FICLONE);
    if (existsSync(`${path}-wal`)) copyFileSync(`${path}-wal`, `${copy}-wal`, constants.COPYFILE_FICLONE);
    let db: Database.Database;
    try {
      db = new Database(copy, { readonly: true, fileMustExist: true });
    } catch (error) {
      throw toStoreError(error, path);
    }
    try {
      const appId = db.pragma('application_id', { simple: true }) as number;
      const schemaVersion = db.pragma('user_version', { simple: true }) as number;
      if (appId !== APPLICATION_ID) throw new TsuzukiError('foreign_file', `${path} is an SQLite database but not a Tsuzuki one. It was left untouched.`);
      const integrity = (db.pragma('integrity_check') as Array<{ integrity_check: string }>).map((r) => r.integrity_check);
      return {
        path,
        ok: integrity.length === 1 && integrity[0] === 'ok',
        integrity,
        schemaVersion,
        documents: countOrNull(db, 'documents'),
        generations: countOrNull(db, 'generations'),
        backups: listBackups(path),
      };
    } catch (error) {
      throw isCorruption(error) ? new TsuzukiError('corrupt_file', `${path} is damaged (${(error as Error).message}). It was left untouched.`, { cause: error }) : toStoreError(error, path);
    } finally {
      db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
