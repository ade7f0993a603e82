/**
 * Builds the prompt from the text before the cursor, in this order: the document memo, the character/world book's
 * entries that the recent text calls for (engine/book.ts), then as much of the text's tail as fits in
 * `nPositions - maxNewTokens`, with the author's note inserted `depth` lines or sentences before the cursor (in what
 * the model reads only, never in the document). When the text must be cut, the cut is placed at a stable boundary: the text
 * is divided into a grid of cells (`gridStep` characters) counted from its start, and the cut is the first line or
 * sentence end inside the first cell whose tail fits. Typing at the end then keeps the same cut (and so the same
 * token prefix, which the KV cache reuses) until the tail outgrows the budget, and the cut then moves by a cell.
 * The grid is anchored at the document's first character: give the whole text before the cursor as `before`, or
 * a tail of it together with `origin`, the tail's offset in the document.
 */
import type { AuthorNote, Book } from '../contract/document-aids';
import type { ContextPart } from '../contract/generation';
import { selectBookEntries } from './book';
import { assertGenerationParams } from './params';

/** What the context needs of the tokenizer: text → ids (newlines per the tokenizer's strategy), and back. */
export interface TextEncoder {
  encode(text: string): number[];
  /** Only for the text of a part cut at a token (an overlong memo, a tail with no boundary): what the model read. */
  decode(ids: number[]): string;
}


export interface ContextInput {
  before: string;
  /** Offset of `before` in the document (0: `before` is all the text before the cursor). */
  origin?: number;
  memo?: string;
  authorNote?: AuthorNote;
  book?: Book;
  maxNewTokens: number;
  nPositions: number;
  /** Used as the prompt when there is no text at all (a model needs one token to start from). */
  startId: number;
}

export interface BuiltContext {
  ids: number[];
  /** How many of `ids` are the memo's. */
  memoTokens: number;
  /** Offset in `before` where the context text starts (0 when nothing was cut). */
  start: number;
  /** `before.slice(start)`: the text the continuation follows. */
  text: string;
  /** What `ids` are made of, in order; their tokens add up to `ids.length` (unless `ids` is only the start token). */
  parts: ContextPart[];
}

export interface ContextOptions {
  /** Grid cell in characters (default: a quarter of the room, at most 256; see `gridStep`). */
  step?: number;
}

/** SentencePiece pieces are at most 16 characters long, so n tokens never cover more than 16n characters. */
const MAX_CHARS_PER_TOKEN = 16;
const BOUNDARY = /[\n。！？」』!?]/u;

export function buildContext(encoder: TextEncoder, input: ContextInput, options: ContextOptions = {}): BuiltContext {
  assertGenerationParams({ maxNewTokens: input.maxNewTokens }, input.nPositions);
  const budget = input.nPositions - input.maxNewTokens;
  // The memo may take at most half of the room; a longer memo is cut at its end.
  const memoText = input.memo ? `${input.memo}\n` : '';
  const memoAll = memoText ? encoder.encode(memoText) : [];
  const memoIds = memoAll.slice(0, Math.floor(budget / 2));
  // The book may take at most half of what the memo leaves, the note half of what the book leaves (else it is left out).
  const bookParts = input.book ? selectBookEntries((t) => encoder.encode(t), input.book, input.before, Math.floor((budget - memoIds.length) / 2)) : [];
  const bookTokens = bookParts.reduce((n, part) => n + part.ids.length, 0);
  const note = input.authorNote?.text.trim() ? input.authorNote : null;
  // Reserved with a line break on each side (the most it is sent with), plus two for how its ends join the text.
  const noteReserve = note ? encoder.encode(`\n${note.text}\n`).length + 2 : 0;
  const withNote = note !== null && noteReserve <= Math.floor((budget - memoIds.length - bookTokens) / 2);
  const room = budget - memoIds.length - bookTokens - (withNote ? noteReserve : 0);
  const step = options.step ?? gridStep(room);
  const { before } = input;

  const fits = (start: number): number[] | null => {
    const ids = encoder.encode(before.slice(start));
    return ids.length <= room ? ids : null;
  };

  let start = 0;
  let exact = true;
  let textIds: number[] | null = before.length <= room * MAX_CHARS_PER_TOKEN ? fits(0) : null;
  if (!textIds) {
    const origin = input.origin ?? 0;
    const cells = Math.floor((origin + before.length) / step);
    // Cell k starts at document offset k × step; only cells inside `before` can be cut at.
    const cut = (k: number) => cellStart(before, Math.max(0, k * step - origin), step);
    // Smallest cell whose tail fits, by bisection (the token count shrinks as the cut moves right).
    let lo = Math.max(Math.ceil(origin / step), 1, Math.floor((origin + before.length - room * MAX_CHARS_PER_TOKEN) / step));
    let hi = cells;
    let found: { start: number; ids: number[] } | null = null;
    while (lo <= hi) {
      const k = (lo + hi) >>> 1;
      const s = cut(k);
      const ids = fits(s);
      if (ids) {
        found = { start: s, ids };
        hi = k - 1;
      } else lo = k + 1;
    }
    if (found) {
      start = found.start;
      textIds = found.ids;
    } else {
      // Even the last cell is too long for the room: keep the last tokens that fit (no stable cut possible).
      start = cut(cells);
      textIds = encoder.encode(before.slice(start)).slice(-room);
      exact = false;
    }
  }
  const text = before.slice(start);
  const parts: ContextPart[] = [];
  if (memoIds.length > 0) parts.push({ kind: 'memo', text: memoIds.length === memoAll.length ? memoText : encoder.decode(memoIds), tokens: memoIds.length });
  for (const part of bookParts) parts.push({ kind: 'book', name: part.name, text: part.text, tokens: part.ids.length });
  if (withNote && note) {
    const noted = insertNote(encoder, text, note, room + noteReserve);
    parts.push(...noted.parts);
    textIds = noted.ids;
  } else if (textIds.length > 0) parts.push({ kind: 'text', text: exact ? text : encoder.decode(textIds), tokens: textIds.length });
  const ids = [...memoIds, ...bookParts.flatMap((part) => part.ids), ...textIds];
  return { ids: ids.length > 0 ? ids : [input.startId], memoTokens: memoIds.length, start, text, parts };
}

