/**
 * A document as an EPUB 3 book, written with fflate (a small, maintained ZIP library without dependencies: the
 * container needs only a ZIP with the `mimetype` entry first and stored, which fflate writes as told, so no EPUB
 * library is needed). What epubcheck requires: mimetype first, stored, no extra field; META-INF/container.xml; a
 * package document with a unique identifier and dcterms:modified; a nav document; XHTML content that is well-formed
 * XML. Vertical writing: `writing-mode: vertical-rl` (with the -epub- and -webkit- prefixes older reading systems
 * read) and page-progression-direction rtl; ruby as <ruby>; 縦中横 (two-digit numbers, !? !! ?!) upright; 禁則 strict.
 */
import { strToU8, zipSync, type Zippable } from 'fflate';
import { uprightSegments } from '../manuscript/upright';
import type { Manuscript, Piece } from './manuscript';
import { escapeXml } from './xml';

export interface EpubOptions {
  ruby: 'markup' | 'strip';
  vertical: boolean;
  marks: boolean;
  /** The book's identifier: the document's uuid, so a new export of the same document updates the same book. */
  uuid: string;
  /** When the document last changed (dcterms:modified). */
  modifiedAt: number;
}

const CONTAINER = `<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles>
    <rootfile full-path="OEBPS/package.opf" media-type="application/oebps-package+xml"/>
  </rootfiles>
</container>
`;

function css(vertical: boolean): string {
  const mode = vertical ? 'vertical-rl' : 'horizontal-tb';
  return `@charset "UTF-8";
html {
  writing-mode: ${mode};
  -epub-writing-mode: ${mode};
  -webkit-writing-mode: ${mode};
  line-break: strict;
  -epub-line-break: strict;
  -webkit-line-break: strict;
  word-break: normal;
  overflow-wrap: break-word;
}
body { margin: 0; font-family: serif; }
h1 { font-size: 1.4em; }
p { margin: 0; }
.tcy { text-combine-upright: all; -epub-text-combine: horizontal; -webkit-text-combine: horizontal; }
.machine { text-decoration: underline dotted #9a9a9a; -webkit-text-decoration: underline dotted #9a9a9a; }
`;
}

function upright(text: string, vertical: boolean): string {
  if (!vertical) return escapeXml(text);
  return uprightSegments(text)
    .map((s) => (s.upright ? `<span class="tcy">${escapeXml(s.text)}</span>` : escapeXml(s.text)))
    .join('');
}

function piece(p: Piece, options: EpubOptions): string {
  const inner =
    'text' in p
      ? upright(p.text, options.vertical)
      : options.ruby === 'strip'
        ? escapeXml(p.base)
        : `<ruby>${escapeXml(p.base)}<rp>（</rp><rt>${escapeXml(p.ruby)}</rt><rp>）</rp></ruby>`;
  return options.marks && p.machine ? `<span class="machine">${inner}</span>` : inner;
}

function xhtml(title: string, lang: string, body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" xml:lang="${lang}" lang="${lang}">
<head>
<meta charset="UTF-8"/>
<title>${escapeXml(title)}</title>
<link rel="stylesheet" type="text/css" href="style.css"/>
</head>
<body>
${body}
</body>
</html>
`;
}

/** ISO 8601 without milliseconds, as dcterms:modified requires. */
function modified(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function packageDocument(m: Manuscript, options: EpubOptions): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="book-id" xml:lang="ja">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
    <dc:identifier id="book-id">urn:uuid:${escapeXml(options.uuid)}</dc:identifier>
    <dc:title>${escapeXml(m.title)}</dc:title>
    <dc:language>ja</dc:language>
    <meta property="dcterms:modified">${modified(options.modifiedAt)}</meta>
  </metadata>
  <manifest>
    <item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
    <item id="text" href="text.xhtml" media-type="application/xhtml+xml"/>
    <item id="style" href="style.css" media-type="text/css"/>
  </manifest>
  <spine${options.vertical ? ' page-progression-direction="rtl"' : ''}>
    <itemref idref="text"/>
  </spine>
</package>
`;
}

export function exportEpub(m: Manuscript, options: EpubOptions): Uint8Array {
  const paragraphs = m.lines.map((line) => (line.length ? `<p>${line.map((p) => piece(p, options)).join('')}</p>` : '<p><br/></p>'));
  const nav = `<nav epub:type="toc" id="toc">\n<h1>目次</h1>\n<ol>\n<li><a href="text.xhtml#title">${escapeXml(m.title)}</a></li>\n</ol>\n</nav>`;
  // ZIP's DOS dates hold 1980–2099 only.
  const mtime = new Date(Math.min(Math.max(options.modifiedAt, Date.UTC(1980, 0, 2)), Date.UTC(2099, 11, 30)));
  const files: Zippable = {
    // First and stored: a reading system finds "application/epub+zip" at byte 38 without inflating anything.
    mimetype: [strToU8('application/epub+zip'), { level: 0 }],
    'META-INF/container.xml': strToU8(CONTAINER),
    'OEBPS/package.opf': strToU8(packageDocument(m, options)),
    'OEBPS/nav.xhtml': strToU8(xhtml(m.title, 'ja', nav)),
    'OEBPS/text.xhtml': strToU8(xhtml(m.title, 'ja', `<h1 id="title">${escapeXml(m.title)}</h1>\n${paragraphs.join('\n')}`)),
    'OEBPS/style.css': strToU8(css(options.vertical)),
  };
  return zipSync(files, { level: 6, mtime });
}
