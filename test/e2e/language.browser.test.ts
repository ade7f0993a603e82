/**
 * Every screen speaks the writer's language, whatever the browser's: each screen, panel and question is opened in Japanese
 * (in a browser set to English) and in English (in a browser set to Japanese), and what it shows (text, titles,
 * placeholders, accessible names) holds no word of the other language, apart from names that are the same in both
 * (CPU, ONNX Runtime, Hugging Face, the model's name, key names…). The writer's own text is not checked.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../helpers/browser';
import { mod, proposalText, waitForGenerationEnd } from '../helpers/editor';
import { buildRenderer } from '../helpers/renderer';
import { startServe, type Served } from '../helpers/serve';
import { convertTinyModel } from '../helpers/tiny-model';

type Locale = 'ja' | 'en';

/** Where the writer's own words (or the model's) are shown: their language is the writer's business. */
const USER_TEXT = [
  '[data-testid="editor"]',
  '[data-testid="preview"]',
  '[data-testid="memo"]',
  '[data-testid="document-title"]',
  '[data-testid="document-item"] .title',
  '[data-testid="trash-list"] .title',
  '[data-testid="history-list"] .text',
  '[data-testid="history-list"] .document',
  '[data-testid="history-detail"] .context',
  '[data-testid="revisions-panel"] .preview',
  '[data-testid="revisions-panel"] .body',
  '[data-testid="context-viewer"] pre',
].join(',');

/** Names and symbols that read the same in both languages. */
const SHARED_NAMES: RegExp[] = [
  /ONNX Runtime/g,
  /Hugging Face/g,
  /rinna\/japanese-gpt-1b/g,
  /~\/\.cache\/huggingface\/hub\/models--rinna--japanese-gpt-1b\/snapshots\/…/g,
  /\bsnapshots\/…/g, // the cache's folder, in the import hint
  /https:\/\/huggingface\.co/g,
  /hf_…/g,
  /tsuzuki serve/g,
  /Tsuzuki/g,
  /Node\.js/g,
  /Electron/g,
  /JSONL|Markdown|URL/g,
  /\b(?:EPUB 3|EPUB|docx|UTF-8|Shift_JIS|EUC-JP|BOM|CRLF|LF|Windows)\b/g, // file formats, encodings and the system CRLF is for, in the export panel
  /\b(?:CPU|GPU|NVIDIA|CUDA|DirectML|CoreML|WebGPU|Apple|AI)\b/g,
  /\b(?:int4|int8|fp16|fp32)\b/g,
  /\b(?:KB|MB|GB|TB)\b/g, // units
  /\btop-[kp]\b/g,
  /\b(?:Ctrl|Alt|Shift|Tab|Enter|Esc|Escape|Space|Backspace|Delete|Up|Down|Left|Right|PageUp|PageDown)\b/g,
  /\b(?:linux|darwin|win32|x64|arm64)\b/g, // About: the platform, as Node names it
  /[\w.-]*ExecutionProvider\b/g, // About: onnxruntime's providers, by their API names
  /。」！？/g, // the sentence ends a continuation stops at, named in the English label too
];
/** Each language's own name, in the language menu. */
const LANGUAGE_NAMES: Record<Locale, RegExp> = { ja: /English/g, en: /日本語/g };
/** What may not appear: Latin words on a Japanese screen, kana and kanji (and full-width punctuation) on an English one. */
const FOREIGN: Record<Locale, RegExp> = { ja: /[A-Za-z]{2,}/g, en: /[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef]+/g };

interface Shown {
  text: string;
  where: string;
}

/** The text a person sees or hears on the page now: visible text nodes, titles, placeholders, accessible names. */
function shownText(page: Page): Promise<Shown[]> {
  return page.evaluate((excluded) => {
    const shown: { text: string; where: string }[] = [];
    const where = (el: Element) => `${el.closest('[data-testid]')?.getAttribute('data-testid') ?? 'page'} <${el.tagName.toLowerCase()}>`;
    // Closed <details> (詳細) and hidden views do not count: checkVisibility is false inside them.
    const visible = (el: Element) => el.checkVisibility({ visibilityProperty: true });
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const el = node.parentElement;
      const text = node.textContent?.trim();
      if (!el || !text || el.closest(excluded) || el.closest('script, style')) continue;
      // An option is seen when its menu opens: it counts when its select is visible.
      if (visible(el.closest('select') ?? el)) shown.push({ text, where: where(el) });
    }
    for (const el of document.body.querySelectorAll('[title], [placeholder], [aria-label], [alt], input[type="button"], input[type="submit"]')) {
      if (el.closest(excluded) || !visible(el)) continue;
      for (const name of ['title', 'placeholder', 'aria-label', 'alt', 'value']) {
        if (name === 'value' && !(el instanceof HTMLInputElement && (el.type === 'button' || el.type === 'submit'))) continue;
        const text = el.getAttribute(name)?.trim();
        if (text) shown.push({ text, where: `${where(el)}[${name}]` });
      }
    }
    return shown;
  }, USER_TEXT);
}

const asWord = (name: string) => new RegExp(`(?<![\\w-])${name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}(?![\\w-])`, 'g');

