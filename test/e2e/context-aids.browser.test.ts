/**
 * The author's note (脚注), the character book (キャラクターブック) and the context viewer (コンテキスト), in a real
 * browser against `tsuzuki serve` with the tiny model, driven as a writer would: the note and a book entry whose key
 * is in the text go into what the model reads, in the stated order, with their tokens; neither goes into the
 * document; both are kept with the document across a reload; a key that is no regular expression says so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { editorText, fixSeed, mod, openEditor, waitForGenerationEnd, type OpenEditor } from '../helpers/editor';

let editor: OpenEditor;
let page: Page;

beforeAll(async () => {
  editor = await openEditor(['--device', 'cpu']);
  page = editor.page;
  await page.getByTestId('document-title').filter({ hasText: /\S/ }).waitFor();
  await fixSeed(page, 4321);
}, 180_000);
afterAll(async () => {
  await editor?.close();
});

const TEXT = '島村は駅に着いた。\n駒子が待っていた。';

/** The parts a context list shows: [kind, text, tokens] in order. */
async function partsOf(testid: 'context-next' | 'context-last'): Promise<Array<[string, string, number]>> {
  const list = page.getByTestId(testid);
  await list.getByTestId('context-part').first().waitFor();
  return list.getByTestId('context-part').evaluateAll((items) =>
    items.map((item) => [
      item.getAttribute('data-kind') ?? '',
      item.querySelector('pre')?.textContent ?? '',
      Number(/\d+/.exec(item.querySelector('[data-testid="context-tokens"]')?.textContent ?? '')?.[0] ?? -1),
    ]),
  );
}

async function saved() {
  await page.getByTestId('save-state').filter({ hasText: '保存済み' }).waitFor();
}

describe('author’s note, character book and context viewer', () => {
  it('the writer’s note and book entry enter the context in order, with token counts, and never the document', async () => {
    await page.getByTestId('editor').click();
    await page.keyboard.insertText('島村は駅に着いた。');
    await page.keyboard.press('Enter');
    await page.keyboard.insertText('駒子が待っていた。');

    await page.getByTestId('toggle-memo').click();
    await page.getByTestId('memo').fill('雪国の話');
    await page.getByTestId('toggle-memo').click();

    await page.getByTestId('toggle-aids').click();
    await page.getByTestId('author-note').fill('［雪の夜、静かに］');
    await page.getByTestId('author-note-depth').fill('1');
    await page.getByTestId('author-note-depth').press('Tab');
    await page.getByTestId('book-add').click();
    const entry = page.getByTestId('book-entry').first();
    await entry.getByTestId('book-name').fill('駒子');
    // A key that is no regular expression says why under its entry; a good one clears it.
    await entry.getByTestId('book-keys').fill('駒子(');
    await entry.getByTestId('book-keys').press('Tab');
    await entry.getByTestId('book-regex').check();
    await expect.poll(() => entry.getByTestId('book-key-problem').textContent()).toContain('正規表現として読めません');
    await entry.getByTestId('book-keys').fill('駒子|こまこ');
    await entry.getByTestId('book-keys').press('Tab');
    await expect.poll(() => entry.getByTestId('book-key-problem').count()).toBe(0);
    await entry.getByTestId('book-text').fill('駒子は温泉町の芸者。');
    await page.getByTestId('toggle-aids').click();
    await saved();

    await page.getByTestId('toggle-context').click();
    const next = await partsOf('context-next');
    expect(next.map(([kind]) => kind)).toEqual(['memo', 'book', 'text', 'authorNote', 'text']);
    expect(next.map(([, text]) => text).join('')).toBe('雪国の話\n駒子は温泉町の芸者。\n島村は駅に着いた。\n［雪の夜、静かに］\n駒子が待っていた。');
    for (const [, , tokens] of next) expect(tokens).toBeGreaterThan(0);
    expect(await page.getByTestId('context-next-total').textContent()).toContain(`${next.reduce((n, [, , t]) => n + t, 0)} トークン`);
    await page.getByTestId('toggle-context').click();

    // The last generation read the same context; the document holds only the writer's text (and the proposal).
    await page.getByTestId('editor').click();
    await page.keyboard.press(`${mod}+End`);
    await page.keyboard.press(`${mod}+Enter`);
    await page.getByTestId('proposal').waitFor();
    await waitForGenerationEnd(page);
    await page.keyboard.press('Escape');
    expect(await editorText(page)).toBe(TEXT);
    await page.getByTestId('toggle-context').click();
    expect(await partsOf('context-last')).toEqual(next);
    await page.getByTestId('toggle-context').click();
  });

  it('a reload keeps the note and the book with the document', async () => {
    await saved();
    await page.reload();
    await page.getByTestId('editor').waitFor();
    await page.getByTestId('document-title').filter({ hasText: /\S/ }).waitFor();
    await page.getByTestId('toggle-aids').click();
    expect(await page.getByTestId('author-note').inputValue()).toBe('［雪の夜、静かに］');
    expect(await page.getByTestId('author-note-depth').inputValue()).toBe('1');
    const entry = page.getByTestId('book-entry').first();
    expect(await entry.getByTestId('book-name').inputValue()).toBe('駒子');
    expect(await entry.getByTestId('book-keys').inputValue()).toBe('駒子|こまこ');
    expect(await entry.getByTestId('book-regex').isChecked()).toBe(true);
    expect(await entry.getByTestId('book-text').inputValue()).toBe('駒子は温泉町の芸者。');
    await page.getByTestId('toggle-aids').click();
    await page.getByTestId('toggle-context').click();
    expect((await partsOf('context-next')).map(([kind]) => kind)).toEqual(['memo', 'book', 'text', 'authorNote', 'text']);
  });

  it('in 縦書き the panels work the same', async () => {
    await page.getByTestId('toggle-vertical').click();
    await page.getByTestId('context-refresh').click();
    expect((await partsOf('context-next')).map(([kind]) => kind)).toEqual(['memo', 'book', 'text', 'authorNote', 'text']);
    await page.getByTestId('toggle-context').click();
    await page.getByTestId('toggle-aids').click();
    await page.getByTestId('author-note').fill('［朝になる］');
    await page.getByTestId('toggle-aids').click();
    await page.getByTestId('toggle-context').click();
    expect((await partsOf('context-next')).find(([kind]) => kind === 'authorNote')?.[1]).toBe('［朝になる］\n');
  });
});
