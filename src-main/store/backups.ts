import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { TsuzukiError } from '../util/errors';
import { startWorker } from '../util/worker';
import { APPLICATION_ID } from './migrations';

/** How many backups are kept per database; the oldest is removed when a new one is taken. */
export const DEFAULT_MAX_BACKUPS = 5;

export interface BackupInfo {
  path: string;
  createdAt: number;
  reason: string;
  bytes: number;
}

/** Backups of `/x/tsuzuki.db` live in `/x/tsuzuki.db-backups/`. */
function backupDir(dbPath: string): string {
  return `${dbPath}-backups`;
}

function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace('.', '');
}

// Orders backups taken within the same millisecond.
let backupCounter = 0;

const NAME = /^(\d{8}T\d{9}Z)-(\d+)-([a-z0-9-]+)\.sqlite$/;

function parseStamp(s: string): number {
  const iso = `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(9, 11)}:${s.slice(11, 13)}:${s.slice(13, 15)}.${s.slice(15, 18)}Z`;
  return Date.parse(iso);
}

/** Newest first. */
export function listBackups(dbPath: string): BackupInfo[] {
  const dir = backupDir(dbPath);
  if (!existsSync(dir)) return [];
  const found: Array<BackupInfo & { seq: number }> = [];
  for (const name of readdirSync(dir)) {
    const match = NAME.exec(name);
    if (!match) continue;
    const path = join(dir, name);
    found.push({ path, createdAt: parseStamp(match[1]!), seq: Number(match[2]), reason: match[3]!, bytes: statSync(path).size });
  }
  found.sort((a, b) => b.createdAt - a.createdAt || b.seq - a.seq);
  return found.map(({ seq: _seq, ...info }) => info);
}

/** Opens a backup read-only and checks it fully; returns null when it is good, else what is wrong. */
export function verifyBackup(path: string): string | null {
  let db: Database.Database | null = null;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    if (db.pragma('application_id', { simple: true }) !== APPLICATION_ID) return 'not a Tsuzuki database';
    const rows = db.pragma('integrity_check') as Array<{ integrity_check: string }>;
    return rows.length === 1 && rows[0]!.integrity_check === 'ok' ? null : rows.map((r) => r.integrity_check).join('; ');
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    db?.close();
  }
}

/** verifyBackup in a worker thread, so that checking a large backup never freezes the app. */
function verifyBackupOffThread(path: string): Promise<string | null> {
  return new Promise((resolve) => {
    const worker = startWorker('sqlite-check', { workerData: { path } });
    let answered = false;
    worker.once('message', (message: { problem: string | null }) => {
      answered = true;
      resolve(message.problem);
    });
    worker.once('error', (error) => {
      answered = true;
      resolve(`could not be checked: ${error.message}`);
    });
    worker.once('exit', (code) => {
      if (!answered) resolve(`could not be checked (worker exited with ${code})`);
    });
  });
}

/**
 * Takes an online backup through SQLite's backup API (consistent even while the app writes), verifies it and
 * keeps only the newest `max` backups.
 */
export async function takeBackup(db: Database.Database, dbPath: string, reason: string, max = DEFAULT_MAX_BACKUPS): Promise<BackupInfo> {
  const dir = backupDir(dbPath);
  mkdirSync(dir, { recursive: true });
  const now = Date.now();
  const seq = backupCounter++;
  const path = join(dir, `${stamp(now)}-${seq}-${reason}.sqlite`);
  try {
    await db.backup(path);
  } catch (error) {
    rmSync(path, { force: true });
    const code = (error as { code?: string }).code ?? '';
    if (code.startsWith('SQLITE_FULL') || (error as NodeJS.ErrnoException).code === 'ENOSPC') {
      throw new TsuzukiError('disk_full', `No space left to back up ${dbPath} into ${dir}. Free some space and try again.`, { cause: error });
    }
    throw new TsuzukiError('internal', `Backing up ${dbPath} into ${dir} failed: ${(error as Error).message}`, { cause: error });
  }
  const problem = await verifyBackupOffThread(path);
  if (problem !== null) {
    rmSync(path, { force: true });
    throw new TsuzukiError('internal', `The backup of ${dbPath} did not verify (${problem}); it was discarded.`);
  }
  for (const old of listBackups(dbPath).slice(max)) rmSync(old.path, { force: true });
  return { path, createdAt: now, reason, bytes: statSync(path).size };
}

export interface Recovery {
  damagedPath: string;
  backupPath: string;
  backupCreatedAt: number;
  problem: string;
}

/**
 * Replaces a damaged database by its newest good backup. The damaged file (and its -wal) is renamed aside, never
 * deleted; when no backup is good, nothing is touched and the error says so.
 */
export async function restoreNewestGoodBackup(dbPath: string, problem: string): Promise<Recovery> {
  let good: BackupInfo | undefined;
  for (const backup of listBackups(dbPath)) {
    if ((await verifyBackupOffThread(backup.path)) === null) {
      good = backup;
      break;
    }
  }
  if (!good) {
    throw new TsuzukiError(
      'corrupt_file',
      `${dbPath} is damaged (${problem}) and there is no good backup in ${backupDir(dbPath)}. The file was left untouched; ` +
        'copy it somewhere safe and try `tsuzuki db check`, or open another database.',
    );
  }
  const damagedPath = join(dirname(dbPath), `${basename(dbPath)}.damaged-${stamp(Date.now())}`);
  renameSync(dbPath, damagedPath);
  for (const suffix of ['-wal', '-shm', '-journal']) {
    if (existsSync(dbPath + suffix)) renameSync(dbPath + suffix, damagedPath + suffix);
  }
  const source = new Database(good.path, { readonly: true, fileMustExist: true });
  try {
    await source.backup(dbPath);
  } finally {
    source.close();
  }
  return { damagedPath, backupPath: good.path, backupCreatedAt: good.createdAt, problem };
}
