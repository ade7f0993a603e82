/**
 * The real app in Electron. Runs wherever the Electron binary is installed (developers' machines, the release
 * workflow); skipped, with the reason as each test's note, where its download is blocked (this project's CI machine).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import { artifactPath } from '../helpers/browser';
import { findElectron, skipWithoutElectron } from '../helpers/electron';
import { repoRoot } from '../helpers/serve';

const electron = findElectron();

describe('the Electron app', () => {
  let app: ElectronApplication;
  let page: Page;

  beforeEach(skipWithoutElectron(electron));
  beforeAll(async () => {
    if ('reason' in electron) return;
    const { build } = await import('electron-vite');
    await build({ root: repoRoot, logLevel: 'error' });
    app = await _electron.launch({
      executablePath: (electron as { path: string }).path,
      args: [join(repoRoot, 'out/main/index.js'), `--user-data-dir=${mkdtempSync(join(tmpdir(), 'tsuzuki-e2e-'))}`],
      env: { ...process.env, TSUZUKI_HOME: mkdtempSync(join(tmpdir(), 'tsuzuki-home-')) },
    });
    page = await app.firstWindow();
  });
  afterAll(() => app?.close());

  it('shows the Japanese shell with app.info', async () => {
    await page.getByTestId('models-close').click();
    await page.getByTestId('toggle-settings').click();
    await page.getByTestId('app-info').waitFor();
    expect(await page.getByTestId('app-title').textContent()).toBe('続き');
    expect(await page.getByTestId('providers').locator('li').allTextContents()).toContain('cpu');
    expect(page.url()).toMatch(/^app:\/\/tsuzuki\//);
    await page.screenshot({ path: artifactPath('electron-shell.png') });
  });

  it('runs with the hardened web preferences', async () => {
    const prefs = await app.evaluate(({ BrowserWindow }) => {
      const window = BrowserWindow.getAllWindows()[0]!;
      // Electron has no public getter; this internal one has backed its own checks for years.
      const contents = window.webContents as unknown as { getLastWebPreferences(): Record<string, unknown> };
      const p = contents.getLastWebPreferences();
      return { contextIsolation: p.contextIsolation, sandbox: p.sandbox, nodeIntegration: p.nodeIntegration, webSecurity: p.webSecurity };
    });
    expect(prefs).toEqual({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true });
    expect(await page.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined');
    expect(await page.evaluate(() => typeof (globalThis as { process?: unknown }).process)).toBe('undefined');
    expect(await page.evaluate(() => Object.keys((window as unknown as { tsuzuki?: object }).tsuzuki ?? {}))).not.toContain('invoke');
  });

  it('has a strict CSP and blocks window.open and navigation', async () => {
    const csp = await page.evaluate(() => document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.getAttribute('content'));
    expect(csp).toContain("script-src 'self'");
    expect(await page.evaluate(() => window.open('https://example.com') === null)).toBe(true);
    expect(app.windows()).toHaveLength(1);
    await page.evaluate(() => (location.href = 'https://example.com/'));
    await new Promise((r) => setTimeout(r, 500));
    expect(page.url()).toMatch(/^app:\/\/tsuzuki\//);
  });

  it('refuses inline scripts (CSP enforced)', async () => {
    const ran = await page.evaluate(() => {
      const s = document.createElement('script');
      s.textContent = 'window.__inline = true';
      document.body.append(s);
      return (window as unknown as { __inline?: boolean }).__inline === true;
    });
    expect(ran).toBe(false);
  });
});
