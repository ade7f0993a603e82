/**
 * `tsuzuki db check`: a full check of a database file that writes nothing — not the file, and nothing beside it.
 * It reads a private copy (see private-copy.ts).
 */
import type Database from 'better-sqlite3';
import { TsuzukiError } from '../contract/errors';
import { listBackups, type BackupInfo } from './backups';
import { inspectFile } from './connection';
import { APPLICATION_ID } from './migrations';
import { withPrivateCopy } from './private-copy';
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
  try {
    return withPrivateCopy(path, (db) => {
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
    });
  } catch (error) {
    if (isCorruption(error) && (error as { code?: string }).code !== 'SQLITE_NOTADB') {
      throw new TsuzukiError('corrupt_file', `${path} is damaged (${(error as Error).message}). It was left untouched.`, { cause: error });
    }
    throw toStoreError(error, path);
  }
}
