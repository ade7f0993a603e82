import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src-main/store/connection';
import { migrations } from '../../../src-main/store/migrations';
import { Store } from '../../../src-main/store/store';
import { generation } from '../../unit/store/helpers';
import { repoRoot } from './spawn';

function tsuzuki(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(repoRoot, 'bin/tsuzuki.js'), ...args], { cwd: repoRoot, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

let dir: string;
let db: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tsuzuki-cli-'));
  db = join(dir, 'tsuzuki.db');
  const store = await Store.open(db);
  const doc = store.documents.create({ title: '雪国', body: '国境の長いトンネルを抜けると雪国であった。' });
  store.generations.insert(generation({ documentId: doc.id, text: '夜の底が白くなった。', createdAt: 1000 }));
  store.generations.insert(generation({ documentId: doc.id, text: '猫が一匹いた。', createdAt: 2000, status: 'accepted' }));
  store.generations.insert(generation({ text: '雪国の猫。', createdAt: 3000 }));
  store.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tsuzuki history', () => {
  it('list prints newest first; --json gives the records; filters apply', async () => {
    const text = await tsuzuki('history', 'list', '--db', db);
    expect(text.code).toBe(0);
    expect(text.stdout.trim().split('\n').map((l) => l.split('\t').at(-1))).toEqual(['雪国の猫。', '猫が一匹いた。', '夜の底が白くなった。']);
    const json = await tsuzuki('history', 'list', '--db', db, '--json', '--status', 'accepted');
    expect(JSON.parse(json.stdout).map((g: { text: string }) => g.text)).toEqual(['猫が一匹いた。']);
  });

  it('search --json prints the matching generations\' ids and texts, for 1, 2 and 3+ characters', async () => {
    for (const [query, expected] of [['猫', ['雪国の猫。', '猫が一匹いた。']], ['雪国', ['雪国の猫。']], ['白くな', ['夜の底が白くなった。']], ['犬', []]] as const) {
      const { code, stdout } = await tsuzuki('history', 'search', query, '--db', db, '--json');
      expect(code).toBe(0);
      const hits = JSON.parse(stdout) as Array<{ id: number; text: string }>;
      expect(hits.map((h) => h.text)).toEqual(expected);
      for (const h of hits) expect(Number.isInteger(h.id)).toBe(true);
    }
    const md = await tsuzuki('history', 'search', '猫', '--db', db, '--format', 'md');
    expect(md.stdout).toContain('# 「猫」の検索結果（2件）');
  });

  it('export then import into another database, twice: the second import adds nothing', async () => {
    const exported = await tsuzuki('history', 'export', '--db', db);
    expect(exported.code).toBe(0);
    const file = join(dir, 'export.jsonl');
    writeFileSync(file, exported.stdout);
    const other = join(dir, 'other.db');
    const first = JSON.parse((await tsuzuki('history', 'import', file, '--db', other)).stdout);
    expect(first.generations.added).toBe(3);
    expect(first.documents.added).toBe(1);
    const second = JSON.parse((await tsuzuki('history', 'import', file, '--db', other)).stdout);
    expect(second.generations).toEqual({ added: 0, updated: 0, unchanged: 3 });
    const doc = await tsuzuki('history', 'export', '--db', other, '--document', '1', '--format', 'txt');
    expect(doc.stdout).toBe('雪国\n\n国境の長いトンネルを抜けると雪国であった。\n');
  });

  it('usage errors exit 2', async () => {
    expect((await tsuzuki('history', 'frobnicate', '--db', db)).code).toBe(2);
    expect((await tsuzuki('history', 'list', '--db', db, '--format', 'pdf')).code).toBe(2);
  });
});

