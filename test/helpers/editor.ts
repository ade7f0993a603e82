/**
 * The app's editor in headless Chromium against the real services: `tsuzuki serve` with the tiny fixture model, a
 * fresh database and the given extra options; the model converted to `precision`.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { Precision } from '../../src-main/model/convert/weights';
import { launchBrowser } from './browser';
import { buildRenderer } from './renderer';
import { startServe } from './serve';
import { convertTinyModel } from './tiny-model';

/** The key that goes with a shortcut's Mod: ⌘ on macOS, Ctrl elsewhere. */
export const mod = process.platform === 'darwin' ? 'Meta' : 'Control';

/** The document's text as the editor shows it, without the proposal (which is not part of the document). */
export function editorText(page: Page): Promise<string> {
  return page.getByTestId('editor').evaluate((el) =>
    [...el.querySelectorAll('p')]
      .map((p) => {
        const copy = p.cloneNode(true) as HTMLElement;
        copy.querySelectorAll('[data-testid="proposal"]').forEach((n) => n.remove());
        return copy.textContent;
      })
      .join('\n'),
  );
}

/** The proposal's text now (null when none is shown); does not wait for one to appear. */
export function proposalText(page: Page): Promise<string | null> {
  return page.evaluate(() => document.querySelector('[data-testid="proposal"]')?.textContent ?? null);
}

/** Waits until the generation bar no longer says that a continuation is being written. */
export async function waitForGenerationEnd(page: Page): Promise<void> {
  await page.getByTestId('generation-bar').getByRole('status').filter({ hasNotText: /生成中|Writing/ }).waitFor({ timeout: 60_000 });
}

/** Sets the active preset's seed in Settings, so that every continuation after it is reproducible. */
export async function fixSeed(page: Page, seed: number): Promise<void> {
  await page.getByTestId('toggle-settings').click();
  await page.getByTestId('seed').fill(String(seed));
  await page.getByTestId('seed').dispatchEvent('change');
  await page.getByTestId('toggle-settings').click();
}

export interface OpenEditor {
  page: Page;
  close(): Promise<void>;
}

export async function openEditor(serveArgs: string[] = [], precision: Precision = 'fp32'): Promise<OpenEditor> {
  const [renderer, model] = await Promise.all([buildRenderer(), convertTinyModel('tiny-safetensors-fp32', precision)]);
  const db = join(mkdtempSync(join(tmpdir(), 'tsuzuki-editor-')), 'tsuzuki.db');
  const [served, browser] = await Promise.all([startServe(['--renderer', renderer, '--db', db, '--model', model, ...serveArgs]), launchBrowser()]);
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(served.url);
  await page.getByTestId('editor').waitFor();
  return {
    page,
    async close() {
      await browser.close();
      await served.stop();
    },
  };
}
