import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { artifactPath, launchBrowser } from '../helpers/browser';
import { buildRenderer } from '../helpers/renderer';
import { startServe, type Served } from '../helpers/serve';

let served: Served;
let browser: Browser;

beforeAll(async () => {
  const renderer = await buildRenderer();
  const home = mkdtempSync(join(tmpdir(), 'tsuzuki-shell-'));
  [served, browser] = await Promise.all([startServe(['--renderer', renderer, '--db', join(home, 'tsuzuki.db'), '--models', join(home, 'models')], { TSUZUKI_HOME: home, HF_HOME: join(home, 'hf') }), launchBrowser()]);
});
afterAll(async () => {
  await browser?.close();
  await served?.stop();
});

describe('app shell in a browser over `tsuzuki serve`', () => {
  it('shows the Japanese shell with app.info from the main-process services', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(served.url);
    await expect(page.getByTestId('app-title').textContent()).resolves.toBe('続き');
    // No model on this machine: the setup screen comes first; the writer can skip it.
    await page.getByTestId('models-close').click();
    await page.getByTestId('toggle-settings').click();
    await page.getByTestId('app-info').waitFor();
    expect(await page.getByText('このアプリについて').count()).toBe(1);
    expect(await page.getByTestId('app-version').textContent()).toMatch(/^Tsuzuki \d+\.\d+\.\d+/);
    expect(await page.getByTestId('app-platform').textContent()).toContain(process.platform);
    const providers = await page.getByTestId('providers').locator('li').allTextContents();
    expect(providers).toContain('cpu');
    await page.screenshot({ path: artifactPath('shell-ja.png'), fullPage: true });

    await page.getByTestId('language').selectOption('en');
    await expect(page.getByText('About').count()).resolves.toBe(1);
    await page.reload();
    await page.getByTestId('toggle-settings').click();
    await page.getByTestId('app-info').waitFor();
    expect(await page.getByText('About').count()).toBe(1); // the choice survives a reload
    await page.screenshot({ path: artifactPath('shell-en.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('refuses the page and the socket without the token', async () => {
    const response = await fetch(`${served.origin}/`);
    expect(response.status).toBe(401);
    const page = await browser.newPage();
    await page.goto(`${served.origin}/assets/`).catch(() => undefined);
    const status = await page.evaluate(async (origin) => {
      return new Promise<string>((resolve) => {
        const ws = new WebSocket(`${origin.replace('http', 'ws')}/ws?token=forged`);
        ws.onopen = () => resolve('open');
        ws.onerror = () => resolve('refused');
      });
    }, served.origin);
    expect(status).toBe('refused');
    await page.close();
  });
});
