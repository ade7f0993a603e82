/**
 * The app's editor in headless Chromium against the real services: `tsuzuki serve` with the tiny fixture model, a
 * fresh database and the given extra options; the model converted to `precision`.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { Precision } from '../../src-main/model/weights';
import { launchBrowser } from './browser';
import { buildRenderer } from './renderer';
import { startServe } from './serve';
import { convertTinyModel } from './tiny-model';

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
