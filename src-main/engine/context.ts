/**
 * Builds the prompt from the text before the cursor: the document memo first, then as much of the text's tail as
 * fits in `nPositions - maxNewTokens`. When the text must be cut, the cut is placed at a stable boundary: the text
 * is divided into a grid of cells (`gridStep` characters) counted from its start, and the cut is the first line or
 * sentence end inside the first cell whose tail fits. Typing at the end then keeps the same cut (and so the same
 * token prefix, which the KV cache reuses) until the tail outgrows the budget, and the cut then moves by a cell.
 * The grid is anchored at the document's first character: give the whole text before the cursor as `before`, or
 * a tail of it together with `origin`, the tail's offset in the document.
 */
import { assertGenerationParams } from './params';

/** What the context needs of the tokenizer: text → ids, newlines handled by the tokenizer's newline strategy. */
export interface TextEncoder {
  encode(text: string): number[];
}

export interface ContextInput {
  before: string;
  /** Offset of `before` in the document (0: `before` is all the text before the cursor). */
  origin?: number;
  memo?: string;
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
  const memoIds = input.memo ? encoder.encode(`${input.memo}\n`).slice(0, Math.floor(budget / 2)) : [];
  const room = budget - memoIds.length;
  const step = options.step ?? gridStep(room);
  const { before } = input;

  const fits = (start: number): number[] | null => {
    const ids = encoder.encode(before.slice(start));
    return ids.length <= room ? ids : null;
  };

  let start = 0;
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
    }
  }
  const ids = [...memoIds, ...textIds];
  return { ids: ids.length > 0 ? ids : [input.startId], memoTokens: memoIds.length, start, text: before.slice(start) };
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
