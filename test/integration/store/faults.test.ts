import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, closeSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store } from '../../../src-main/store/store';
import { runChild, startChild } from './spawn';

let dir: string;
let path: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsuzuki-faults-'));
  path = join(dir, 'tsuzuki.db');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

/** A database with 30 documents, a backup of it, and one more document written after the backup. */
async function databaseWithBackup(): Promise<void> {
  const store = await Store.open(path);
  for (let i = 0; i < 30; i++) store.documents.create({ title: `doc ${i}`, body: '本文。'.repeat(1500) });
  await store.backup();
  store.documents.create({ title: 'after the backup' });
  store.close();
}

const damages: Record<string, () => void> = {
  'truncated to half': () => truncateSync(path, Math.floor(statSync(path).size / 2)),
  'pages overwritten with garbage': () => {
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(16384, 0xab), 0, 16384, 4096 * 4);
    closeSync(fd);
  },
  'header overwritten': () => {
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(100, 0x41), 0, 100, 0);
    closeSync(fd);
  },
  'truncated inside the header': () => truncateSync(path, 50),
};

describe('a damaged database', () => {
  for (const [name, damage] of Object.entries(damages)) {
    it(`${name}: reported without touching it, then restored from the newest good backup with the damaged file kept`, async () => {
      await databaseWithBackup();
      damage();
      const damaged = sha(path);
      await expect(Store.open(path)).rejects.toMatchObject({ code: 'corrupt_file', message: expect.stringMatching(/is damaged .*left untouched.*1 backup/s) });
      expect(sha(path)).toBe(damaged);

      const store = await Store.open(path, { recover: true });
      try {
        const recovery = store.report.recovery!;
        expect(recovery).not.toBeNull();
        expect(sha(recovery.damagedPath)).toBe(damaged);
        expect(recovery.backupPath).toContain('-manual.sqlite');
        expect(store.documents.list(100, null)).toHaveLength(30);
        expect(store.check().ok).toBe(true);
      } finally {
        store.close();
      }
    });
  }

  it('with no backup: a clear error, the file untouched, never an empty database', async () => {
    const store = await Store.open(path);
    for (let i = 0; i < 30; i++) store.documents.create({ title: `doc ${i}`, body: '本文。'.repeat(1500) });
    store.close();
    damages['pages overwritten with garbage']!();
    const damaged = sha(path);
    await expect(Store.open(path, { recover: true })).rejects.toMatchObject({ code: 'corrupt_file', message: expect.stringContaining('no good backup') });
    expect(sha(path)).toBe(damaged);
    expect(readdirSync(dir).filter((f) => f.includes('damaged'))).toEqual([]);
  });

  it('skips a damaged backup for an older good one', async () => {
    await databaseWithBackup();
    const first = readdirSync(`${path}-backups`);
    const store = await Store.open(path);
    const second = await store.backup();
    store.close();
    writeFileSync(second.path, 'garbage');
    damages['truncated to half']!();
    const recovered = await Store.open(path, { recover: true });
    expect(recovered.report.recovery!.backupPath).toBe(join(`${path}-backups`, first[0]!));
    recovered.close();
  });
});

describe('files that are not ours', () => {
  it('a text file: foreign_file, untouched, even with recover', async () => {
    writeFileSync(path, 'これはデータベースではありません\n'.repeat(100));
    const before = sha(path);
    await expect(Store.open(path, { recover: true })).rejects.toMatchObject({ code: 'foreign_file', message: expect.stringContaining('not a Tsuzuki database') });
    expect(sha(path)).toBe(before);
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  it('another application\'s SQLite database: foreign_file, untouched', async () => {
    const other = new Database(path);
    other.exec('CREATE TABLE contacts (name TEXT); INSERT INTO contacts VALUES (\'x\')');
    other.close();
    const before = sha(path);
    await expect(Store.open(path)).rejects.toMatchObject({ code: 'foreign_file' });
    expect(sha(path)).toBe(before);
  });

  it('a folder, or a missing file when not creating', async () => {
    mkdirSync(join(dir, 'folder.db'));
    await expect(Store.open(join(dir, 'folder.db'))).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(Store.open(join(dir, 'missing.db'), { create: false })).rejects.toMatchObject({ code: 'not_found' });
    expect(existsSync(join(dir, 'missing.db'))).toBe(false);
  });
});

describe('environment faults', () => {
  it('locked by another running instance: busy, and usable once it exits', async () => {
    (await Store.open(path)).close();
    let ready!: () => void;
    const isReady = new Promise<void>((resolve) => (ready = resolve));
    const { child, exited } = startChild(['hold', path], (m) => m.kind === 'ready' && ready());
    await isReady;
    try {
      await expect(Store.open(path, { busyTimeoutMs: 200 })).rejects.toMatchObject({ code: 'busy', message: expect.stringContaining('another running Tsuzuki') });
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    const store = await Store.open(path);
    expect(store.documents.create({ title: 'after' }).title).toBe('after');
    store.close();
  });

  it('a second open in the same process is refused too', async () => {
    const first = await Store.open(path);
    try {
      await expect(Store.open(path, { busyTimeoutMs: 100 })).rejects.toMatchObject({ code: 'busy' });
    } finally {
      first.close();
    }
  });

  it('read-only file or folder: read_only, nothing written', async (ctx) => {
    const store = await Store.open(path);
    store.documents.create({ title: 'keep me' });
    store.close();
    chmodSync(path, 0o444);
    chmodSync(dir, 0o555);
    const before = sha(path);
    try {
      // As root, permissions do not apply: try as an unprivileged user instead.
      const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
      const [result] = await runChild(['open', path], asUser);
      // As root in a checkout that user cannot read, the child cannot even start: nothing to test here.
      if (result === undefined && 'uid' in asUser) ctx.skip();
      expect(result).toMatchObject({ ok: false, code: 'read_only', message: expect.stringContaining(path) });
    } finally {
      chmodSync(dir, 0o755);
      chmodSync(path, 0o644);
    }
    expect(sha(path)).toBe(before);
  });

  it('disk full: disk_full, the write rolled back, earlier data intact, usable after space is freed', async () => {
    const store = await Store.open(path);
    try {
      const doc = store.documents.create({ title: 'novel', body: '書き始め。' });
      const pages = store.db.pragma('page_count', { simple: true }) as number;
      store.db.pragma(`max_page_count = ${pages + 5}`);
      const big = '長い原稿の一文。'.repeat(50_000);
      expect(() => store.run((s) => s.documents.save(doc.id, big))).toThrow(expect.objectContaining({ code: 'disk_full', message: expect.stringContaining(path) }));
      expect(() => store.run((s) => s.documents.create({ title: 'x', body: big }))).toThrow(expect.objectContaining({ code: 'disk_full' }));
      expect(store.documents.get(doc.id).body).toBe('書き始め。');
      expect(store.documents.list(10, null)).toHaveLength(1);
      store.db.pragma('max_page_count = 1073741823');
      store.documents.save(doc.id, big);
      expect(store.documents.get(doc.id).body).toBe(big);
      expect(store.check().ok).toBe(true);
    } finally {
      store.close();
    }
  });
});
