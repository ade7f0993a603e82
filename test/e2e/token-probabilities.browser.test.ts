/**
 * The token view (表示 › トークン確率) in a real browser against `tsuzuki serve` with the tiny fixture model: off, the
 * proposal is plain text; on, it shows its tokens, pointing at one (or Alt+→ from the keyboard) shows its candidates
 * with both probabilities, and choosing one rewrites the proposal from that token and continues from there, in 横書き
 * and in 縦書き; the text just accepted keeps its tokens, and a candidate chosen there replaces the text from it on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { editorText, fixSeed, mod, openEditor, proposalText, waitForGenerationEnd, type OpenEditor } from '../helpers/editor';

let editor: OpenEditor;
let page: Page;
const start = '吾輩は猫である。名前はまだ無い。';

beforeAll(async () => {
  editor = await openEditor(['--device', 'cpu']);
  page = editor.page;
  await page.getByTestId('document-title').filter({ hasText: /\S/ }).waitFor();
  await fixSeed(page, 4321);
  await page.getByTestId('editor').click();
  await page.keyboard.insertText(start);
}, 180_000);
afterAll(async () => {
  await editor?.close();
});

async function propose(): Promise<string> {
  await page.keyboard.press(`${mod}+Enter`);
  await page.getByTestId('proposal').waitFor();
  await waitForGenerationEnd(page);
  return (await proposalText(page)) ?? '';
}

const tokens = () => page.getByTestId('proposal').locator('[data-token]');
const popup = () => page.getByTestId('token-candidates');

/** Each candidate row of the popup: its text, whether it can be chosen, and its two percentages. */
async function candidateRows() {
  return popup()
    .locator('tbody tr')
    .evaluateAll((rows) =>
      rows.map((row) => {
        const button = row.querySelector('button')!;
        const [filtered, raw] = [...row.querySelectorAll('td.p')].map((td) => td.textContent ?? '');
        return { text: button.textContent ?? '', enabled: !button.disabled, chosen: row.classList.contains('chosen'), filtered, raw };
      }),
    );
}

/** The text of the shown tokens before token `index` (their order is the text's). */
async function textBefore(index: number): Promise<string> {
  const texts = await tokens().allTextContents();
  return texts.slice(0, index).join('');
}

