/**
 * The writing flow in a real browser against the real services (`tsuzuki serve` with the tiny fixture model and a
 * temporary database): IME safety, streaming a continuation, accept/reject/retry/alternatives/undo, history search
 * and persistence, vertical writing. Keys typed while a continuation is proposed: proposal.browser.test.ts.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CDPSession, Page } from 'playwright-core';
import { artifactPath } from '../helpers/browser';
import { editorText, mod, openEditor, proposalText, waitForGenerationEnd, type OpenEditor } from '../helpers/editor';

let editor: OpenEditor;
let page: Page;
let cdp: CDPSession;

beforeAll(async () => {
  editor = await openEditor(['--device', 'cpu']);
  page = editor.page;
  cdp = await page.context().newCDPSession(page);
}, 180_000);
afterAll(async () => {
  await editor?.close();
});

async function typeWithIme(composing: string[], committed: string) {
  for (const text of composing) {
    await cdp.send('Input.imeSetComposition', { text, selectionStart: text.length, selectionEnd: text.length });
  }
  await cdp.send('Input.insertText', { text: committed });
}

async function setSampling(field: 'max-new-tokens' | 'alternatives' | 'seed', value: number) {
  await page.getByTestId('toggle-settings').click();
  const input = page.getByTestId(field);
  await input.fill(String(value));
  await input.dispatchEvent('change');
  await page.waitForTimeout(300);
  await page.getByTestId('toggle-settings').click();
  await page.getByTestId('editor').click();
  await page.keyboard.press(`${mod}+End`);
}

/** Turns the engine settings' read-ahead on or off, then puts the cursor back at the end of the document. */
async function setReadAhead(on: boolean) {
  await page.getByTestId('toggle-settings').click();
  await page.getByTestId('read-ahead').setChecked(on);
  await page.waitForTimeout(300);
  await page.getByTestId('toggle-settings').click();
  await page.getByTestId('editor').click();
  await page.keyboard.press(`${mod}+End`);
}

/** The generation bar's note on the last continuation: 文脈 {prompt} トークンのうち {reused} トークンは計算済み… */
async function reuse() {
  const [, prompt, reused] = /(\d+)\D+(\d+)/.exec((await page.getByTestId('first-token').getAttribute('title')) ?? '') ?? [];
  return { prompt: Number(prompt), reused: Number(reused) };
}

/** Rests 1.5 s (the read-ahead starts after 0.7 s), then asks for a continuation; returns its reuse note. */
async function continueAfterRest() {
  await page.waitForTimeout(1500);
  await continueNow();
  return reuse();
}

async function continueNow() {
  await page.keyboard.press(`${mod}+Enter`);
  await page.getByTestId('proposal').waitFor();
  await waitForGenerationEnd(page);
}

