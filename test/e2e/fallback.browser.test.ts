/**
 * A device this machine lacks, in a real browser against the real services: the continuation still comes (from
 * the CPU), and the generation bar says, in the UI's language, that the CPU runs instead of the GPU, and why.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../helpers/browser';
import { buildRenderer } from '../helpers/renderer';
import { startServe, type Served } from '../helpers/serve';
import { convertTinyModel } from '../helpers/tiny-model';

let served: Served;
let browser: Browser;
let page: Page;
const mod = process.platform === 'darwin' ? 'Meta' : 'Control';
// DirectML exists only on Windows, CoreML only on macOS: one of them is missing everywhere.
const missing = process.platform === 'win32' ? 'coreml' : 'dml';

beforeAll(async () => {
  const [renderer, model] = await Promise.all([buildRenderer(), convertTinyModel()]);
  const db = join(mkdtempSync(join(tmpdir(), 'tsuzuki-fallback-')), 'tsuzuki.db');
  [served, browser] = await Promise.all([startServe(['--renderer', renderer, '--db', db, '--model', model, '--device', missing]), launchBrowser()]);
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(served.url);
  await page.getByTestId('editor').waitFor();
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await served?.stop();
});

describe('a device the machine lacks', () => {
  it('continues on the CPU and says so, with the reason', async () => {
    await page.getByTestId('editor').click();
    await page.keyboard.insertText('吾輩は猫である。');
    await page.keyboard.press(`${mod}+Enter`);
    await page.getByTestId('proposal').waitFor({ timeout: 60_000 });
    await expect.poll(() => page.getByTestId('device').textContent(), { timeout: 60_000 }).toBe('cpu');
    const warning = await page.getByTestId('fallback').getAttribute('aria-label');
    expect(warning).toMatch(new RegExp(`^GPU を使えなかったため CPU で実行しています:${missing}: `));
  });
});
