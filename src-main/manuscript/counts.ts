/**
 * 文字数 as Japanese writers count them: code points (an emoji or a CJK Extension B kanji counts once), ruby
 * notation counted as the reader sees it (base text only), plus the 400字詰め原稿用紙 equivalent.
 */
import { stripRuby } from './ruby';

export interface Counts {
  /** Every character, spaces and line breaks included. */
  withWhitespace: number;
  /** Without spaces (half- and full-width), tabs or line breaks. */
  withoutWhitespace: number;
  /** 400-character manuscript pages: 20 columns × 20 rows, each paragraph starting on a new row. */
  manuscriptPages: number;
}

const COLUMNS = 20;
const ROWS = 20;

function codePoints(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff) n++;
  }
  return n;
}

export function countText(raw: string): Counts {
  const text = stripRuby(raw);
  const total = codePoints(text);
  let whitespace = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x3000 || c === 0x09 || c === 0x0a || c === 0x0d) whitespace++;
  }
  let rows = 0;
  if (text.length > 0) {
    for (const paragraph of text.split('\n')) rows += Math.max(1, Math.ceil(codePoints(paragraph) / COLUMNS));
  }
  return { withWhitespace: total, withoutWhitespace: total - whitespace, manuscriptPages: Math.ceil((rows / ROWS) * 10) / 10 };
}

/** Share of the text that came from the model, given its accepted ranges [from, to) in UTF-16 offsets. */
export function modelShare(text: string, generated: readonly (readonly number[])[]): number {
  const total = codePoints(text);
  if (total === 0) return 0;
  let fromModel = 0;
  for (const [from, to] of generated) fromModel += codePoints(text.slice(from, to));
  return Math.min(1, fromModel / total);
}
