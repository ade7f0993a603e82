/**
 * 禁止ワード in a real browser against `tsuzuki serve` with the tiny fixture model: a writer bans a phrase that a
 * continuation wrote, in the document's list (toolbar) and in the settings' list for every document, and the same
 * continuation (a fixed seed) never writes it again, in 横書き and 縦書き; the document's list is kept with it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { fixSeed, mod, openEditor, proposalText, waitForGenerationEnd, type OpenEditor } from '../helpers/editor';

let editor: OpenEditor;
let page: Page;

beforeAll(async () => {
  editor = await openEditor(['--device', 'cpu']);
  page = editor.page;
  await page.getByTestId('document-title').filter({ hasText: /\S/ }).waitFor();
  await fixSeed(page, 1234);
  await page.getByTestId('editor').click();
  await page.keyboard.insertText('吾輩は猫である。名前はまだ無い。');
}, 180_000);
afterAll(async () => {
  await editor?.close();
});

/** Asks for a continuation, waits until it is complete, dismisses it and returns its text. */
async function propose(): Promise<string> {
  await page.getByTestId('editor').click();
  await page.keyboard.press(`${mod}+End`);
  await page.keyboard.press(`${mod}+Enter`);
  await page.getByTestId('proposal').waitFor();
  await waitForGenerationEnd(page);
  const text = (await proposalText(page)) ?? '';
  await page.keyboard.press('Escape');
  await page.getByTestId('proposal').waitFor({ state: 'detached' });
  return text;
}

/** Two characters from the middle of a text (no spaces). */
const phraseFrom = (text: string, at: number) => Array.from(text.replace(/\s/gu, '')).slice(at, at + 2).join('');

describe('banned words (禁止ワード)', () => {
  it("a word banned in the document's list never appears in its continuations, in 横書き and 縦書き, and stays with the document", async () => {
    // The first continuation may still have drawn its own seed while the fixed one was being saved.
    await propose();
    const free = await propose();
    const phrase = phraseFrom(free, 2);
    expect(phrase).toHaveLength(2);
    expect(await propose()).toBe(free);

    await page.getByRole('button', { name: '禁止ワード' }).click();
    const panel = page.getByTestId('document-steering');
    await panel.getByLabel('禁止する語句').fill(phrase);
    await panel.getByRole('button', { name: '追加' }).first().click();
    await panel.getByTestId('banned-phrase').filter({ hasText: phrase }).waitFor();
    // A word already listed is refused, in words.
    await panel.getByLabel('禁止する語句').fill(phrase);
    await panel.getByRole('button', { name: '追加' }).first().click();
    await expect.poll(() => panel.getByRole('alert').textContent()).toContain('もう一覧にあります');
    // A bias takes a strength within its bounds; one outside them is refused, in words, and nothing is added.
    await panel.getByLabel('バイアスをかける語句').fill('猫');
    await panel.getByLabel('強さ').fill('200');
    await panel.getByRole('button', { name: '追加' }).nth(1).click();
    await expect.poll(() => panel.getByRole('alert').textContent()).toContain('−100 から 100 までの数');
    await panel.getByLabel('強さ').fill('-3');
    await panel.getByRole('button', { name: '追加' }).nth(1).click();
    await panel.getByTestId('biased-phrase').filter({ hasText: '猫 -3' }).waitFor();
    await page.getByRole('button', { name: '禁止ワード' }).click();

    const banned = await propose();
    expect(banned.length).toBeGreaterThan(0);
    expect(banned).not.toContain(phrase);

    await page.getByTestId('toggle-vertical').click();
    expect(await propose()).not.toContain(phrase);
    await page.getByTestId('toggle-vertical').click();

    await page.reload();
    await page.getByTestId('editor').waitFor();
    await page.getByRole('button', { name: '禁止ワード' }).click();
    await expect.poll(() => page.getByTestId('document-steering').getByTestId('banned-phrase').allTextContents()).toEqual([expect.stringContaining(phrase)]);
    await page.getByRole('button', { name: '禁止ワード' }).click();
  });

  it("a word banned in the settings' list for all documents holds too", async () => {
    const before = await propose();
    const phrase = phraseFrom(before, 4);
    expect(before).toContain(phrase);
    await page.getByTestId('toggle-settings').click();
    const global = page.getByTestId('global-steering');
    await global.getByLabel('禁止する語句').fill(phrase);
    await global.getByRole('button', { name: '追加' }).first().click();
    await global.getByTestId('banned-phrase').filter({ hasText: phrase }).waitFor();
    await page.getByTestId('toggle-settings').click();
    expect(await propose()).not.toContain(phrase);
  });
});
