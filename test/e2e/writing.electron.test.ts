/**
 * The writing flow through the real Electron app: a model installed in the library (the tiny fixture, imported
 * through the models service as the app would), text typed, a continuation streamed and accepted, and found in the
 * history. Runs where the Electron binary is installed and better-sqlite3 is built for Electron's ABI (the release
 * workflow rebuilds it); skipped otherwise, with the reason as each test's note.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import { ModelsService } from '../../src-main/services/models';
import { artifactPath } from '../helpers/browser';
import { findElectron, skipWithoutElectron } from '../helpers/electron';
import { repoRoot } from '../helpers/serve';

const electron = findElectron();
const mod = process.platform === 'darwin' ? 'Meta' : 'Control';

describe('writing in the Electron app', () => {
  let app: ElectronApplication;
  let page: Page;

  beforeEach(skipWithoutElectron(electron));
  beforeAll(async () => {
    if ('reason' in electron) return;
    const home = mkdtempSync(join(tmpdir(), 'tsuzuki-electron-home-'));
    const models = new ModelsService({ modelsDir: join(home, 'models') });
    await models.import({ path: join(repoRoot, 'test/fixtures/model/tiny-safetensors-fp32'), precision: 'fp32', activate: true }).done;
    const { build } = await import('electron-vite');
    await build({ root: repoRoot, logLevel: 'error' });
    app = await _electron.launch({
      executablePath: (electron as { path: string }).path,
      args: [join(repoRoot, 'out/main/index.js'), `--user-data-dir=${join(home, 'electron')}`],
      env: { ...process.env, TSUZUKI_HOME: home },
    });
    page = await app.firstWindow();
  }, 180_000);
  afterAll(() => app?.close());

  it('continues the text at the cursor, accepts it, and keeps it in the history', async (ctx) => {
    await page.getByTestId('app-title').waitFor();
    const storeProblem = await page.getByRole('alert').filter({ hasText: /database|NODE_MODULE_VERSION|better-sqlite3/i }).count();
    if (storeProblem > 0) {
      ctx.skip('better-sqlite3 is not built for Electron here (run `npx electron-builder install-app-deps`)');
    }
    await page.getByTestId('editor').click();
    await page.keyboard.insertText('吾輩は猫である。');
    await page.keyboard.press(`${mod}+Enter`);
    await page.waitForFunction(() => (document.querySelector('[data-testid="proposal"]')?.textContent ?? '').length > 0, undefined, { timeout: 60_000 });
    await page.getByTestId('generation-bar').getByRole('status').filter({ hasNotText: /生成中/ }).waitFor({ timeout: 60_000 });
    const proposed = await page.evaluate(() => document.querySelector('[data-testid="proposal"]')?.textContent ?? '');
    await page.keyboard.press('Tab');
    const text = await page.getByTestId('editor').textContent();
    expect(text).toBe(`吾輩は猫である。${proposed}`);
    await page.screenshot({ path: artifactPath('electron-writing.png') });
    await page.getByTestId('toggle-history').click();
    await page.getByTestId('history-item').first().waitFor();
    expect(await page.getByTestId('history-item').first().locator('.meta').textContent()).toContain('採用');
  });
});
