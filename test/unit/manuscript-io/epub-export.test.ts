import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImportedXmlComponent } from 'docx';
import { strFromU8, unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { exportEpub } from '../../../src-main/manuscript-io/epub-export';
import { toManuscript } from '../../../src-main/manuscript-io/manuscript';

const BODY = '吾輩は猫《ねこ》である。\n\n12時に!?と言った。<&>\u0001';
const epub = (vertical: boolean, marks = false) =>
  exportEpub(toManuscript({ title: '猫 & 犬', body: BODY, generatedRanges: [[14, 20]] }), { ruby: 'markup', vertical, marks, uuid: '0a1b2c3d-0000-4000-8000-000000000000', modifiedAt: Date.UTC(2026, 11, 5, 19, 0, 0, 123) });

/** The local file headers in order: name, compression method, extra field length, data offset. */
function localHeaders(zip: Uint8Array): { name: string; method: number; extra: number; data: number }[] {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const headers = [];
  for (let at = 0; view.getUint32(at, true) === 0x04034b50; ) {
    const nameLength = view.getUint16(at + 26, true);
    const extra = view.getUint16(at + 28, true);
    const name = strFromU8(zip.subarray(at + 30, at + 30 + nameLength));
    const data = at + 30 + nameLength + extra;
    headers.push({ name, method: view.getUint16(at + 8, true), extra, data });
    at = data + view.getUint32(at + 18, true);
  }
  return headers;
}

/** Strict XML parsing (docx's own parser, which refuses unclosed tags, unknown entities and unquoted attributes). */
function parsesAsXml(xml: string): boolean {
  ImportedXmlComponent.fromXmlString(xml.replace('<!DOCTYPE html>', ''));
  return true;
}

describe('EPUB export', () => {
  it('has the container epubcheck requires: mimetype first, stored, no extra field; container.xml; package; nav', () => {
    const zip = epub(true);
    const headers = localHeaders(zip);
    expect(headers[0]).toMatchObject({ name: 'mimetype', method: 0, extra: 0, data: 38 });
    expect(strFromU8(zip.subarray(38, 38 + 20))).toBe('application/epub+zip');
    const files = unzipSync(zip);
    expect(Object.keys(files).sort()).toEqual(['META-INF/container.xml', 'OEBPS/nav.xhtml', 'OEBPS/package.opf', 'OEBPS/style.css', 'OEBPS/text.xhtml', 'mimetype']);
    const container = strFromU8(files['META-INF/container.xml']!);
    const opfPath = /full-path="([^"]+)"/.exec(container)![1]!;
    const opf = strFromU8(files[opfPath]!);
    expect(opf).toContain('unique-identifier="book-id"');
    expect(opf).toContain('<dc:identifier id="book-id">urn:uuid:0a1b2c3d-0000-4000-8000-000000000000</dc:identifier>');
    expect(opf).toContain('<meta property="dcterms:modified">2026-12-05T19:00:00Z</meta>');
    expect(opf).toContain('<dc:language>ja</dc:language>');
    expect(opf).toContain('<dc:title>猫 &amp; 犬</dc:title>');
    // Every manifest item exists, and the nav document is declared as one.
    for (const [, href] of opf.matchAll(/href="([^"]+)"/g)) expect(files[`OEBPS/${href}`]).toBeDefined();
    expect(opf).toMatch(/<item id="nav" href="nav.xhtml" media-type="application\/xhtml\+xml" properties="nav"\/>/);
    expect(strFromU8(files['OEBPS/nav.xhtml']!)).toContain('<nav epub:type="toc"');
    for (const name of ['META-INF/container.xml', 'OEBPS/package.opf', 'OEBPS/nav.xhtml', 'OEBPS/text.xhtml']) expect(parsesAsXml(strFromU8(files[name]!))).toBe(true);
  });

  it('writes vertically: vertical-rl with the -epub- prefix, rtl page progression, ruby, 縦中横 and strict 禁則', () => {
    const files = unzipSync(epub(true));
    const css = strFromU8(files['OEBPS/style.css']!);
    expect(css).toContain('writing-mode: vertical-rl;');
    expect(css).toContain('-epub-writing-mode: vertical-rl;');
    expect(css).toContain('line-break: strict;');
    expect(css).toMatch(/\.tcy \{ text-combine-upright: all; -epub-text-combine: horizontal;/);
    expect(strFromU8(files['OEBPS/package.opf']!)).toContain('<spine page-progression-direction="rtl">');
    const text = strFromU8(files['OEBPS/text.xhtml']!);
    expect(text).toContain('<p>吾輩は<ruby>猫<rp>（</rp><rt>ねこ</rt><rp>）</rp></ruby>である。</p>\n<p><br/></p>');
    // Two digits and !? upright; characters XML cannot hold replaced, markup characters escaped.
    expect(text).toContain('<p><span class="tcy">12</span>時に<span class="tcy">!?</span>と言った。&lt;&amp;&gt;\ufffd</p>');
  });

  it('writes horizontally when asked, and keeps the model text mark as a class when asked', () => {
    const files = unzipSync(epub(false, true));
    expect(strFromU8(files['OEBPS/style.css']!)).toContain('writing-mode: horizontal-tb;');
    expect(strFromU8(files['OEBPS/package.opf']!)).toContain('<spine>');
    const text = strFromU8(files['OEBPS/text.xhtml']!);
    expect(text).toContain('<span class="machine">12時に!?</span>');
    expect(text).not.toContain('tcy');
  });

  // epubcheck itself (Java) is not a dependency: EPUBCHECK_JAR=/path/to/epubcheck.jar runs it (Debian: apt install epubcheck, /usr/bin/epubcheck).
  it.skipIf(!process.env.EPUBCHECK_JAR)('passes epubcheck with no error or warning, vertical and horizontal', { timeout: 180_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsuzuki-epub-'));
    try {
      for (const vertical of [true, false]) {
        const file = join(dir, `${vertical}.epub`);
        writeFileSync(file, epub(vertical, true));
        expect(execFileSync('java', ['-jar', process.env.EPUBCHECK_JAR!, file], { encoding: 'utf8' })).toContain('No errors or warnings detected.');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
