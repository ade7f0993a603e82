/**
 * Panels and screens give the writer back the editor where they left it, in a real browser against `tsuzuki serve`:
 * whichever way one closes (Escape, or the button that opened it), the next key typed lands at the cursor it had.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { editorText, mod, openEditor, type OpenEditor } from '../helpers/editor';

let editor: OpenEditor;
let page: Page;
const TEXT = 'あいうえおかきくけこ';
const CURSOR = 5;

beforeAll(async () => {
  editor = await openEditor(['--device', 'cpu']);
  page = editor.page;
  await page.getByTestId('document-title').filter({ hasText: /\S/ }).waitFor();
  await page.getByTestId('editor').click();
  await page.keyboard.insertText(TEXT);
  for (let i = CURSOR; i < TEXT.length; i++) await page.keyboard.press('ArrowLeft');
}, 180_000);
afterAll(async () => {
  await editor?.close();
});

/** Each panel or screen: the button that opens it (and closes it again), what shows while it is open, and a place inside it. */
const dialogs = [
  { name: 'the memo', toggle: 'toggle-memo', shown: 'memo', inside: '[data-testid="memo"]' },
  { name: 'the revisions', toggle: 'toggle-revisions', shown: 'revisions-panel', inside: '[data-testid="revisions-panel"] h3' },
  { name: 'the history', toggle: 'toggle-history', shown: 'history-panel', inside: '[data-testid="history-search"]' },
  { name: 'the settings', toggle: 'toggle-settings', shown: 'settings-panel', inside: '[data-testid="settings-panel"] h3' },
  { name: 'the models screen', toggle: 'nav-models', shown: 'models-screen', inside: '[data-testid="model-repo"]', close: 'models-close' },
];

/** A character typed now lands at the cursor the writer had; it is deleted again for the next case. */
async function expectCursorKept() {
  await page.keyboard.insertText('＊');
  expect(await editorText(page)).toBe(`${TEXT.slice(0, CURSOR)}＊${TEXT.slice(CURSOR)}`);
  await page.keyboard.press('Backspace');
  expect(await editorText(page)).toBe(TEXT);
}

describe.each(dialogs)('closing $name', ({ toggle, shown, inside, close }) => {
  it('with Escape gives focus back to the editor at its cursor', async () => {
    await page.getByTestId(toggle).click();
    await page.getByTestId(shown).waitFor();
    await page.keyboard.press('Escape');
    await page.getByTestId(shown).waitFor({ state: 'detached' });
    await expectCursorKept();
  });

  it('with its button gives focus back to the editor at its cursor', async () => {
    await page.getByTestId(toggle).click();
    await page.getByTestId(shown).waitFor();
    await page.getByTestId(close ?? toggle).click();
    await page.getByTestId(shown).waitFor({ state: 'detached' });
    await expectCursorKept();
  });

  it('with Escape after a click inside it gives focus back to the editor at its cursor', async () => {
    await page.getByTestId(toggle).click();
    await page.getByTestId(shown).waitFor();
    await page.locator(inside).first().click();
    await page.keyboard.press('Escape');
    await page.getByTestId(shown).waitFor({ state: 'detached' });
    await expectCursorKept();
  });
});

describe('a panel replaced by another', () => {
  it('keeps the open one in charge: Escape closes the second, and the editor has its cursor back', async () => {
    await page.getByTestId('toggle-history').click();
    await page.getByTestId('history-panel').waitFor();
    await page.getByTestId('toggle-settings').click();
    await page.getByTestId('settings-panel').waitFor();
    expect(await page.getByTestId('history-panel').count()).toBe(0);
    await page.keyboard.press('Escape');
    await page.getByTestId('settings-panel').waitFor({ state: 'detached' });
    await expectCursorKept();
  });
});

describe('the models screen over an open panel', () => {
  it('gives focus back to the panel, and closing that gives the editor its cursor back', async () => {
    await page.getByTestId('toggle-history').click();
    await page.getByTestId('history-panel').waitFor();
    await page.getByTestId('nav-models').click();
    await page.getByTestId('models-screen').waitFor();
    await page.keyboard.press('Escape');
    await page.getByTestId('models-screen').waitFor({ state: 'detached' });
    await page.keyboard.press('Escape');
    await page.getByTestId('history-panel').waitFor({ state: 'detached' });
    await expectCursorKept();
  });
});

describe('a shortcut being recorded in the settings', () => {
  it('takes Escape as its key instead of closing the panel', async () => {
    await page.getByTestId('toggle-settings').click();
    const chord = page.getByTestId('settings-panel').locator('.shortcuts button').first();
    const before = await chord.textContent();
    await chord.click();
    await page.keyboard.press('Escape');
    await expect.poll(() => chord.getAttribute('aria-pressed')).toBe('false');
    expect(await page.getByTestId('settings-panel').count()).toBe(1);
    // Back to the chord it had, then closed as usual.
    await chord.click();
    await page.keyboard.press(`${mod}+Enter`);
    await expect.poll(() => chord.textContent()).toBe(before);
    await page.keyboard.press('Escape');
    await page.getByTestId('settings-panel').waitFor({ state: 'detached' });
    await expectCursorKept();
  });
});
