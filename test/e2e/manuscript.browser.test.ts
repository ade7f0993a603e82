/**
 * The manuscript as a writer sees it, in a real browser against `tsuzuki serve` with the tiny fixture model: the
 * text the model wrote keeps a faint mark until the writer changes it (a toolbar toggle hides it, and the setting
 * stays), the status bar and the document list give the same 文字数 (ruby readings excluded), and in 縦書き a
 * two-digit number and !? stand upright (縦中横) while no line starts or ends with a character 禁則 forbids there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { countChars } from '../../src-main/manuscript/counts';
import { editorText, fixSeed, mod, openEditor, proposalText, waitForGenerationEnd, type OpenEditor } from '../helpers/editor';

let editor: OpenEditor;
let page: Page;

beforeAll(async () => {
  editor = await openEditor(['--device', 'cpu']);
  page = editor.page;
  await page.getByTestId('document-title').filter({ hasText: /\S/ }).waitFor();
  await fixSeed(page, 1234);
}, 180_000);
afterAll(async () => {
  await editor?.close();
});

/** The editor's runs of text that carry the model's mark, in order. */
function machineRuns(): Promise<string[]> {
  return page.getByTestId('editor').evaluate((el) => [...el.querySelectorAll('.generated')].map((n) => n.textContent ?? ''));
}

/** The computed background of the first run the model wrote. */
function machineBackground(): Promise<string> {
  return page.getByTestId('editor').evaluate((el) => getComputedStyle(el.querySelector('.generated')!).backgroundColor);
}

/** The number after a label in the status bar, e.g. 文字数 1,234 → 1234. */
async function statusNumber(testId: string): Promise<number> {
  const text = (await page.getByTestId(testId).textContent()) ?? '';
  return Number(/[\d,]+/.exec(text)![0].replace(/,/g, ''));
}

async function newDocument(): Promise<void> {
  await page.getByTestId('new-document').click();
  await expect.poll(() => editorText(page)).toBe('');
  await page.getByTestId('editor').click();
}

describe('text the model wrote', () => {
  let accepted = '';

  it('keeps a faint mark once accepted, and the status bar counts it apart from the writer’s', async () => {
    await page.getByTestId('editor').click();
    await page.keyboard.insertText('吾輩は猫である。');
    await page.keyboard.press(`${mod}+Enter`);
    await page.getByTestId('proposal').waitFor();
    await waitForGenerationEnd(page);
    accepted = (await proposalText(page)) ?? '';
    await page.keyboard.press('Tab');
    await expect.poll(() => editorText(page)).toBe(`吾輩は猫である。${accepted}`);
    expect((await machineRuns()).join('\n')).toBe(accepted);
    expect(await machineBackground()).not.toBe('rgba(0, 0, 0, 0)');
    await expect.poll(() => statusNumber('model-share')).toBe(countChars(accepted));
    await expect.poll(() => statusNumber('human-chars')).toBe(countChars('吾輩は猫である。'));
  });

  it('loses the mark on a character the writer types inside it; the rest keeps it', async () => {
    const lastLine = accepted.split('\n').at(-1)!;
    // The fixed seed's continuation ends in a line long enough to type inside.
    expect([...lastLine].length, accepted).toBeGreaterThan(3);
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.type('X');
    const chars = [...lastLine];
    const edited = chars.slice(0, -2).join('') + 'X' + chars.slice(-2).join('');
    await expect.poll(() => editorText(page)).toBe(`吾輩は猫である。${accepted.slice(0, accepted.length - lastLine.length)}${edited}`);
    const runs = await machineRuns();
    expect(runs.join('')).not.toContain('X');
    expect(runs.join('')).toBe(accepted.replace(/\n/g, ''));
    await expect.poll(() => statusNumber('human-chars')).toBe(countChars('吾輩は猫である。X'));
    await expect.poll(() => statusNumber('model-share')).toBe(countChars(accepted));
  });

  it('loses it on a character composed with an IME there too, and undo gives the model’s text back whole', async () => {
    const cdp = await page.context().newCDPSession(page);
    // Between the two characters of the model's text left after the X typed above.
    await page.keyboard.press('ArrowRight');
    // As an IME converts: the last composition already shows the text that is committed.
    for (const composing of ['ね', 'ねこ', '猫']) await cdp.send('Input.imeSetComposition', { text: composing, selectionStart: composing.length, selectionEnd: composing.length });
    await cdp.send('Input.insertText', { text: '猫' });
    const chars = [...accepted];
    await expect.poll(() => editorText(page)).toBe(`吾輩は猫である。${chars.slice(0, -2).join('')}X${chars.at(-2)}猫${chars.at(-1)}`);
    await expect.poll(async () => (await machineRuns()).join('')).toBe(accepted.replace(/\n/g, ''));
    await expect.poll(() => statusNumber('human-chars')).toBe(countChars('吾輩は猫である。X猫'));
    await page.keyboard.press(`${mod}+z`);
    await expect.poll(() => editorText(page)).toBe(`吾輩は猫である。${chars.slice(0, -2).join('')}X${chars.slice(-2).join('')}`);
    await page.keyboard.press(`${mod}+z`);
    await expect.poll(() => editorText(page)).toBe(`吾輩は猫である。${accepted}`);
    await expect.poll(async () => (await machineRuns()).join('\n')).toBe(accepted);
    await cdp.detach();
  });

  it('hides the mark with the toolbar toggle, and remembers the choice across a reload', async () => {
    await page.getByTestId('toggle-machine-text').click();
    await expect.poll(machineBackground).toBe('rgba(0, 0, 0, 0)');
    // The mark itself stays with the text: only its colour is hidden.
    expect((await machineRuns()).join('')).toBe(accepted.replace(/\n/g, ''));
    await page.getByTestId('save-state').filter({ hasText: '保存済み' }).waitFor();
    await page.reload();
    await page.getByTestId('editor').waitFor();
    await expect.poll(() => page.getByTestId('toggle-machine-text').getAttribute('aria-pressed')).toBe('false');
    await expect.poll(machineBackground).toBe('rgba(0, 0, 0, 0)');
    await page.getByTestId('toggle-machine-text').click();
    await expect.poll(machineBackground).not.toBe('rgba(0, 0, 0, 0)');
  });
});

