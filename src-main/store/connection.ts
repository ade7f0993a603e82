import { accessSync, closeSync, constants, existsSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { TsuzukiError } from '../contract/errors';
import { listBackups, recoverDamaged, takeBackup, type Recovery } from './backups';
import { APPLICATION_ID, LATEST_VERSION, migrate, migrations as allMigrations, type Migration } from './migrations';
import type { Salvaged } from './salvage';
import { isCorruption, toStoreError } from './sqlite-errors';
import { gramsOf } from './text-index';

export interface OpenOptions {
  /** Create the file when it does not exist (default true). */
  create?: boolean;
  /** On corruption, set the damaged file aside, restore the newest good backup and salvage the damaged file (default false: report it). */
  recover?: boolean;
  /** How long to wait for another process's lock before giving up (default 1000 ms). */
  busyTimeoutMs?: number;
  maxBackups?: number;
  /** While writing, a backup on the first save this long after the newest backup (default 30 minutes). */
  writingBackupEveryMs?: number;
  /** For tests of old schema versions only. */
  migrations?: Migration[];
}

export interface OpenReport {
  path: string;
  created: boolean;
  migratedFrom: number;
  migratedTo: number;
  /** Set when the file was damaged and recovered: the UI must tell the user. */
  recovery: Recovery | null;
}

const SQLITE_HEADER = 'SQLite format 3\0';

/** What the first bytes of the file say it is. */
export function inspectFile(path: string): 'missing' | 'empty' | 'sqlite' | 'truncated' | 'foreign' {
  if (!existsSync(path)) return 'missing';
  const stat = statSync(path);
  if (stat.isDirectory()) throw new TsuzukiError('invalid_argument', `${path} is a folder, not a database file. Choose a file.`);
  if (stat.size === 0) return 'empty';
  const fd = openSync(path, 'r');
  try {
    const header = Buffer.alloc(100);
    const n = readSync(fd, header, 0, 100, 0);
    if (header.toString('latin1', 0, 16) !== SQLITE_HEADER) return n < 16 && SQLITE_HEADER.startsWith(header.toString('latin1', 0, n)) ? 'truncated' : 'foreign';
    if (n < 100) return 'truncated';
    const pageSize = header.readUInt16BE(16) === 1 ? 65536 : header.readUInt16BE(16);
    return stat.size < pageSize ? 'truncated' : 'sqlite';
  } finally {
    closeSync(fd);
  }
}

function checkWritable(path: string, exists: boolean): void {
  const target = exists ? path : dirname(path);
  try {
    accessSync(target, constants.W_OK);
    if (exists) accessSync(dirname(path), constants.W_OK);
  } catch (error) {
    throw new TsuzukiError(
      'read_only',
      exists
        ? `${path} (or its folder) is read-only, and Tsuzuki needs to write next to it. Nothing was changed; fix the permissions or choose another file.`
        : `Cannot create ${path}: the folder is not writable. Choose another location.`,
      { cause: error },
    );
  }
}

function quickCheck(db: Database.Database): string | null {
  const rows = db.pragma('quick_check') as Array<{ quick_check: string }>;
  return rows.length === 1 && rows[0]!.quick_check === 'ok' ? null : rows.map((r) => r.quick_check).slice(0, 5).join('; ');
}

class Damaged extends Error {}

/** Opens the connection, takes the instance lock and checks the file; throws Damaged for a damaged Tsuzuki file. */
function connect(path: string, options: OpenOptions, latest: number): { db: Database.Database; created: boolean } {
  const kind = inspectFile(path);
  if (kind === 'missing' && options.create === false) {
    throw new TsuzukiError('not_found', `${path} does not exist. Check the path, or run the app once to create it.`);
  }
  if (kind === 'foreign') {
    // A file that used to be ours (it has backups) is damaged; anything else is someone else's file.
    if (listBackups(path).length > 0) throw new Damaged('the file header is not SQLite');
    throw new TsuzukiError('foreign_file', `${path} is not a Tsuzuki database (it is not an SQLite file). It was left untouched; choose another file.`);
  }
  if (kind === 'truncated') throw new Damaged('the file is truncated');
  if (kind === 'missing') mkdirSync(dirname(path), { recursive: true });
  checkWritable(path, kind !== 'missing');

  let db: Database.Database;
  try {
    db = new Database(path, { fileMustExist: kind !== 'missing', timeout: options.busyTimeoutMs ?? 1000 });
  } catch (error) {
    throw toStoreError(error, path);
  }
  try {
    // EXCLUSIVE: the lock taken by the first write is held until close, so a second running instance is refused
    // instead of writing beside us; with WAL it also means no -shm file. The OS drops the lock if the process dies.
    db.pragma('locking_mode = EXCLUSIVE');
    // Everything is checked before the first write, so a foreign, newer or damaged file is left exactly as it was.
    const version = db.pragma('user_version', { simple: true }) as number;
    const appId = db.pragma('application_id', { simple: true }) as number;
    const tables = (db.prepare('SELECT count(*) AS n FROM sqlite_schema').get() as { n: number }).n;
    if (appId !== APPLICATION_ID && (version !== 0 || tables !== 0)) {
      throw new TsuzukiError('foreign_file', `${path} is an SQLite database but not a Tsuzuki one. It was left untouched; choose another file.`);
    }
    if (version > latest) {
      throw new TsuzukiError(
        'unsupported',
        `${path} was written by a newer version of Tsuzuki (schema ${version}; this version knows up to ${latest}). ` +
          'It was left untouched; update Tsuzuki to open it.',
      );
    }
    const problem = quickCheck(db);
    if (problem !== null) throw new Damaged(problem);
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('synchronous = NORMAL');
    // After a checkpoint the WAL file is cut back to this, so one big import does not leave a huge file behind.
    db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
    db.function('tsuzuki_grams', { deterministic: true }, (text: unknown) => gramsOf(String(text ?? '')));
    // A write now takes the instance lock at once (reads alone would share the file with another instance).
    db.exec(`BEGIN IMMEDIATE; PRAGMA user_version = ${version}; COMMIT`);
    return { db, created: version === 0 };
  } catch (error) {
    db.close();
    if (error instanceof Damaged) throw error;
    if (isCorruption(error)) {
      if ((error as { code?: string }).code === 'SQLITE_NOTADB' && listBackups(path).length === 0) throw toStoreError(error, path);
      throw new Damaged((error as Error).message);
    }
    throw toStoreError(error, path);
  }
}

/**
 * Opens (or creates) the database at `path`: instance lock, WAL, foreign keys, quick_check, then migrations with a
 * backup before them. A damaged file is reported, or with `recover`, set aside and replaced by the newest good backup,
 * with what could be read from it returned as `salvaged` for the caller to merge — never silently replaced.
 */
export async function openDatabase(path: string, options: OpenOptions = {}): Promise<{ db: Database.Database; report: OpenReport; salvaged: Salvaged | null }> {
  const list = options.migrations ?? allMigrations;
  const latest = options.migrations ? list[list.length - 1]?.version ?? 0 : LATEST_VERSION;
  let recovery: Recovery | null = null;
  let salvaged: Salvaged | null = null;
  let connection: { db: Database.Database; created: boolean };
  try {
    connection = connect(path, options, latest);
  } catch (error) {
    if (!(error instanceof Damaged)) throw error;
    if (!options.recover) {
      const backups = listBackups(path).length;
      throw new TsuzukiError(
        'corrupt_file',
        `${path} is damaged (${error.message}). It was left untouched. ` +
          (backups > 0 ? `${backups} backup(s) exist; ` : 'There is no backup of it; ') +
          'starting the app (or `tsuzuki db recover`) keeps it aside and salvages what can be read from it.',
      );
    }
    ({ recovery, salvaged } = await recoverDamaged(path, error.message));
    connection = connect(path, options, latest);
  }
  const { db, created } = connection;
  try {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > 0 && version < latest) await takeBackup(db, path, `before-v${version + 1}`, options.maxBackups);
    const { from, to } = migrate(db, list);
    return { db, report: { path, created, migratedFrom: from, migratedTo: to, recovery }, salvaged };
  } catch (error) {
    db.close();
    throw toStoreError(error, path);
  }
}

/** Full integrity check (slow on big files; on demand only). */
export function integrityCheck(db: Database.Database): string[] {
  return (db.pragma('integrity_check') as Array<{ integrity_check: string }>).map((r) => r.integrity_check);
}
