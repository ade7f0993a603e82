/**
 * 書き出し・読み込み in a real browser against `tsuzuki serve`: a writer exports the open document as EPUB (横書き,
 * then 縦書き, which the export follows), as なろう text with CRLF and as .docx, saving each download; then imports a
 * Shift_JIS file and a .docx (which keeps its title and 縦書き) as new documents, and a file that is not text, which is
 * refused in words.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { editorText, openEditor, type OpenEditor } from '../helpers/editor';
import { repoRoot } from '../helpers/serve';

let editor: OpenEditor;
let page: Page;

beforeAll(async () => {
  editor = await openEditor(['--device', 'cpu']);
  page = editor.page;
  await page.getByTestId('document-title').filter({ hasText: /\S/ }).waitFor();
  await page.getByTestId('editor').click();
  await page.keyboard.insertText('吾輩は猫《ねこ》である。');
  await page.keyboard.press('Enter');
  await page.keyboard.insertText('12時に東京（とうきょう）へ!?');
}, 180_000);
afterAll(async () => {
  await editor?.close();
});

/** Chooses the options, clicks 書き出す and returns the saved file's name and bytes. */
async function exportAs(format: string, ruby?: string, check?: string): Promise<{ name: string; bytes: Uint8Array }> {
  const panel = page.getByTestId('manuscript-panel');
  await panel.getByTestId('export-format').selectOption(format);
  if (ruby) await panel.getByTestId('export-ruby').selectOption(ruby);
  if (check) await panel.getByTestId(check).check();
  const [download] = await Promise.all([page.waitForEvent('download'), panel.getByRole('button', { name: '書き出す' }).click()]);
  return { name: download.suggestedFilename(), bytes: readFileSync(await download.path()) };
}

/** Whether the browser's own XML parser reads the text as well-formed XHTML. */
function parsesAsXhtml(xhtml: string): Promise<boolean> {
  return page.evaluate((text) => new DOMParser().parseFromString(text, 'application/xhtml+xml').getElementsByTagName('parsererror').length === 0, xhtml);
}

/** Opens the panel from the toolbar, unless it is open. */
async function openPanel(): Promise<void> {
  if (!(await page.getByTestId('manuscript-panel').isVisible())) await page.getByRole('button', { name: '書き出し・読み込み' }).click();
  await page.getByTestId('manuscript-panel').waitFor();
}

describe('書き出し・読み込み', () => {
  it('exports EPUB in the writing mode of the document, with ruby and 縦中横, XHTML the browser parses as XML', async () => {
    await openPanel();
    const horizontal = await exportAs('epub');
    expect(horizontal.name).toMatch(/\.epub$/);
    const files = unzipSync(horizontal.bytes);
    expect(strFromU8(horizontal.bytes.subarray(30, 38))).toBe('mimetype');
    expect(strFromU8(files['OEBPS/style.css']!)).toContain('writing-mode: horizontal-tb;');

    await page.getByTestId('toggle-vertical').click();
    await openPanel();
    await expect.poll(() => page.getByTestId('export-vertical').isChecked()).toBe(true);
    const vertical = unzipSync((await exportAs('epub')).bytes);
    expect(strFromU8(vertical['OEBPS/style.css']!)).toContain('-epub-writing-mode: vertical-rl;');
    expect(strFromU8(vertical['OEBPS/package.opf']!)).toContain('page-progression-direction="rtl"');
    const text = strFromU8(vertical['OEBPS/text.xhtml']!);
    expect(text).toContain('<ruby>猫<rp>（</rp><rt>ねこ</rt><rp>）</rp></ruby>');
    expect(text).toContain('<span class="tcy">12</span>');
    for (const name of ['OEBPS/text.xhtml', 'OEBPS/nav.xhtml']) expect(await parsesAsXhtml(strFromU8(vertical[name]!))).toBe(true);
  });

  it('exports なろう text with CRLF, and .docx', async () => {
    const narou = await exportAs('txt', 'narou', 'export-crlf');
    expect(narou.name).toMatch(/\.txt$/);
    expect(new TextDecoder().decode(narou.bytes)).toBe('吾輩は|猫《ねこ》である。\r\n12時に東京|（とうきょう）へ!?');
    const docx = await exportAs('docx');
    expect(strFromU8(unzipSync(docx.bytes)['word/document.xml']!)).toContain('<w:textDirection w:val="tbRl"/>');
  });

  it('imports a Shift_JIS text file and a .docx as new documents, and refuses a file that is not text', async () => {
    await openPanel();
    const panel = page.getByTestId('manuscript-panel');
    await panel.getByTestId('import-document').setInputFiles(join(repoRoot, 'test/fixtures/manuscript/sjis.txt'));
    await page.getByTestId('document-title').filter({ hasText: /^sjis$/ }).waitFor();
    await expect.poll(() => editorText(page)).toBe('吾輩は猫《ねこ》である。名前はまだ無い。\nどこで生れたかとんと見当がつかぬ。\n');
    await page.getByTestId('document-item').filter({ hasText: 'sjis' }).waitFor();

    await openPanel();
    const docx = await exportAs('docx', undefined, 'export-vertical');
    await page.getByTestId('manuscript-panel').getByTestId('import-document').setInputFiles({ name: 'sjis.docx', mimeType: 'application/octet-stream', buffer: Buffer.from(docx.bytes) });
    // Its Title paragraph (the document's title, written by the export) names the new document.
    await expect.poll(() => page.getByTestId('document-item').filter({ hasText: 'sjis' }).count()).toBe(2);
    await expect.poll(() => editorText(page)).toBe('吾輩は｜猫《ねこ》である。名前はまだ無い。\nどこで生れたかとんと見当がつかぬ。\n');
    // Exported in 縦書き, it comes back in 縦書き.
    expect(await page.getByTestId('toggle-vertical').getAttribute('aria-pressed')).toBe('true');

    await openPanel();
    await page.getByTestId('manuscript-panel').getByTestId('import-document').setInputFiles({ name: 'image.txt', mimeType: 'text/plain', buffer: Buffer.from([0x82, 0xa0, 0xff, 0xfe, 0x80]) });
    await expect.poll(() => page.getByTestId('import-error').textContent()).toContain('このファイルは読み込めませんでした');
  });
});
