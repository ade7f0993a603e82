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
    tries = [first, second, third];
  });

  it('the branch panel shows every try at the point; restoring one replaces the text, and undo and redo move through them', async () => {
    const [first, second, third] = tries.map((t) => t.text) as [string, string, string];
    await page.getByTestId('toggle-branches').click();
    // Five tries at the point: three retries and two with the third's seed again (the last one accepted).
    await expect.poll(() => page.getByTestId('branch').count(), { timeout: 10_000 }).toBe(5);
    expect(await branchTexts()).toEqual([first, second, third, third, third]);
    expect(await inText()).toEqual([third]);
    // Each try is stored with the seed the generation bar showed.
    const metas = await page.getByTestId('branch').locator('.meta').allTextContents();
    expect(metas.slice(0, 3).map((m) => m.split(' · ')[1]?.trim())).toEqual(tries.map((t) => t.seed));

    await branch(first).click();
    expect(await editorText(page)).toBe(opening + first);
    await expect.poll(inText, { timeout: 10_000 }).toEqual([first]);
    // The one it replaced is no longer in the text, and the history says so.
    await expect.poll(() => status(4), { timeout: 10_000 }).toBe('不採用');

    // Undo takes the statuses back with the text: the first try is rejected again, as it was.
    await page.keyboard.press(`${mod}+z`);
    expect(await editorText(page)).toBe(opening + third);
    await expect.poll(inText, { timeout: 10_000 }).toEqual([third]);
    await expect.poll(() => status(0), { timeout: 10_000 }).toBe('不採用');
    await page.keyboard.press(`${mod}+Shift+z`);
    expect(await editorText(page)).toBe(opening + first);
    await expect.poll(inText, { timeout: 10_000 }).toEqual([first]);
    await expect.poll(() => status(4), { timeout: 10_000 }).toBe('不採用');
  });

  it('a continuation of a restored branch is its child; in 縦書き, restoring another try from inside it replaces both', async () => {
    const [first, second] = tries.map((t) => t.text) as [string, string, string];
    await page.getByTestId('toggle-vertical').click();
    await page.getByTestId('editor').click();
    await page.keyboard.press(`${mod}+End`);
    const next = await propose(`${mod}+Enter`);
    await page.keyboard.press('Tab');
    expect(await editorText(page)).toBe(opening + first + next.text);
    // At the end of the continuation, the point is where it was written: it is the one branch there.
    await expect.poll(inText, { timeout: 10_000 }).toEqual([next.text]);
    // Inside the restored try, the tree is the point's again, with the continuation under the try.
    for (let i = 0; i <= [...next.text].length; i++) await page.keyboard.press('ArrowUp');
    await expect.poll(inText, { timeout: 10_000 }).toEqual([first, next.text]);
    expect(await page.getByTestId('branch').count()).toBe(6);

    await branch(second).click();
    expect(await editorText(page)).toBe(opening + second);
    await expect.poll(inText, { timeout: 10_000 }).toEqual([second]);
    await page.keyboard.press(`${mod}+z`);
    expect(await editorText(page)).toBe(opening + first + next.text);
  });
});

let tries: { text: string; seed: string }[] = [];

/** The panel's branches' texts, in its order (the point's tries oldest first, each followed by its continuations). */
function branchTexts(): Promise<string[]> {
  return page.getByTestId('branch').locator('.text').allTextContents();
}

/** The texts of the branches the document's text holds now. */
function inText(): Promise<string[]> {
  return page.locator('[data-testid="branch"][aria-current="true"] .text').allTextContents();
}

/** The status the panel shows for its `index`th branch (本文中 for those in the text). */
async function status(index: number): Promise<string> {
  return ((await page.getByTestId('branch').nth(index).locator('.meta').textContent()) ?? '').trim().split(' · ')[0]!;
}

/** The first branch of the panel with this text. */
function branch(text: string) {
  return page.getByTestId('branch').filter({ has: page.locator('.text', { hasText: text }) }).first();
}
