/**
 * A damaged database, in a real browser against `tsuzuki serve`: the app starts on the recovered database and tells
 * the writer, in the UI's language, what came back from the damaged file and where that file is kept.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src-main/store/store';
import { launchBrowser } from '../helpers/browser';
import { buildRenderer } from '../helpers/renderer';
import { startServe, type Served } from '../helpers/serve';

let home: string;
let served: Served | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'tsuzuki-recovery-'));
  const db = join(home, 'tsuzuki.db');
  const store = await Store.open(db);
  for (let i = 0; i < 20; i++) store.documents.create({ title: `${i}`, body: '本文。\n'.repeat(2000) });
  await store.backup();
  store.documents.create({ title: '後から', body: 'バックアップの後の原稿。' });
  store.close();
  const bytes = readFileSync(db);
  bytes.fill(0xab, 4096 * 3, 4096 * 6);
  writeFileSync(db, bytes);
  const renderer = await buildRenderer();
  [served, browser] = await Promise.all([startServe(['--renderer', renderer, '--db', db], { TSUZUKI_HOME: home }), launchBrowser()]);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await served?.stop();
  rmSync(home, { recursive: true, force: true });
});

describe('a damaged database at start', () => {
  it('says what was recovered from the damaged file and where the file is kept', async () => {
    const page = await browser!.newPage();
    await page.goto(served!.url);
    const notice = page.getByTestId('recovery-notice');
    await notice.waitFor({ timeout: 60_000 });
    const text = await notice.textContent();
    expect(text).toContain('のバックアップから復元しました');
    expect(text).toContain('バックアップにない文書 1 件');
    expect(text).toMatch(/壊れたファイルは .*tsuzuki\.db\.damaged-\d{8}T\d{9}Z にそのまま残してあります/);
  });
});
