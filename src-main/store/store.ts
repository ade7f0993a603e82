import type Database from 'better-sqlite3';
import { takeBackup, listBackups, DEFAULT_MAX_BACKUPS, WRITING_REASON, type BackupInfo } from './backups';
import { integrityCheck, openDatabase, type OpenOptions, type OpenReport } from './connection';
import { DocumentSearch } from './document-search';
import { DocumentsRepo } from './documents';
import { GenerationsRepo } from './generations';
import { applySalvage } from './salvage';
import { SettingsRepo } from './settings';
import { guard } from './sqlite-errors';
import { exportAll, importJsonl, type ImportSummary } from './transfer';

/** Wait this long after a save before indexing (typing usually goes on), then work in slices of this many ms. */
const INDEX_DELAY_MS = 500;
const INDEX_SLICE_MS = 8;
const INDEX_RETRY_MS = 10_000;

export interface CheckResult {
  path: string;
  ok: boolean;
  /** `['ok']` or SQLite's list of problems. */
  integrity: string[];
  schemaVersion: number;
  documents: number;
  generations: number;
  backups: BackupInfo[];
}

/** While writing, a backup on the first save this long after the newest one (the daily one at start is the floor). */
const WRITING_BACKUP_MS = 30 * 60_000;

/** The app's one database: documents, generations, settings. Opened once per process (it holds an instance lock). */
export class Store {
  readonly documents: DocumentsRepo;
  readonly documentSearch: DocumentSearch;
  readonly generations: GenerationsRepo;
  readonly settings: SettingsRepo;
  private checkpointTimer: NodeJS.Timeout | null = null;
  private indexTimer: NodeJS.Timeout | null = null;
  /** When the newest backup was taken or last tried (a failing one is retried after the interval, not on every save). */
  private lastBackupAt: number;
  private backingUp = false;

  private constructor(
    readonly db: Database.Database,
    readonly path: string,
    readonly report: OpenReport,
    private readonly maxBackups: number,
    private readonly writingBackupEveryMs: number,
  ) {
    // With no backup yet, the interval counts from the open (the app takes one at start anyway).
    this.lastBackupAt = listBackups(path)[0]?.createdAt ?? Date.now();
    this.documents = new DocumentsRepo(db);
    this.documentSearch = new DocumentSearch(db);
    this.generations = new GenerationsRepo(db);
    this.settings = new SettingsRepo(db);
    this.documents.onQueued = () => this.scheduleIndexing(INDEX_DELAY_MS);
    this.scheduleIndexing(INDEX_DELAY_MS);
  }

  /**
   * The document search index catches up in the background, a few milliseconds at a time, shortly after the
   * typing stops; a search does the rest at once. A failure (disk full) is retried later: the queue is in the database.
   */
  private scheduleIndexing(delayMs: number): void {
    if (this.indexTimer || !this.db.open) return;
    this.indexTimer = setTimeout(() => {
      this.indexTimer = null;
      if (!this.db.open) return;
      let more: boolean;
      try {
        more = this.documentSearch.indexStep(INDEX_SLICE_MS);
      } catch {
        this.scheduleIndexing(INDEX_RETRY_MS);
        return;
      }
      if (more) this.scheduleIndexing(0);
    }, delayMs);
    this.indexTimer.unref();
  }

  static async open(path: string, options: OpenOptions = {}): Promise<Store> {
    const { db, report, salvaged } = await openDatabase(path, options);
    const store = new Store(db, path, report, options.maxBackups ?? DEFAULT_MAX_BACKUPS, options.writingBackupEveryMs ?? WRITING_BACKUP_MS);
    if (report.recovery && salvaged) report.recovery.salvage = applySalvage(store, salvaged);
    // Before this run can propose anything: what is still proposed belongs to a run that has ended.
    store.run(() => store.generations.interruptProposed());
    return store;
  }

  /** Runs store work, turning SQLite failures (disk full, read-only…) into TsuzukiErrors that name the file. */
  run<T>(fn: (store: this) => T): T {
    return guard(this.path, () => fn(this));
  }

  /**
   * Checkpoints the WAL into the database every `everyMs` so it stays small and a crash replays little, instead of
   * SQLite's automatic checkpoint inside whichever commit crosses 1,000 pages (an insert that would then take tens of
   * ms). PASSIVE never blocks writers; the timer does not keep the process alive.
   */
  startCheckpoints(everyMs = 30_000): void {
    this.stopCheckpoints();
    this.db.pragma('wal_autocheckpoint = 0');
    this.checkpointTimer = setInterval(() => {
      try {
        this.db.pragma('wal_checkpoint(PASSIVE)');
      } catch {
        // A failed checkpoint is retried next time; the WAL still holds every committed write.
      }
    }, everyMs);
    this.checkpointTimer.unref();
  }

  private stopCheckpoints(): void {
    if (this.checkpointTimer) clearInterval(this.checkpointTimer);
    this.checkpointTimer = null;
    if (this.db.open) this.db.pragma('wal_autocheckpoint = 1000');
  }

  check(): CheckResult {
    return this.run(() => {
      const integrity = integrityCheck(this.db);
      return {
        path: this.path,
        ok: integrity.length === 1 && integrity[0] === 'ok',
        integrity,
        schemaVersion: this.db.pragma('user_version', { simple: true }) as number,
        documents: this.db.prepare('SELECT count(*) FROM documents').pluck().get() as number,
        generations: this.generations.count(),
        backups: listBackups(this.path),
      };
    });
  }

  async backup(reason = 'manual'): Promise<BackupInfo> {
    const info = await takeBackup(this.db, this.path, reason, this.maxBackups);
    this.lastBackupAt = Math.max(this.lastBackupAt, info.createdAt);
    return info;
  }

  /**
   * Called after each save that changed something: a backup in the background when the newest one is older than the
   * interval, so a damaged file never costs more than that much writing, even without salvage. SQLite's online backup
   * copies a few pages per turn of the event loop (better-sqlite3), so typing goes on meanwhile; it cannot move to a
   * worker, which could not open the file this connection holds locked. Resolves to null when none was due.
   */
  backupWhileWriting(): Promise<BackupInfo | null> {
    if (this.backingUp || Date.now() - this.lastBackupAt < this.writingBackupEveryMs) return Promise.resolve(null);
    this.backingUp = true;
    this.lastBackupAt = Date.now();
    return this.backup(WRITING_REASON).finally(() => (this.backingUp = false));
  }

  /** A backup when the newest one is older than `maxAgeMs` (the app calls this at start: a daily safety net). */
  async backupIfOlderThan(maxAgeMs: number, reason = 'daily'): Promise<BackupInfo | null> {
    const newest = listBackups(this.path)[0];
    if (newest && Date.now() - newest.createdAt < maxAgeMs) return null;
    return this.backup(reason);
  }

  exportAll(): Generator<string> {
    return exportAll(this);
  }

  importJsonl(content: string, source: string): ImportSummary {
    return this.run(() => importJsonl(this, content, source));
  }

  close(): void {
    this.stopCheckpoints();
    if (this.indexTimer) clearTimeout(this.indexTimer);
    this.indexTimer = null;
    if (!this.db.open) return;
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      this.db.close();
    }
  }
}
