/** A document as plain text: UTF-8 with or without a byte order mark, LF or CRLF, ruby in a text notation or stripped. */
import type { Manuscript } from './manuscript';
import { writeRubyLine, type TextRubyStyle } from './ruby-notation';

export function exportText(m: Manuscript, options: { ruby: TextRubyStyle; bom: boolean; newline: 'lf' | 'crlf' }): Uint8Array {
  // Plain text has no way to mark the model's text: the marks are dropped.
  const text = m.lines.map((line) => writeRubyLine(line, options.ruby)).join(options.newline === 'crlf' ? '\r\n' : '\n');
  return new TextEncoder().encode((options.bom ? '\ufeff' : '') + text);
}