describe('文字数', () => {
  it('is the same in the document list and the status bar for text with ruby, and after a reload', async () => {
    await newDocument();
    const text = '彼は｜小鳥遊《たかなし》と名乗った。\n東京《とうきょう》の 空';
    await page.keyboard.insertText('彼は｜小鳥遊《たかなし》と名乗った。');
    await page.keyboard.press('Enter');
    await page.keyboard.insertText('東京《とうきょう》の 空');
    expect(await editorText(page)).toBe(text);
    const expected = countChars(text);
    expect(expected).toBe(16);
    await expect.poll(() => statusNumber('char-count')).toBe(expected);
    await page.getByTestId('save-state').filter({ hasText: '保存済み' }).waitFor();
    const listed = () => page.getByTestId('document-list').locator('li.current').getByTestId('document-item').textContent();
    await expect.poll(async () => /文字数 (\d+)/.exec((await listed()) ?? '')?.[1]).toBe(String(expected));
    await page.reload();
    await page.getByTestId('editor').waitFor();
    await expect.poll(() => editorText(page)).toBe(text);
    await expect.poll(async () => /文字数 (\d+)/.exec((await listed()) ?? '')?.[1]).toBe(String(expected));
    await expect.poll(() => statusNumber('char-count')).toBe(expected);
  });
});

/** 行頭禁則: never the first character of a line; 行末禁則: never the last. */
const NOT_AT_START = [...'、。，．）」』】〕〉》’”ゝゞーぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ・：；？！'];
const NOT_AT_END = [...'（「『【〔〈《‘“'];

/**
 * The lines (columns in 縦書き) of the editor's last paragraph as laid out, from each character's box: a new column
 * starts where a character's box moves sideways by more than half a character.
 */
function laidOutLines(selector: string): Promise<string[]> {
  return page.evaluate((selector) => {
    const paragraph = [...document.querySelectorAll(`${selector} p`)].at(-1)!;
    const lines: string[] = [];
    let last: number | null = null;
    const walker = document.createTreeWalker(paragraph, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.textContent ?? '';
      for (let i = 0; i < text.length; i++) {
        const range = document.createRange();
        range.setStart(node, i);
        range.setEnd(node, i + 1);
        const box = range.getBoundingClientRect();
        if (last === null || Math.abs(box.left - last) > box.width / 2) lines.push(text[i]!);
        else lines.push(lines.pop()! + text[i]!);
        last = box.left;
      }
    }
    return lines;
  }, selector);
}

function uprightRuns(selector: string): Promise<{ text: string; combine: string }[]> {
  return page.evaluate(
    (selector) => [...document.querySelectorAll(`${selector} .upright`)].map((n) => ({ text: n.textContent ?? '', combine: getComputedStyle(n).textCombineUpright })),
    selector,
  );
}

describe('縦書き', () => {
  it('sets a two-digit number and !? upright (縦中横) in the editor and the preview, and nothing longer', async () => {
    await newDocument();
    await page.getByTestId('toggle-vertical').click();
    await page.getByTestId('editor').click();
    await page.keyboard.insertText('第12話「何!?」と100円、3人。本当?!');
    const expected = [
      { text: '12', combine: 'all' },
      { text: '!?', combine: 'all' },
      { text: '?!', combine: 'all' },
    ];
    await expect.poll(() => uprightRuns('[data-testid="editor"]')).toEqual(expected);
    await page.getByTestId('toggle-preview').click();
    await expect.poll(() => uprightRuns('[data-testid="preview"]')).toEqual(expected);
    await page.getByTestId('toggle-preview').click();
  });

  it('keeps 禁則 in a narrow column: no line starts or ends with a character that may not stand there', async () => {
    // Each forbidden character after (or before) a run of 1–5 others, so that columns end at every kind of place.
    const text =
      NOT_AT_START.map((c, i) => `${'あ'.repeat(1 + (i % 5))}${c}`).join('') + NOT_AT_END.map((c, i) => `${c}${'い'.repeat(1 + (i % 5))}`).join('');
    await page.setViewportSize({ width: 1000, height: 400 });
    await newDocument();
    await page.getByTestId('toggle-vertical').click();
    await expect.poll(() => page.getByTestId('toggle-vertical').getAttribute('aria-pressed')).toBe('true');
    await page.getByTestId('editor').click();
    await page.keyboard.insertText(text);
    for (const selector of ['[data-testid="editor"]', '[data-testid="preview"]']) {
      if (selector.includes('preview')) await page.getByTestId('toggle-preview').click();
      await expect.poll(() => laidOutLines(selector).then((lines) => lines.join(''))).toBe(text);
      const lines = await laidOutLines(selector);
      // Narrow: the paragraph takes many columns.
      expect(lines.length, selector).toBeGreaterThan(10);
      for (const [i, line] of lines.entries()) {
        if (i > 0) expect(NOT_AT_START, `${selector} column ${i + 1} starts with ${line}`).not.toContain(line[0]);
        if (i < lines.length - 1) expect(NOT_AT_END, `${selector} column ${i + 1} ends with ${line}`).not.toContain(line.at(-1));
      }
    }
    await page.getByTestId('toggle-preview').click();
  });
});
