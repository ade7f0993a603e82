import type Database from 'better-sqlite3';

/** Raw key → JSON text storage; the settings service validates what it reads. */
export class SettingsRepo {
  private readonly s;

  constructor(db: Database.Database) {
    this.s = {
      all: db.prepare('SELECT key, value FROM settings ORDER BY key'),
      get: db.prepare('SELECT value FROM settings WHERE key = ?'),
      set: db.prepare('INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at'),
      setIfMissing: db.prepare('INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING'),
    };
  }

  /** Values that are not valid JSON come back as undefined: the reader falls back to its default. */
  get(key: string): unknown {
    const row = this.s.get.get(key) as { value: string } | undefined;
    if (!row) return undefined;
    try {
      return JSON.parse(row.value) as unknown;
    } catch {
      return undefined;
    }
  }

  all(): Array<{ key: string; value: string }> {
    return this.s.all.all() as Array<{ key: string; value: string }>;
  }

  set(key: string, value: unknown): void {
    this.s.set.run(key, JSON.stringify(value), Date.now());
  }

  /** For imports: a setting already on this machine wins. Returns whether it was added. */
  setIfMissing(key: string, valueJson: string): boolean {
    return this.s.setIfMissing.run(key, valueJson, Date.now()).changes > 0;
  }
}
