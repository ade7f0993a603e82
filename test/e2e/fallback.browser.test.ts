/**
 * A device this machine lacks, in a real browser against the real services: the continuation still comes (from
 * the CPU), and the generation bar says, in the UI's language, that the CPU runs instead of the GPU, and why.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openEditor, type OpenEditor } from '../helpers/editor';

let editor: OpenEditor;
let page: Page;
const mod = process.platform === 'darwin' ? 'Meta' : 'Control';
// DirectML exists only on Windows, CoreML only on macOS: one of them is missing everywhere.
const missing = process.platform === 'win32' ? 'coreml' : 'dml';

beforeAll(async () => {
  editor = await openEditor(['--device', missing]);
  page = editor.page;
}, 180_000);
afterAll(async () => {
  await editor?.close();
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
