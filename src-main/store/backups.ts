import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { TsuzukiError } from '../contract/errors';
import { startWorker } from '../util/worker';
import { APPLICATION_ID } from './migrations';
import { readSalvage, type Salvaged, type SalvageReport } from './salvage';

/** How many backups are kept per database; the oldest is removed when a new one is taken. */
export const DEFAULT_MAX_BACKUPS = 5;
/** The reason of the backups taken while writing (Store.backupWhileWriting). */
export const WRITING_REASON = 'writing';

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
 * A backup copies the live database's pages, header included, so it would be a WAL-mode file: opening it (to verify
 * or restore it) would leave -wal/-shm files beside it. In rollback-journal mode it is one closed, self-contained file.
 */
function selfContained(path: string): void {
  const copy = new Database(path, { fileMustExist: true });
  try {
    // EXCLUSIVE first: no -shm is ever created for the switch.
    copy.pragma('locking_mode = EXCLUSIVE');
    copy.pragma('journal_mode = DELETE');
  } finally {
    copy.close();
  }
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
  // Written under another name and renamed once verified: a backup cut short (a crash, a full disk) is never listed.
  const partial = `${path}.partial`;
  try {
    await db.backup(partial);
    selfContained(partial);
  } catch (error) {
    for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(partial + suffix, { force: true });
    const code = (error as { code?: string }).code ?? '';
    if (code.startsWith('SQLITE_FULL') || (error as NodeJS.ErrnoException).code === 'ENOSPC') {
      throw new TsuzukiError('disk_full', `No space left to back up ${dbPath} into ${dir}. Free some space and try again.`, { cause: error });
    }
    throw new TsuzukiError('internal', `Backing up ${dbPath} into ${dir} failed: ${(error as Error).message}`, { cause: error });
  }
  const problem = await verifyBackupOffThread(partial);
  if (problem !== null) {
    rmSync(partial, { force: true });
    throw new TsuzukiError('internal', `The backup of ${dbPath} did not verify (${problem}); it was discarded.`);
  }
  renameSync(partial, path);
  // Backups taken while writing come every half hour; they never push out the newest of the others (the daily one,
  // the one before a migration), which reaches furthest back.
  const all = listBackups(dbPath);
  const anchor = all.find((b) => b.reason !== WRITING_REASON);
  for (const old of all.slice(max)) if (old !== anchor) rmSync(old.path, { force: true });
  return { path, createdAt: now, reason, bytes: statSync(path).size };
}

export interface Recovery {
  damagedPath: string;
  /** The backup the database was restored from; null when none was good (the salvage went into a new database). */
  backupPath: string | null;
  backupCreatedAt: number | null;
  problem: string;
  /** What was taken from the damaged file (set once merged). */
  salvage: SalvageReport | null;
}

/**
 * Recovers a damaged database: reads what it can from it (salvage.ts), sets the damaged file (and its -wal) aside,
 * never deleting it, and puts the newest good backup in its place (or nothing, for a new database, when no backup
 * is good). When there is neither a good backup nor a readable row, nothing is touched and the error says so. The
 * caller merges `salvaged` once the database is open.
 */
export async function recoverDamaged(dbPath: string, problem: string): Promise<{ recovery: Recovery; salvaged: Salvaged }> {
  const salvaged = readSalvage(dbPath);
  let good: BackupInfo | undefined;
  for (const backup of listBackups(dbPath)) {
    if ((await verifyBackupOffThread(backup.path)) === null) {
      good = backup;
      break;
    }
  }
  if (!good && salvaged.records.length === 0) {
    throw new TsuzukiError(
      'corrupt_file',
      `${dbPath} is damaged (${problem}), nothing in it could be read, and there is no good backup in ${backupDir(dbPath)}. ` +
        'The file was left untouched; copy it somewhere safe and try `tsuzuki db check`, or open another database.',
    );
  }
  const damagedPath = join(dirname(dbPath), `${basename(dbPath)}.damaged-${stamp(Date.now())}`);
  renameSync(dbPath, damagedPath);
  for (const suffix of ['-wal', '-shm', '-journal']) {
    if (existsSync(dbPath + suffix)) renameSync(dbPath + suffix, damagedPath + suffix);
  }
  if (good) {
    const source = new Database(good.path, { readonly: true, fileMustExist: true });
    try {
      await source.backup(dbPath);
    } finally {
      source.close();
    }
  }
  return {
    recovery: { damagedPath, backupPath: good?.path ?? null, backupCreatedAt: good?.createdAt ?? null, problem, salvage: null },
    salvaged,
  };
}

/** What a recovery did, in one paragraph for the log and the CLI (the UI words it from the same fields). */
export function describeRecovery(dbPath: string, r: Recovery): string {
  const parts = [
    `${dbPath} was damaged (${r.problem}); the damaged file is kept at ${r.damagedPath}.`,
    r.backupPath !== null && r.backupCreatedAt !== null
      ? `Restored from the backup of ${new Date(r.backupCreatedAt).toISOString()} (${r.backupPath}).`
      : 'No good backup: a new database was started.',
  ];
  const s = r.salvage;
  if (s) {
    parts.push(
      `Salvaged from the damaged file: ${s.documents.added} new and ${s.documents.updated} newer document(s) (${s.documents.unchanged} already up to date), ` +
        `${s.generations.added} generation(s).`,
    );
    const { documents, revisions, generations } = s.unreadable;
    const upTo = (n: number | null, what: string) => (n === null ? `an unknown number of ${what}s` : `up to ${n} ${what}(s)`);
    if (documents !== 0 || revisions !== 0 || generations !== 0) {
      parts.push(`Unreadable: ${upTo(documents, 'document')}, ${upTo(revisions, 'revision')}, ${upTo(generations, 'generation')}.`);
    }
    if (s.incomplete.length > 0) parts.push(`Newest text not readable whole (an older version was kept): ${s.incomplete.slice(0, 20).map((t) => `「${t}」`).join(', ')}.`);
    if (s.error !== null) parts.push(`Salvage incomplete: ${s.error}.`);
  }
  return parts.join(' ');
}