describe('writing with continuations', () => {
  it('starts with a fixed seed, so every continuation in this test is reproducible', async () => {
    await page.getByTestId('document-title').filter({ hasText: /\S/ }).waitFor();
    await setSampling('seed', 1234);
  });

  it('ignores Ctrl+Enter and Enter while an IME composition is in progress', async () => {
    await page.getByTestId('editor').click();
    await page.keyboard.insertText('吾輩は');
    await cdp.send('Input.imeSetComposition', { text: 'ねこ', selectionStart: 2, selectionEnd: 2 });
    await page.keyboard.press(`${mod}+Enter`);
    await page.keyboard.press('Enter');
    expect(await proposalText(page)).toBeNull();
    await cdp.send('Input.insertText', { text: '猫' });
    await typeWithIme(['で', 'であ', 'である'], 'である。');
    await page.waitForTimeout(200);
    expect(await editorText(page)).toBe('吾輩は猫である。');
    expect(await proposalText(page)).toBeNull();
  });

  it('streams a continuation at the cursor after the conversion is committed, and Tab accepts it in one undo step', async () => {
    await page.keyboard.press(`${mod}+Enter`);
    await page.getByTestId('proposal').waitFor();
    await waitForGenerationEnd(page);
    const proposed = (await proposalText(page)) ?? '';
    expect(proposed.length).toBeGreaterThan(0);
    expect(await editorText(page)).toBe('吾輩は猫である。'); // proposed text is not in the document yet
    // The context's share of the model's positions (the tiny model has 256).
    expect(await page.getByTestId('context-tokens').textContent()).toMatch(/^文脈 \d+\/256 トークン$/);
    await page.keyboard.press('Tab');
    expect(await proposalText(page)).toBeNull();
    expect(await editorText(page)).toBe(`吾輩は猫である。${proposed}`);
    await page.screenshot({ path: artifactPath('editor-horizontal.png') });
    await page.keyboard.press(`${mod}+z`);
    expect(await editorText(page)).toBe('吾輩は猫である。');
    await page.keyboard.press(`${mod}+Shift+z`);
    expect(await editorText(page)).toBe(`吾輩は猫である。${proposed}`);
  });

  it('Esc rejects, Ctrl+R retries, Enter accepts', async () => {
    const before = await editorText(page);
    await page.keyboard.press(`${mod}+Enter`);
    await page.getByTestId('proposal').waitFor();
    await waitForGenerationEnd(page);
    await page.keyboard.press('Escape');
    expect(await proposalText(page)).toBeNull();
    expect(await editorText(page)).toBe(before);

    await page.keyboard.press(`${mod}+Enter`);
    await waitForGenerationEnd(page);
    await page.keyboard.press('Control+r');
    await page.getByTestId('proposal').waitFor();
    await waitForGenerationEnd(page);
    const retried = (await proposalText(page)) ?? '';
    expect(retried.length).toBeGreaterThan(0);
    await page.keyboard.press('Enter');
    expect(await editorText(page)).toBe(before + retried);
  });

  it('reads ahead where the cursor rests, so the continuation finds its whole context computed, unless turned off', async () => {
    // With the read-ahead off, a context that ends earlier than the cached one must run at least its last token again
    // (20 characters back: no token is that long, so the cache cannot happen to end there), however long the rest.
    await setReadAhead(false);
    for (let i = 0; i < 20; i++) await page.keyboard.press('ArrowLeft');
    const off = await continueAfterRest();
    expect(off.prompt).toBeGreaterThan(0);
    expect(off.reused).toBeLessThan(off.prompt);
    await page.keyboard.press('Escape');
    // With it on (the default), resting there first computes the cursor's context before the shortcut.
    await setReadAhead(true);
    for (let i = 0; i < 20; i++) await page.keyboard.press('ArrowLeft');
    const rested = await continueAfterRest();
    expect(rested.prompt).toBe(off.prompt);
    expect(rested.reused).toBe(rested.prompt);
    await page.keyboard.press('Escape');
    await page.keyboard.press(`${mod}+End`);
  });

  it('records in the history when the writer edits text accepted from the model', async () => {
    await page.keyboard.press(`${mod}+Enter`);
    await waitForGenerationEnd(page);
    await page.keyboard.press('Tab');
    await page.waitForTimeout(300); // the acceptance is recorded and linked to its history entry
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.type('Z');
    await page.getByTestId('toggle-history').click();
    await page.getByTestId('history-item').first().waitFor();
    await expect.poll(async () => page.getByTestId('history-item').first().locator('.meta').textContent(), { timeout: 10_000 }).toContain('採用後に編集');
    await page.getByTestId('toggle-history').click();
    await page.getByTestId('editor').click();
    await page.keyboard.press(`${mod}+End`);
  });

  it('cycles through alternatives with Alt+↑/↓ and accepts the one shown', async () => {
    await setSampling('alternatives', 3);
    await page.keyboard.insertText('夕暮れの駅で、');
    const before = await editorText(page);
    await page.keyboard.press(`${mod}+Enter`);
    await waitForGenerationEnd(page);
    const seen = [(await proposalText(page)) ?? ''];
    await page.keyboard.press('Alt+ArrowDown');
    seen.push((await proposalText(page)) ?? '');
    await page.keyboard.press('Alt+ArrowDown');
    seen.push((await proposalText(page)) ?? '');
    await page.keyboard.press('Alt+ArrowDown');
    expect(await proposalText(page)).toBe(seen[0]); // wraps around
    await page.keyboard.press('Alt+ArrowUp');
    expect(await proposalText(page)).toBe(seen[2]);
    expect(new Set(seen).size, JSON.stringify(seen)).toBeGreaterThan(1);
    await page.keyboard.press('Tab');
    expect(await editorText(page)).toBe(before + seen[2]);

    // Without sampling each alternative would be the same text: the count shows 1, disabled, and one comes.
    await page.getByTestId('toggle-settings').click();
    await page.getByTestId('do-sample').uncheck();
    await expect.poll(() => page.getByTestId('alternatives').inputValue()).toBe('1');
    expect(await page.getByTestId('alternatives').isDisabled()).toBe(true);
    await page.getByTestId('toggle-settings').click();
    await page.getByTestId('editor').click();
    await page.keyboard.press(`${mod}+End`);
    await page.keyboard.press(`${mod}+Enter`);
    await waitForGenerationEnd(page);
    expect(await page.getByTestId('generation-bar').textContent()).not.toContain('候補');
    const greedy = await proposalText(page);
    await page.keyboard.press('Alt+ArrowDown');
    expect(await proposalText(page)).toBe(greedy);
    await page.keyboard.press('Escape');
    await page.getByTestId('toggle-settings').click();
    await page.getByTestId('do-sample').check();
    await expect.poll(() => page.getByTestId('alternatives').inputValue()).toBe('3');
    await page.getByTestId('toggle-settings').click();
    await setSampling('alternatives', 1);
  });

  it('keeps the document and the history across a reload, and finds generations by 1- and 3-character searches', async () => {
    const text = await editorText(page);
    await page.waitForTimeout(1500); // autosave is ≤ 1 s after the last keystroke
    await page.reload();
    await page.getByTestId('editor').waitFor();
    await page.getByTestId('document-title').filter({ hasText: /\S/ }).waitFor();
    await expect.poll(() => editorText(page)).toBe(text);
    // What came from the model is remembered with the text.
    await expect.poll(() => page.getByTestId('model-share').textContent()).toMatch(/[1-9]\d*%/);
    // The cursor is back where the writer left it (the end), and the text before it was read ahead on opening.
    const reopened = await continueAfterRest();
    expect(reopened.prompt).toBeGreaterThan(1);
    expect(reopened.reused).toBe(reopened.prompt);
    await page.keyboard.press('Escape');
    expect(await editorText(page)).toBe(text);

    await page.getByTestId('toggle-history').click();
    await page.getByTestId('history-item').first().waitFor();
    // A search term is a run of characters as the text has them: three characters with a space between them are no
    // substring of it (the tiny model writes spaces at random).
    const texts = await page.getByTestId('history-item').locator('.text').allTextContents();
    const word = texts.flatMap((t) => t.split(/[\s…]+/u)).map((w) => [...w]).find((w) => w.length >= 3);
    expect(word, texts.join('\n')).toBeDefined();
    for (const query of [word![0]!, word!.slice(0, 3).join('')]) {
      await page.getByTestId('history-search').fill(query);
      await page.waitForFunction((q) => [...document.querySelectorAll('[data-testid="history-item"] mark')].some((m) => m.textContent?.toLowerCase() === q.toLowerCase()), query);
      expect(await page.getByTestId('history-item').count()).toBeGreaterThan(0);
    }
    await page.screenshot({ path: artifactPath('history-panel.png') });
    await page.getByTestId('history-search').fill('');

    // Export everything as JSONL and import it back: nothing is added twice.
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'JSONL', exact: true }).click();
    const file = artifactPath('history-export.jsonl');
    await (await download).saveAs(file);
    expect(readFileSync(file, 'utf8').split('\n').filter(Boolean).length).toBeGreaterThan(1);
    await page.getByTestId('history-import').setInputFiles(file);
    await expect.poll(() => page.getByTestId('history-panel').getByRole('status').textContent()).toContain('生成 0 件、文書 0 件');
    await page.getByTestId('toggle-history').click();
  });

  it('writes vertically (縦書き) and continues there too', async () => {
    await page.getByTestId('toggle-vertical').click();
    expect(await page.locator('.surface.vertical').count()).toBe(1);
    await page.getByTestId('editor').click();
    await page.keyboard.press(`${mod}+End`);
    const before = await editorText(page);
    await page.keyboard.press(`${mod}+Enter`);
    await waitForGenerationEnd(page);
    const proposed = (await proposalText(page)) ?? '';
    await page.screenshot({ path: artifactPath('editor-vertical.png') });
    await page.keyboard.press('Tab');
    expect(await editorText(page)).toBe(before + proposed);
    const mode = await page.getByTestId('editor').evaluate((el) => getComputedStyle(el).writingMode);
    expect(mode).toBe('vertical-rl');
  });
});
