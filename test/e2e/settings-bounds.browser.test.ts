/**
 * The Settings form bounds each generation parameter by the contract's schema, the length also by the model's
 * window: a value out of bounds shows its reason beside the field, in the catalogue's language, and is never saved.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openEditor, type OpenEditor } from '../helpers/editor';

let editor: OpenEditor;
let page: Page;

beforeAll(async () => {
  editor = await openEditor(['--device', 'cpu']);
  page = editor.page;
}, 180_000);
afterAll(async () => {
  await editor?.close();
});

/** A fresh page with Settings open, so each test starts from what the database holds. */
async function openSettings() {
  await page.reload();
  await page.getByTestId('editor').waitFor();
  await page.getByTestId('toggle-settings').click();
  await page.getByTestId('max-new-tokens').waitFor();
}

async function type(testid: string, value: string) {
  const input = page.getByTestId(testid);
  await input.fill(value);
  await input.dispatchEvent('change');
}

const reason = (testid: string) => page.getByTestId(`reason-${testid}`).textContent({ timeout: 10_000 });

describe('Settings: generation parameters', () => {
  it('refuses a length of 0, -5 or 5000 with the reason beside the field, and saves none of them', async () => {
    await openSettings();
    const length = page.getByTestId('max-new-tokens');
    expect(await length.inputValue()).toBe('60');
    // The tiny model's window is 256 positions: one token is left for the text before the cursor.
    expect(await length.getAttribute('max')).toBe('255');
    expect(await length.getAttribute('min')).toBe('1');

    for (const [typed, why] of [
      ['0', '1〜1024 の整数にしてください。'],
      ['-5', '1〜1024 の整数にしてください。'],
      ['5000', 'このモデルでは 255 以下です。文脈の窓が 256 トークンで、前の文にも1トークン以上要るためです。'],
    ] as const) {
      await type('max-new-tokens', typed);
      await expect.poll(() => reason('max-new-tokens')).toBe(why);
      expect(await length.getAttribute('aria-invalid')).toBe('true');
      expect(await length.getAttribute('aria-describedby')).toBe('reason-max-new-tokens');
    }

    // Nothing was saved: a fresh page reads the preset's length from the database.
    await openSettings();
    expect(await page.getByTestId('max-new-tokens').inputValue()).toBe('60');
  });

  it('a value within bounds clears the reason and is saved; other fields explain themselves too, in English as well', async () => {
    await openSettings();
    await type('max-new-tokens', '5000');
    await expect.poll(() => reason('max-new-tokens')).toMatch(/255/);
    await type('max-new-tokens', '40');
    await page.getByTestId('reason-max-new-tokens').waitFor({ state: 'detached' });
    expect(await page.getByTestId('max-new-tokens').getAttribute('aria-invalid')).toBeNull();

    await type('top-p', '1.5');
    await expect.poll(() => reason('top-p')).toBe('0 より大きく 1 以下の数にしてください。');

    await openSettings();
    expect(await page.getByTestId('max-new-tokens').inputValue()).toBe('40');
    await page.getByTestId('language').selectOption('en');
    await type('seed', '4294967296');
    await expect.poll(() => reason('seed')).toBe('Use a whole number from 0 to 4294967295.');
  });
});