describe('token probabilities', () => {
  it('off (the default), the proposal shows no tokens and nothing opens', async () => {
    expect(await page.getByTestId('toggle-token-probabilities').getAttribute('aria-pressed')).toBe('false');
    expect((await propose()).length).toBeGreaterThan(0);
    expect(await tokens().count()).toBe(0);
    await page.getByTestId('proposal').hover();
    expect(await popup().count()).toBe(0);
    await page.keyboard.press('Escape');
    expect(await proposalText(page)).toBeNull();
  });

  it('on, pointing at a token shows its candidates; choosing one rewrites the proposal from there and continues', async () => {
    await page.getByTestId('toggle-token-probabilities').click();
    expect(await page.getByTestId('toggle-token-probabilities').getAttribute('aria-pressed')).toBe('true');
    await page.getByTestId('editor').click();
    await page.keyboard.press(`${mod}+End`);
    const proposed = await propose();
    expect(await tokens().count()).toBeGreaterThan(3);
    // The tokens cover the proposal: together they are its text.
    expect((await tokens().allTextContents()).join('')).toBe(proposed);

    await tokens().nth(2).hover();
    await popup().waitFor();
    expect(await popup().textContent()).toContain('フィルタ後');
    expect(await popup().textContent()).toContain('生の確率');
    const rows = await candidateRows();
    expect(rows.length).toBeGreaterThanOrEqual(10);
    expect(rows.filter((r) => r.chosen)).toHaveLength(1);
    expect(rows.find((r) => r.chosen)!.text).toBe(await tokens().nth(2).textContent());
    for (const r of rows) expect(r.raw).toMatch(/^(<0\.1|\d+\.\d)%$|^0%$/);
    // The pointer off the tokens closes it; back on one opens it again.
    await page.getByTestId('editor').locator('p').first().hover({ position: { x: 5, y: 5 } });
    await popup().waitFor({ state: 'detached' });
    await tokens().nth(2).hover();
    await popup().waitFor();

    const choice = rows.findIndex((r) => r.enabled && r.text.trim().length > 0);
    expect(choice).toBeGreaterThanOrEqual(0);
    const head = (await textBefore(2)) + rows[choice]!.text;
    await popup().getByTestId('token-candidate').nth(choice).click();
    await expect.poll(() => proposalText(page), { timeout: 10_000 }).not.toBe(proposed);
    await waitForGenerationEnd(page);
    const rewritten = (await proposalText(page))!;
    expect(rewritten.startsWith(head)).toBe(true);
    expect(rewritten.length).toBeGreaterThan(head.length);
    // The chosen candidate is a token of the new proposal, and so are the ones written after it.
    expect(await tokens().nth(2).textContent()).toBe(rows[choice]!.text);
    expect((await tokens().allTextContents()).join('')).toBe(rewritten);

    await page.keyboard.press('Tab');
    expect(await editorText(page)).toBe(start + rewritten);
  });

  it('the text just accepted keeps its tokens: choosing a candidate there replaces the text from that token on and continues', async () => {
    const accepted = page.getByTestId('editor').locator('[data-accepted-token]');
    expect(await accepted.count()).toBeGreaterThan(3);
    const text = await editorText(page);
    await accepted.nth(3).hover();
    await popup().waitFor();
    const rows = await candidateRows();
    const choice = rows.findIndex((r) => r.enabled && r.text.trim().length > 0);
    const kept = (await accepted.allTextContents()).slice(0, 3).join('');
    await popup().getByTestId('token-candidate').nth(choice).click();
    // The text from the token on is gone from the document; the candidate heads the new proposal.
    await expect.poll(() => editorText(page)).toBe(start + kept);
    await page.getByTestId('proposal').waitFor();
    await waitForGenerationEnd(page);
    const proposed = (await proposalText(page))!;
    expect(proposed.startsWith(rows[choice]!.text)).toBe(true);
    await page.keyboard.press('Tab');
    expect(await editorText(page)).toBe(start + kept + proposed);
    // Undo puts back what was accepted before.
    await page.keyboard.press(`${mod}+z`);
    await page.keyboard.press(`${mod}+z`);
    expect(await editorText(page)).toBe(text);
  });

  it('in 縦書き, Alt+→ opens the candidates from the keyboard beside the token; ↓ and Enter choose one', async () => {
    await page.getByTestId('toggle-vertical').click();
    await page.getByTestId('editor').click();
    await page.keyboard.press(`${mod}+End`);
    const before = await editorText(page);
    const proposed = await propose();
    await page.keyboard.press('Alt+ArrowRight');
    await popup().waitFor();
    await page.keyboard.press('Alt+ArrowRight');
    await expect.poll(() => page.locator('.proposal .token.selected').getAttribute('data-token')).toBe('1');
    // The popup sits to the left of the token, the way the lines go.
    const token = (await page.locator('.proposal .token.selected').boundingBox())!;
    const box = (await popup().boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(token.x + 1);

    const rows = await candidateRows();
    const enabled = rows.map((r, i) => ({ ...r, i })).filter((r) => r.enabled);
    // Focus starts on the first candidate that can be chosen; ↓ moves to the next one.
    await page.keyboard.press('ArrowDown');
    const head = (await textBefore(1)) + enabled[1]!.text;
    await page.keyboard.press('Enter');
    await expect.poll(() => proposalText(page), { timeout: 10_000 }).not.toBe(proposed);
    await waitForGenerationEnd(page);
    expect((await proposalText(page))!.startsWith(head)).toBe(true);
    // Escape still rejects the proposal: the document is as it was.
    await page.keyboard.press('Escape');
    expect(await editorText(page)).toBe(before);
  });
});
