/** An error on screen: one sentence in the UI's language; the service's own message only under 詳細, apart from it. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../helpers/browser';
import { buildRenderer } from '../helpers/renderer';
import { startServe, type Served } from '../helpers/serve';

let served: Served;
let browser: Browser;
let home: string;

beforeAll(async () => {
  const renderer = await buildRenderer();
  home = mkdtempSync(join(tmpdir(), 'tsuzuki-errors-'));
  [served, browser] = await Promise.all([
    startServe(['--renderer', renderer, '--db', join(home, 'tsuzuki.db'), '--models', join(home, 'models')], { TSUZUKI_HOME: home, HF_HOME: join(home, 'hf') }),
    launchBrowser(),
  ]);
});
afterAll(async () => {
  await browser?.close();
  await served?.stop();
});

describe('error messages on screen', () => {
  it('a failed import reads in Japanese, then in English, with the detail folded apart', async () => {
    const page = await browser.newPage();
    await page.goto(served.url);
    // No model yet: the models screen opens first.
    await page.getByTestId('model-import-path').fill(join(home, 'no such folder'));
    await page.getByTestId('model-import').click();
    const alert = page.getByTestId('models-screen').getByRole('alert');
    const sentence = alert.locator('.error-message');
    await sentence.waitFor();
    expect(await sentence.textContent()).toMatch(/。$/);
    expect(await sentence.textContent()).not.toMatch(/[A-Za-z]{3,}/);
    const detail = alert.locator('details.error-detail');
    expect(await detail.locator('summary').textContent()).toBe('詳細');
    expect(await detail.evaluate((el) => (el as HTMLDetailsElement).open)).toBe(false);
    expect(await detail.locator('code').textContent()).toContain('no such folder');

    await page.getByTestId('language').selectOption('en');
    expect(await sentence.textContent()).toMatch(/^[^\u3000-\u9fff]+\.$/);
    expect(await detail.locator('summary').textContent()).toBe('Details');
    await page.close();
  });
});
