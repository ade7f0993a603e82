import { strFromU8, unzipSync, Zip, ZipDeflate, zipSync, strToU8 } from 'fflate';
import mammoth from 'mammoth';
import { describe, expect, it } from 'vitest';
import { exportDocx } from '../../../src-main/manuscript-io/docx-export';
import { docxText } from '../../../src-main/manuscript-io/docx-import';
import { toManuscript } from '../../../src-main/manuscript-io/manuscript';

const BODY = '吾輩は猫《ねこ》である。｜名前《なまえ》はまだ無い。\n\n機械の文 & <記号>\n制御\u0001文字｜字《\u0002》';
const docx = (options: Parameters<typeof exportDocx>[1]) => exportDocx(toManuscript({ title: '吾輩は猫である', body: BODY, generatedRanges: [[28, 39]] }), options);

/** A ZIP whose word/document.xml inflates to `bytes` bytes of spaces, from a few hundred KB, never held whole. */
function zipBomb(bytes: number): Uint8Array {
  const chunks: Uint8Array[] = [];
  const zip = new Zip((error, chunk) => {
    if (error) throw error;
    chunks.push(chunk);
  });
  const entry = new ZipDeflate('word/document.xml', { level: 1 });
  zip.add(entry);
  const block = new Uint8Array(1024 * 1024).fill(0x20);
  for (let i = 0; i < bytes / block.length; i++) entry.push(block);
  entry.push(new Uint8Array(0), true);
  zip.end();
  return Uint8Array.from(Buffer.concat(chunks));
}

describe('.docx export', () => {
  it('opens in mammoth with the text, and writes ruby as Word ruby (w:ruby with rt and rubyBase)', async () => {
    const bytes = await docx({ ruby: 'markup', vertical: false, marks: false });
    const { value } = await mammoth.extractRawText({ buffer: Buffer.from(bytes) });
    // mammoth reads no ruby: it shows the text around it.
    expect(value).toContain('である。');
    expect(value).toContain('機械の文 & <記号>');
    const xml = strFromU8(unzipSync(bytes)['word/document.xml']!);
    expect(xml).toMatch(/<w:ruby><w:rubyPr>.*?<w:lid w:val="ja-JP"\/><\/w:rubyPr><w:rt><w:r>.*?<w:t xml:space="preserve">ねこ<\/w:t><\/w:r><\/w:rt><w:rubyBase><w:r>.*?<w:t xml:space="preserve">猫<\/w:t><\/w:r><\/w:rubyBase><\/w:ruby>/);
    expect(xml).toContain('<w:t xml:space="preserve">なまえ</w:t>');
    // Characters XML 1.0 cannot hold (Word refuses the file) are replaced, in text and in ruby.
    // eslint-disable-next-line no-control-regex -- these are the characters that must not be there
    expect(xml).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
    expect(xml).toContain('制御\ufffd文字');
    expect(xml).not.toContain('textDirection');
  });

  it('lays out vertically (section text direction tbRl), strips ruby and keeps the model mark as a style when asked', async () => {
    const bytes = await docx({ ruby: 'strip', vertical: true, marks: true });
    const files = unzipSync(bytes);
    const xml = strFromU8(files['word/document.xml']!);
    expect(xml).toMatch(/<w:sectPr>.*<w:textDirection w:val="tbRl"\/>.*<\/w:sectPr>/);
    expect(xml).not.toContain('w:ruby');
    expect(xml).toMatch(/<w:rStyle w:val="MachineText"\/><\/w:rPr><w:t xml:space="preserve">機械の文 &amp; &lt;記号&gt;<\/w:t>/);
    expect(strFromU8(files['word/styles.xml']!)).toContain('w:styleId="MachineText"');
  });
});

describe('.docx import', () => {
  it('reads the paragraphs as lines, Word ruby as ｜base《ruby》, the Title paragraph as the title and 縦書き: an export comes back', async () => {
    const bytes = await docx({ ruby: 'markup', vertical: true, marks: true });
    expect(await docxText(bytes, 'a.docx')).toEqual({ title: '吾輩は猫である', vertical: true, text: '吾輩は｜猫《ねこ》である。｜名前《なまえ》はまだ無い。\n\n機械の文 & <記号>\n制御\ufffd文字｜字《\ufffd》' });
    expect((await docxText(await docx({ ruby: 'markup', vertical: false, marks: false }), 'b.docx')).vertical).toBe(false);
  });

  it('stops a zip bomb at its bound instead of inflating it', async () => {
    await expect(docxText(zipBomb(80 * 1024 * 1024), 'bomb.docx')).rejects.toThrow(/bomb\.docx cannot be read as a Word \(\.docx\) file: its text parts inflate to more than 64 MB/);
  });

  it('says what is wrong with a ZIP that is not a .docx, or a damaged one', async () => {
    await expect(docxText(zipSync({ 'mimetype': strToU8('application/epub+zip') }), 'book.epub')).rejects.toThrow(/book\.epub cannot be read as a Word \(\.docx\) file: it has no word\/document\.xml/);
    const damaged = await docx({ ruby: 'markup', vertical: false, marks: false });
    await expect(docxText(damaged.subarray(0, damaged.length / 2), 'half.docx')).rejects.toThrow(/half\.docx cannot be read as a Word/);
  });
});
