/**
 * First run in a real browser against the real services: no model yet, so the setup screen opens; the writer checks
 * the download, downloads and converts it (from a local stand-in for huggingface.co), and continues text with it.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { artifactPath, launchBrowser } from '../helpers/browser';
import { FakeHub } from '../helpers/fake-hub';
import { buildRenderer } from '../helpers/renderer';
import { repoRoot, startServe, type Served } from '../helpers/serve';

let hub: FakeHub;
let served: Served;
let browser: Browser;
let page: Page;

function fixtureFiles(name: string): Record<string, Buffer> {
  const dir = join(repoRoot, 'test/fixtures/model', name);
  return Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f))]));
}

beforeAll(async () => {
  hub = await FakeHub.start([{ id: 'rinna/tiny-gpt2', commit: 'a'.repeat(40), files: fixtureFiles('tiny-safetensors-fp32') }]);
  const home = mkdtempSync(join(tmpdir(), 'tsuzuki-first-run-'));
  const renderer = await buildRenderer();
  const args = ['--renderer', renderer, '--db', join(home, 'tsuzuki.db'), '--models', join(home, 'models'), '--device', 'cpu'];
  // An empty Hugging Face cache: nothing on this machine may be reused by accident.
  const env = { HF_ENDPOINT: hub.endpoint, HF_HOME: join(home, 'hf'), HF_TOKEN: '', TSUZUKI_HOME: home };
  [served, browser] = await Promise.all([startServe(args, env), launchBrowser()]);
  page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
  await page.goto(served.url);
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await served?.stop();
  await hub?.close();
});

describe('first run', () => {
  it('opens the setup screen when no model is installed, and downloads, converts and uses one', async () => {
    await page.getByTestId('models-screen').waitFor();
    expect(await page.getByText('はじめに').count()).toBeGreaterThan(0);

    await page.getByTestId('model-repo').fill('rinna/tiny-gpt2');
    await page.getByTestId('model-plan').click();
    const plan = page.getByTestId('model-plan-result');
    await plan.waitFor();
    // config.json, spiece.model, the tokenizer configs and model.safetensors; nothing else of the repo.
    expect(await plan.textContent()).toMatch(/ダウンロード量\s*[\d.]+ (KB|MB) \(5 ファイル\)\s*空き容量\s*[\d.]+ [KMGT]B/);

    await page.getByTestId('model-add').click();
    const inUse = page.getByTestId('use-model').filter({ hasText: '使用中' });
    await inUse.waitFor({ timeout: 120_000 });
    expect(await inUse.textContent()).toContain('int4');
    await page.screenshot({ path: artifactPath('models-first-run.png'), fullPage: true });

    await page.getByTestId('models-close').click();
    await page.getByTestId('editor').click();
    await page.keyboard.insertText('むかしむかし、ある村に');
    await page.keyboard.press(`${process.platform === 'darwin' ? 'Meta' : 'Control'}+Enter`);
    await page.waitForFunction(() => (document.querySelector('[data-testid="proposal"]')?.textContent ?? '').length > 0, undefined, { timeout: 60_000 });
    expect(await page.getByTestId('model-name').textContent()).toBe('rinna--tiny-gpt2@int4');
  });

  it('does not open the setup screen again once a model is installed', async () => {
    await page.reload();
    await page.getByTestId('editor').waitFor();
    expect(await page.getByTestId('models-screen').count()).toBe(0);
  });
});
