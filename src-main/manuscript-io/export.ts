/** A document into the manuscript file a writer chose: format, ruby notation, line ends, writing direction, marks. */
import { RUBY_STYLES_OF, type ExportFormat, type ExportOptions } from '../contract/manuscript-files';
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

export async function exportManuscript(doc: ExportableDocument, options: ExportOptions): Promise<{ bytes: Uint8Array; mimeType: string }> {
  const m = toManuscript(doc);
  const ruby = options.ruby ?? RUBY_STYLES_OF[options.format][0]!;
  const vertical = options.vertical ?? doc.writingMode === 'vertical';
  const mimeType = MIME_TYPES[options.format];
  // The contract's schema has checked that the format can write this ruby style.
  switch (options.format) {
    case 'txt':
      return { mimeType, bytes: exportText(m, { ruby: ruby as 'aozora' | 'narou' | 'strip', bom: options.bom, newline: options.newline }) };
    case 'md':
      return { mimeType, bytes: exportMarkdown(m, { ruby, marks: options.marks }) };
    case 'epub':
      return { mimeType, bytes: exportEpub(m, { ruby: ruby as 'markup' | 'strip', vertical, marks: options.marks, uuid: doc.uuid, modifiedAt: doc.updatedAt }) };
    case 'docx':
      return { mimeType, bytes: await exportDocx(m, { ruby: ruby as 'markup' | 'strip', vertical, marks: options.marks }) };
  }
}
