/** A document into the manuscript file a writer chose: format, ruby notation, line ends, writing direction, marks. */
import { TsuzukiError } from '../contract/errors';
import { RUBY_STYLES_OF, type ExportFormat, type ExportOptions, type RubyStyle } from '../contract/manuscript-files';
import type { MarkedRange } from '../manuscript/machine-text';
import { exportDocx } from './docx-export';
import { exportEpub } from './epub-export';
import { toManuscript } from './manuscript';
import { exportMarkdown } from './markdown-export';
import { exportText } from './text-export';

export interface ExportableDocument {
  title: string;
  body: string;
  generatedRanges: readonly MarkedRange[];
  uuid: string;
  updatedAt: number;
  writingMode: 'horizontal' | 'vertical';
}

const MIME_TYPES: Record<ExportFormat, string> = {
  txt: 'text/plain;charset=utf-8',
  md: 'text/markdown;charset=utf-8',
  epub: 'application/epub+zip',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
};

/** The ruby style asked for, or the format's default; one the format cannot write is refused (the contract checks it too). */
function rubyStyle<S extends RubyStyle>(styles: readonly [S, ...S[]], asked: RubyStyle | undefined): S {
  const style = asked ?? styles[0];
  if (!(styles as readonly RubyStyle[]).includes(style)) throw new TsuzukiError('invalid_argument', `This format writes ruby as ${styles.join(', ')}, not ${style}.`);
  return style as S;
}

export async function exportManuscript(doc: ExportableDocument, options: ExportOptions): Promise<{ bytes: Uint8Array; mimeType: string }> {
  const m = toManuscript(doc);
  const vertical = options.vertical ?? doc.writingMode === 'vertical';
  const mimeType = MIME_TYPES[options.format];
  switch (options.format) {
    case 'txt':
      return { mimeType, bytes: exportText(m, { ruby: rubyStyle(RUBY_STYLES_OF.txt, options.ruby), bom: options.bom, newline: options.newline }) };
    case 'md':
      return { mimeType, bytes: exportMarkdown(m, { ruby: rubyStyle(RUBY_STYLES_OF.md, options.ruby), marks: options.marks }) };
    case 'epub':
      return { mimeType, bytes: exportEpub(m, { ruby: rubyStyle(RUBY_STYLES_OF.epub, options.ruby), vertical, marks: options.marks, uuid: doc.uuid, modifiedAt: doc.updatedAt }) };
    case 'docx':
      return { mimeType, bytes: await exportDocx(m, { ruby: rubyStyle(RUBY_STYLES_OF.docx, options.ruby), vertical, marks: options.marks }) };
  }
}