/**
 * The text with the author's note inserted on a line of its own, `depth` lines (or sentences) before its end, encoded
 * as one string (the text before the note, and the note, then keep their tokens while the writer types after it).
 * Each part's tokens are counted by encoding the prefix it ends; at most `room` tokens, cut from the front.
 */
function insertNote(encoder: TextEncoder, text: string, note: AuthorNote, room: number): { ids: number[]; parts: ContextPart[] } {
  const at = noteOffset(text, note);
  const head = text.slice(0, at);
  const noteText = `${at > 0 && !head.endsWith('\n') ? '\n' : ''}${note.text}\n`;
  const tail = text.slice(at);
  let ids = encoder.encode(head + noteText + tail);
  let headTokens = head ? encoder.encode(head).length : 0;
  const noteTokens = Math.max(0, encoder.encode(head + noteText).length - headTokens);
  let headText = head;
  if (ids.length > room) {
    // The note's ends joined the text in fewer tokens than reserved only rarely exceed it; the text's start gives way.
    const over = ids.length - room;
    ids = ids.slice(over);
    headTokens = Math.max(0, headTokens - over);
    headText = encoder.decode(ids.slice(0, headTokens));
  }
  const parts: ContextPart[] = [];
  if (headText) parts.push({ kind: 'text', text: headText, tokens: headTokens });
  parts.push({ kind: 'authorNote', text: noteText, tokens: noteTokens });
  if (tail) parts.push({ kind: 'text', text: tail, tokens: Math.max(0, ids.length - headTokens - noteTokens) });
  return { ids, parts };
}

/** Sentence ends with the closing marks after them (。」 stays together). */
const SENTENCE_END = /[。！？!?][。！？!?」』）)]*/gu;

/**
 * Where the note goes: after the `depth`-th line break (or sentence end) counted back from the end of `text`, not
 * counting one right at the end; depth 0 is the end itself; the start when the text has fewer.
 */
function noteOffset(text: string, note: AuthorNote): number {
  if (note.depth === 0) return text.length;
  const ends: number[] = [];
  if (note.unit === 'lines') {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) ends.push(i + 1);
  } else {
    for (const match of text.matchAll(SENTENCE_END)) ends.push(match.index + match[0].length);
  }
  const before = ends.filter((end) => end < text.length);
  return before[before.length - note.depth] ?? 0;
}

/**
 * The grid's cell for a room of `room` tokens. A cut gives up at most a cell (and a sentence) of the room, so the
 * cell is a quarter of the room: with a fixed 256 characters, asking for 800 new tokens of 1,024 left a room of 224
 * tokens that a cut could shrink to one. The cell only changes with the room (the length asked for, the memo), and
 * those changes move the cut anyway.
 */
function gridStep(room: number): number {
  return Math.max(16, Math.min(256, Math.floor(room / 4)));
}

/** The offset just after the first boundary in [from, from + step), or `from` when the cell has none. */
function cellStart(text: string, from: number, step: number): number {
  // Never split a surrogate pair.
  const base = from > 0 && from < text.length && /[\uDC00-\uDFFF]/.test(text[from]!) ? from + 1 : from;
  const cell = text.slice(base, base + step);
  const at = cell.search(BOUNDARY);
  if (at < 0) return base;
  // Take the whole run of closing marks (。」 stays together).
  let end = at + 1;
  while (end < cell.length && /[。！？」』）)!?]/u.test(cell[end]!)) end++;
  return base + end;
}
