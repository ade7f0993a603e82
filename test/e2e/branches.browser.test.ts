/**
 * Retries and branches, in a real browser against `tsuzuki serve` with the tiny fixture model and a fixed seed: a
 * retry (Ctrl+R) draws a new seed, so it writes something else, and shows the seed it used; 同じシードで再生成
 * writes the shown proposal again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { editorText, fixSeed, mod, openEditor, proposalText, waitForGenerationEnd, type OpenEditor } from '../helpers/editor';

let editor: OpenEditor;
let page: Page;
const opening = '吾輩は猫である。';

beforeAll(async () => {
  editor = await openEditor(['--device', 'cpu']);
  page = editor.page;
  await page.getByTestId('document-title').filter({ hasText: /\S/ }).waitFor();
  await fixSeed(page, 1234);
  await page.getByTestId('editor').click();
  await page.keyboard.insertText(opening);
}, 180_000);
afterAll(async () => {
  await editor?.close();
});

/** Presses `keys` (or clicks 同じシードで再生成) and waits for the whole proposal; returns its text and the seed shown. */
async function propose(how: string): Promise<{ text: string; seed: string }> {
  // The press starts the new proposal at once (the bar says 生成中 before the key's handling returns).
  if (how === 'same-seed') await page.getByTestId('retry-same-seed').click();
  else await page.keyboard.press(how);
  await page.getByTestId('proposal').waitFor();
  await waitForGenerationEnd(page);
  const text = (await proposalText(page)) ?? '';
  expect(text.length).toBeGreaterThan(0);
  return { text, seed: (await page.getByTestId('seed').textContent()) ?? '' };
}

describe('retry and branches', () => {
  it('with a fixed seed, each retry writes new text with a new seed; 同じシードで再生成 writes it again', async () => {
    const first = await propose(`${mod}+Enter`);
    expect(first.seed).toBe('シード 1234');
    const second = await propose('Control+r');
    const third = await propose('Control+r');
    expect(second.seed).toMatch(/^シード \d+$/);
    expect(new Set([first.seed, second.seed, third.seed]).size).toBe(3);
    expect(new Set([first.text, second.text, third.text]).size).toBe(3);

    const again = await propose('same-seed');
    expect(again).toEqual(third);
    const byKey = await propose('Control+Shift+R');
    expect(byKey).toEqual(third);

    await page.keyboard.press('Tab');
    expect(await editorText(page)).toBe(opening + third.text);
  });
});
