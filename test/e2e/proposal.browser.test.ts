/**
 * Keys while a continuation is proposed, in a real browser against `tsuzuki serve` with the tiny fixture model: as in
 * editors with inline suggestions, typing the proposal's next character consumes it; any other key, a click or an IME
 * composition dismisses it (leaving the document as it was, recorded as rejected) and then does what it always does.
 * Only the accept shortcuts accept.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CDPSession, Page } from 'playwright-core';
import { editorText, fixSeed, mod, openEditor, proposalText, waitForGenerationEnd, type OpenEditor } from '../helpers/editor';

let editor: OpenEditor;
let page: Page;
let cdp: CDPSession;

beforeAll(async () => {
  editor = await openEditor(['--device', 'cpu']);
  page = editor.page;
  cdp = await page.context().newCDPSession(page);
  await page.getByTestId('document-title').filter({ hasText: /\S/ }).waitFor();
  // A fixed seed: every continuation here is reproducible.
  await fixSeed(page, 1234);
  await page.getByTestId('editor').click();
  await page.keyboard.insertText('吾輩は猫である。');
}, 180_000);
afterAll(async () => {
  await editor?.close();
});

/** Asks for a continuation and waits until it is complete; returns the proposed text (never empty). */
async function propose(): Promise<string> {
  await page.keyboard.press(`${mod}+Enter`);
  await page.getByTestId('proposal').waitFor();
  await waitForGenerationEnd(page);
  const proposed = (await proposalText(page)) ?? '';
  expect(proposed.length).toBeGreaterThan(0);
  return proposed;
}

/** One key of a keyboard typing `char` directly (no IME), as the browser's own input does: keydown, then the text. */
async function typeKey(char: string) {
  await cdp.send('Input.dispatchKeyEvent', { type: 'keyDown', key: char, text: char, unmodifiedText: char });
  await cdp.send('Input.dispatchKeyEvent', { type: 'keyUp', key: char });
}

/** The history's status of the newest continuation, as the history panel shows it (採用, 不採用…). */
async function newestStatus(): Promise<string | undefined> {
  await page.getByTestId('toggle-history').click();
  const item = page.getByTestId('history-item').first();
  await item.waitFor();
  const meta = (await item.locator('.meta').textContent()) ?? '';
  await page.getByTestId('toggle-history').click();
  return meta.split(' · ')[1];
}

/** Polls the newest history entry's status, then puts the cursor back at the end of the text. */
async function expectNewestStatus(status: '採用' | '不採用') {
  await expect.poll(newestStatus, { timeout: 10_000 }).toBe(status);
  await page.getByTestId('editor').click();
  await page.keyboard.press(`${mod}+End`);
}