/** The words of the other language on the page now, each with where it is. */
async function foreignWords(page: Page, locale: Locale, extraNames: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const { text, where } of [...(await shownText(page)), { text: await page.title(), where: 'window title' }]) {
    let rest = text;
    for (const pattern of [...SHARED_NAMES, LANGUAGE_NAMES[locale], ...extraNames.map(asWord)]) rest = rest.replace(pattern, ' ');
    for (const word of rest.match(FOREIGN[locale]) ?? []) found.push(`${where}: "${word}" in "${text}"`);
  }
  return found;
}

let served: Served;
/** A first start: no model yet, so the setup screen opens first. */
let bare: Served;
let browser: Browser;
let home: string;

beforeAll(async () => {
  const [renderer, model] = await Promise.all([buildRenderer(), convertTinyModel('tiny-safetensors-fp32', 'fp32')]);
  home = mkdtempSync(join(tmpdir(), 'tsuzuki-language-'));
  const env = { TSUZUKI_HOME: home, HF_HOME: join(home, 'hf') };
  [served, bare, browser] = await Promise.all([
    startServe(['--renderer', renderer, '--db', join(home, 'tsuzuki.db'), '--model', model], env),
    startServe(['--renderer', renderer, '--db', join(home, 'bare.db'), '--models', join(home, 'no-models')], env),
    launchBrowser(),
  ]);
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await Promise.all([served?.stop(), bare?.stop()]);
});

describe.each([
  ['ja', 'en-US'],
  ['en', 'ja-JP'],
] as const)('every screen in %s (the browser set to %s)', (locale, browserLocale) => {
  it('shows no word of the other language', async () => {
    const context = await browser.newContext({ locale: browserLocale, viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(served.url);
    await page.getByTestId('editor').waitFor();
    await page.getByTestId('language').selectOption(locale);
    // The model's name is the writer's (its folder's): it is the same in both languages.
    const names = [(await page.getByTestId('model-name').textContent()) ?? ''];
    const problems: string[] = [];
    const check = async (screen: string, userNames: string[] = []) => {
      for (const word of await foreignWords(page, locale, [...names, ...userNames])) problems.push(`${screen} · ${word}`);
    };
    await check('editor');

    // A continuation: the proposal's hints, then the bar's statistics once it is accepted.
    await page.getByTestId('editor').click();
    await page.keyboard.insertText('吾輩は猫である。');
    await page.keyboard.press(`${mod}+Enter`);
    await expect.poll(() => proposalText(page), { timeout: 60_000 }).toBeTruthy();
    await waitForGenerationEnd(page);
    await check('proposal');
    await page.keyboard.press('Tab');
    await check('after a continuation');

    for (const panel of ['memo', 'steering', 'aids', 'context', 'revisions', 'history', 'branches', 'manuscript', 'settings']) {
      await page.getByTestId(`toggle-${panel}`).click();
      await page.locator('aside.panel').waitFor();
      await check(panel);
      if (panel === 'history') {
        await page.getByTestId('history-item').first().click();
        await page.getByTestId('history-detail').waitFor();
        await check('history detail');
      }
      await page.getByTestId(`toggle-${panel}`).click();
    }
    await page.getByTestId('toggle-preview').click();
    await check('preview');
    await page.getByTestId('toggle-preview').click();
    // A document in the trash, and the question before it is deleted for good: asked by the page, not by a native
    // confirm() whose buttons would be in the browser's language.
    const documents = page.getByTestId('document-item');
    const before = await documents.count();
    await page.getByTestId('new-document').click();
    await expect.poll(() => documents.count(), { timeout: 10_000 }).toBe(before + 1);
    await documents.last().hover(); // its buttons show on hover
    await page.getByTestId('delete-document').last().click();
    await expect.poll(() => documents.count(), { timeout: 10_000 }).toBe(before);
    await page.getByTestId('toggle-trash').click();
    await page.getByTestId('purge-document').first().waitFor();
    await check('trash');
    await page.getByTestId('purge-document').first().click();
    await page.getByTestId('confirm').waitFor({ timeout: 5_000 });
    // The question names the document: its title is the writer's (made in the other language by the other run).
    await check('confirmation', await page.getByTestId('trash-list').locator('.title').allTextContents());
    await page.getByTestId('confirm-cancel').click();
    await page.getByTestId('confirm').waitFor({ state: 'detached' });
    await page.getByTestId('toggle-trash').click();

    await page.getByTestId('nav-models').click();
    await page.getByTestId('models-screen').waitFor();
    await check('models');
    // An error from the service: the sentence in the UI's language, the service's English folded under 詳細.
    await page.getByTestId('model-import-path').fill(join(home, 'no such folder'));
    await page.getByTestId('model-import').click();
    await page.getByTestId('models-screen').getByRole('alert').waitFor();
    await check('models, after a failed import');

    expect(problems).toEqual([]);
    await context.close();
  }, 120_000);

  it('the first start (no model yet) shows no word of the other language', async () => {
    const context = await browser.newContext({ locale: browserLocale, viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(bare.url);
    await page.getByTestId('models-screen').waitFor();
    await page.getByTestId('language').selectOption(locale);
    const problems = (await foreignWords(page, locale, [])).map((word) => `first start · ${word}`);
    await page.getByTestId('models-close').click();
    await page.getByTestId('editor').waitFor();
    problems.push(...(await foreignWords(page, locale, [])).map((word) => `editor without a model · ${word}`));
    expect(problems).toEqual([]);
    await context.close();
  });
});