describe('tsuzuki db', () => {
  it('check passes a good file and backup writes a verified copy', async () => {
    const check = await tsuzuki('db', 'check', '--db', db);
    expect(check.code).toBe(0);
    expect(JSON.parse(check.stdout)).toMatchObject({ ok: true, integrity: ['ok'], generations: 3, documents: 1 });
    const backup = await tsuzuki('db', 'backup', '--db', db);
    expect(backup.code).toBe(0);
    expect(JSON.parse(backup.stdout).path).toContain(`${db}-backups`);
  });

  it('check writes nothing: a read-only file in a read-only folder, of an older schema, in rollback-journal mode', async () => {
    const folder = join(dir, 'read-only');
    mkdirSync(folder);
    const file = join(folder, 'old.db');
    const { db: old } = await openDatabase(file, { migrations: migrations.slice(0, -1) });
    old.prepare("INSERT INTO documents (uuid, title, created_at, updated_at) VALUES ('doc-1', '古い', 1, 1)").run();
    old.pragma('journal_mode = DELETE');
    old.close();
    chmodSync(file, 0o444);
    chmodSync(folder, 0o555);
    const sha = createHash('sha256').update(readFileSync(file)).digest('hex');
    const mtime = statSync(file).mtimeMs;
    try {
      const check = await tsuzuki('db', 'check', '--db', file);
      expect(check.stderr).toBe('');
      expect(check.code).toBe(0);
      expect(JSON.parse(check.stdout)).toMatchObject({ ok: true, schemaVersion: migrations.length - 1, documents: 1 });
    } finally {
      chmodSync(folder, 0o755);
    }
    // As root, permissions stop nothing: what proves it is that nothing changed (no migration, no journal mode).
    expect(createHash('sha256').update(readFileSync(file)).digest('hex')).toBe(sha);
    expect(statSync(file).mtimeMs).toBe(mtime);
    expect(readdirSync(folder)).toEqual(['old.db']);
  });

  it('recover keeps the damaged file, restores the backup, salvages what was written after it and prints what it did', async () => {
    const file = join(dir, 'recover.db');
    const store = await Store.open(file);
    for (let i = 0; i < 20; i++) store.documents.create({ title: `${i}`, body: '本文。\n'.repeat(2000) });
    await store.backup();
    const late = store.documents.create({ title: '後から', body: 'バックアップの後の原稿。' });
    store.close();
    const bytes = readFileSync(file);
    bytes.fill(0xab, 4096 * 3, 4096 * 6);
    writeFileSync(file, bytes);
    const result = await tsuzuki('db', 'recover', '--db', file);
    expect(result.code).toBe(0);
    const { recovery } = JSON.parse(result.stdout);
    expect(recovery).toMatchObject({ damagedPath: expect.stringContaining('recover.db.damaged-'), salvage: { documents: { added: 1 } } });
    expect(readFileSync(recovery.damagedPath).equals(bytes)).toBe(true);
    expect(result.stderr).toMatch(/kept at .*recover\.db\.damaged-.*Salvaged from the damaged file: 1 new/s);
    const recovered = await Store.open(file);
    try {
      expect(recovered.documents.get(recovered.documents.findByUuid(late.uuid)!.id).body).toBe('バックアップの後の原稿。');
    } finally {
      recovered.close();
    }
    expect(JSON.parse((await tsuzuki('db', 'recover', '--db', file)).stdout).recovery).toBeNull();
  });

  it('exits 3 with a clear message for a missing, foreign or damaged file, and leaves it as it was', async () => {
    const foreign = join(dir, 'notes.txt');
    writeFileSync(foreign, 'ただのメモ\n'.repeat(50));
    const result = await tsuzuki('db', 'check', '--db', foreign);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('not a Tsuzuki database');

    const damaged = join(dir, 'damaged.db');
    const store = await Store.open(damaged);
    for (let i = 0; i < 20; i++) store.documents.create({ title: `${i}`, body: '本文。'.repeat(3000) });
    store.close();
    const bytes = readFileSync(damaged);
    bytes.fill(0xab, 4096 * 3, 4096 * 6);
    writeFileSync(damaged, bytes);
    const sha = createHash('sha256').update(bytes).digest('hex');
    const check = await tsuzuki('db', 'check', '--db', damaged);
    expect(check.code).toBe(3);
    expect(check.stderr).toMatch(/is damaged/);
    expect(createHash('sha256').update(readFileSync(damaged)).digest('hex')).toBe(sha);
    expect((await tsuzuki('db', 'check', '--db', join(dir, 'missing.db'))).code).toBe(3);
  });
});
