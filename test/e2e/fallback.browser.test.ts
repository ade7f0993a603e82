/**
 * A device this machine lacks, in a real browser against the real services: the continuation still comes (from
 * the CPU), and the generation bar says, in the UI's language, that the CPU runs instead of the GPU (the engine's
 * reason folded under 詳細); for an fp16 model (the GPU's precision), that an int4 conversion suits the CPU better.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openEditor, type OpenEditor } from '../helpers/editor';

// DirectML exists only on Windows, CoreML only on macOS: one of them is missing everywhere.
const missing = process.platform === 'win32' ? 'coreml' : 'dml';
const mod = process.platform === 'darwin' ? 'Meta' : 'Control';

async function continueOnce(page: Page): Promise<string | null> {
  await page.getByTestId('editor').click();
  await page.keyboard.insertText('吾輩は猫である。');
  await page.keyboard.press(`${mod}+Enter`);
  await page.getByTestId('proposal').waitFor({ timeout: 60_000 });
  await expect.poll(() => page.getByTestId('device').textContent(), { timeout: 60_000 }).toBe('CPU');
  return page.getByTestId('fallback').getAttribute('aria-label');
}

describe.each([
  ['fp32', false],
  ['fp16', true],
] as const)('a device the machine lacks, with an %s model', (precision, hinted) => {
  let editor: OpenEditor;
  beforeAll(async () => {
    editor = await openEditor(['--device', missing], precision);
  }, 180_000);
  afterAll(async () => {
    await editor?.close();
  });

  it(`continues on the CPU and says so, with the reason${hinted ? ' and the advice to convert to int4' : ''}`, async () => {
    const warning = await continueOnce(editor.page);
    expect(warning!.startsWith('GPU を使えなかったため CPU で実行しています。')).toBe(true);
    expect(warning!.includes('CPU では int4 に変換したもの')).toBe(hinted);
    // The engine's reason is English: it is folded under 詳細 beside the sentence, never inside it.
    expect(warning!.replace(/GPU|CPU|int4|fp16/g, '')).not.toMatch(/[A-Za-z]/);
    const detail = editor.page.getByTestId('generation-bar').locator('details.error-detail');
    expect(await detail.locator('summary').textContent()).toBe('詳細');
    expect(await detail.locator('code').textContent()).toMatch(new RegExp(`^${missing}: `));
  });
});