describe('keys while a continuation is proposed', () => {
  it('ArrowLeft dismisses it: the text stays as it was, the cursor moves, and the history records it as rejected', async () => {
    const before = await editorText(page);
    await propose();
    await page.keyboard.press('ArrowLeft');
    expect(await proposalText(page)).toBeNull();
    expect(await editorText(page)).toBe(before);
    await page.keyboard.type('X'); // lands one character before the end: the arrow moved the cursor
    expect(await editorText(page)).toBe(`${before.slice(0, -1)}X${before.slice(-1)}`);
    await page.keyboard.press('Backspace');
    expect(await editorText(page)).toBe(before);
    await expectNewestStatus('不採用');
  });

  it('Backspace dismisses it and deletes the character before the cursor in the writer’s own text', async () => {
    const before = await editorText(page);
    await propose();
    await page.keyboard.press('Backspace');
    expect(await proposalText(page)).toBeNull();
    expect(await editorText(page)).toBe(before.slice(0, -1));
    await expectNewestStatus('不採用');
    await page.keyboard.insertText(before.slice(-1));
  });

  it('Delete dismisses it too', async () => {
    const before = await editorText(page);
    await propose();
    await page.keyboard.press('Delete');
    expect(await proposalText(page)).toBeNull();
    expect(await editorText(page)).toBe(before);
    await expectNewestStatus('不採用');
  });

  it('another character dismisses it, and that character is typed', async () => {
    const before = await editorText(page);
    const proposed = await propose();
    const other = proposed.startsWith('X') ? 'Y' : 'X';
    await page.keyboard.press(other);
    expect(await proposalText(page)).toBeNull();
    expect(await editorText(page)).toBe(before + other);
    await expectNewestStatus('不採用');
    await page.keyboard.press('Backspace');
  });

  it('the proposal’s own next character is consumed: typed into the text, the proposal shrinks by it and stays', async () => {
    const before = await editorText(page);
    const proposed = await propose();
    const [first = '', ...rest] = proposed; // by code point
    await typeKey(first);
    expect(await editorText(page)).toBe(before + first);
    expect(await proposalText(page)).toBe(rest.join(''));
    // Typing all of it accepts it, as the accept shortcut would have (a line break is Enter's, which accepts the rest).
    for (const char of rest) {
      if (char === '\n') {
        await page.keyboard.press('Enter');
        break;
      }
      await typeKey(char);
    }
    expect(await proposalText(page)).toBeNull();
    expect(await editorText(page)).toBe(before + proposed);
    await expectNewestStatus('採用');
  });

  it('after part of it is typed, Tab accepts the rest; Escape leaves what the writer typed and nothing else', async () => {
    const before = await editorText(page);
    const proposed = await propose();
    const first = [...proposed][0]!;
    await typeKey(first);
    await page.keyboard.press('Tab');
    expect(await proposalText(page)).toBeNull();
    expect(await editorText(page)).toBe(before + proposed);
    await expectNewestStatus('採用');

    const again = await editorText(page);
    const next = await propose();
    await typeKey([...next][0]!);
    await page.keyboard.press('Escape');
    expect(await proposalText(page)).toBeNull();
    expect(await editorText(page)).toBe(again + [...next][0]!);
    await expectNewestStatus('不採用');
  });

  it('accepting is an undo step of its own: typing right after it is undone alone, then the continuation', async () => {
    const before = await editorText(page);
    const proposed = await propose();
    // Within prosemirror-history's 500 ms, next to the accepted text: it once joined the accept's undo step.
    await page.keyboard.press('Tab');
    await page.keyboard.insertText('。');
    expect(await editorText(page)).toBe(`${before}${proposed}。`);
    await page.keyboard.press(`${mod}+z`);
    expect(await editorText(page)).toBe(before + proposed);
    await page.keyboard.press(`${mod}+z`);
    expect(await editorText(page)).toBe(before);
    await page.keyboard.press(`${mod}+Shift+z`);
    expect(await editorText(page)).toBe(before + proposed);
    await expectNewestStatus('採用');
  });

  it('starting an IME composition dismisses it; the composed text is then typed as usual', async () => {
    const before = await editorText(page);
    await propose();
    await cdp.send('Input.imeSetComposition', { text: 'ねこ', selectionStart: 2, selectionEnd: 2 });
    expect(await proposalText(page)).toBeNull();
    await cdp.send('Input.imeSetComposition', { text: 'ねこが', selectionStart: 3, selectionEnd: 3 });
    await cdp.send('Input.insertText', { text: '猫が' });
    await expect.poll(() => editorText(page)).toBe(`${before}猫が`);
    expect(await proposalText(page)).toBeNull();
    await expectNewestStatus('不採用');
  });

  it('a click in the text dismisses it and puts the cursor where the click was', async () => {
    const before = await editorText(page);
    await propose();
    // Just before the first character of the text.
    const { x, y } = await page.getByTestId('editor').evaluate((el) => {
      const range = document.createRange();
      range.setStart(document.createTreeWalker(el, NodeFilter.SHOW_TEXT).nextNode()!, 0);
      const rect = range.getBoundingClientRect();
      return { x: rect.left + 1, y: rect.top + rect.height / 2 };
    });
    await page.mouse.click(x, y);
    expect(await proposalText(page)).toBeNull();
    expect(await editorText(page)).toBe(before);
    await page.keyboard.type('X');
    expect(await editorText(page)).toBe(`X${before}`);
    await page.keyboard.press('Backspace');
    await expectNewestStatus('不採用');
  });

  it('typing during the stream dismisses what has arrived, stops the generation and types the key', async () => {
    // A long continuation, so that the key comes while it streams.
    await page.getByTestId('toggle-settings').click();
    await page.getByTestId('max-new-tokens').fill('200');
    await page.getByTestId('max-new-tokens').dispatchEvent('change');
    await page.getByTestId('toggle-settings').click();
    await page.getByTestId('editor').click();
    await page.keyboard.press(`${mod}+End`);
    const before = await editorText(page);
    await page.keyboard.press(`${mod}+Enter`);
    await expect.poll(async () => (await proposalText(page))?.length ?? 0, { interval: 20 }).toBeGreaterThan(0);
    expect(await page.getByTestId('stop').count()).toBe(1);
    await page.keyboard.type('X');
    expect(await proposalText(page)).toBeNull();
    expect(await editorText(page)).toBe(`${before}X`);
    await page.getByTestId('continue').waitFor(); // the generation bar is back at rest
    await expectNewestStatus('不採用'); // recorded once the stopped generation is stored
    expect(await proposalText(page)).toBeNull(); // nothing more streamed in
    expect(await editorText(page)).toBe(`${before}X`);
  });

  it('opening another document dismisses it, and the text it was proposed for stays as it was', async () => {
    const before = await editorText(page);
    await propose();
    await page.getByTestId('new-document').click();
    await expect.poll(() => editorText(page)).toBe('');
    expect(await proposalText(page)).toBeNull();
    await page.getByTestId('document-list').locator('li:not(.current)').getByTestId('document-item').click(); // back
    await expect.poll(() => editorText(page)).toBe(before);
    expect(await proposalText(page)).toBeNull();
    await expectNewestStatus('不採用');
  });
});
