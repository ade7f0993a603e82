/**
 * 文字数 as Japanese writers count them, one rule for every view (status bar, document list, revisions, exports,
 * CLI): code points (an emoji or a CJK Extension B kanji counts once) of the text as the reader sees it — ruby
 * readings and the notation's marks excluded, line breaks not counted, spaces counted. 400字詰め原稿用紙 pages are
 * counted apart.
 */
import { machineSegments, type MarkedRange } from './machine-text';
import { stripRuby } from './ruby';

export interface Counts {
  /** 文字数 (countChars). */
  chars: number;
  /** The part of `chars` that the model wrote (text accepted from it and not edited since). */
  machineChars: number;
  /** 400-character manuscript pages: 20 columns × 20 rows, each paragraph starting on a new row. */
  manuscriptPages: number;
}

const COLUMNS = 20;
const ROWS = 20;

function codePoints(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0xdc00 || c > 0xdfff) && c !== 0x0d) n++;
  }
  return n;
}

/**
 * The 文字数 of a text. Counted line by line (ruby notation never spans a line), so the count of a text is the sum
 * of its lines' counts: a store that keeps the count can recount only the lines an edit touched.
 */
export function countChars(text: string): number {
  let n = 0;
  for (const line of text.split('\n')) n += codePoints(stripRuby(line));
  return n;
}

export function countText(text: string, generated: readonly MarkedRange[] = []): Counts {
  let rows = 0;
  let chars = 0;
  if (text.length > 0) {
    for (const line of text.split('\n')) {
      const n = codePoints(stripRuby(line));
      chars += n;
      rows += Math.max(1, Math.ceil(n / COLUMNS));
    }
  }
  let machineChars = 0;
  if (generated.length > 0) for (const s of machineSegments(text, generated)) if (s.machine) machineChars += countChars(s.text);
  return { chars, machineChars, manuscriptPages: Math.ceil((rows / ROWS) * 10) / 10 };
}
