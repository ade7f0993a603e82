/**
 * Which text the model wrote: a document keeps the [from, to) offsets (UTF-16) of the text accepted from the model
 * and not edited since. The status bar counts it, the editor marks it, and exports keep or drop the mark.
 */
import { parseRuby } from './ruby';

/** [from, to) in the text; anything after (the generation's id) is not needed here. */
export type MarkedRange = readonly [from: number, to: number, ...rest: number[]];

export interface MarkedSegment {
  text: string;
  /** Written by the model. */
  machine: boolean;
}

/**
 * The text cut into runs written by the writer or by the model, in order; joined they give the text back. A ruby's
 * notation (｜漢字《かんじ》) is never cut: it goes whole to the side of its first character, so each run can be
 * converted (or counted) as ruby on its own. Ranges may come from a file: they are clamped, sorted and merged first.
 */
export function machineSegments(text: string, ranges: readonly MarkedRange[]): MarkedSegment[] {
  const merged = mergeRanges(
    ranges.map(([from, to]) => [notationSafe(text, from), notationSafe(text, to)] as const),
    text.length,
  );
  const segments: MarkedSegment[] = [];
  let at = 0;
  for (const [from, to] of merged) {
    if (from > at) segments.push({ text: text.slice(at, from), machine: false });
    segments.push({ text: text.slice(from, to), machine: true });
    at = to;
  }
  if (at < text.length || segments.length === 0) segments.push({ text: text.slice(at), machine: false });
  return segments;
}

function mergeRanges(ranges: readonly (readonly [number, number])[], length: number): [number, number][] {
  const clamped = ranges
    .map(([from, to]) => [Math.max(0, Math.min(from, length)), Math.max(0, Math.min(to, length))] as [number, number])
    .filter(([from, to]) => from < to)
    .sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const range of clamped) {
    const last = merged.at(-1);
    if (last && range[0] <= last[1]) last[1] = Math.max(last[1], range[1]);
    else merged.push(range);
  }
  return merged;
}

/** A cut at `offset`, moved past the ruby notation it falls inside (and never between the halves of a surrogate pair). */
function notationSafe(text: string, offset: number): number {
  if (!Number.isInteger(offset) || offset <= 0 || offset >= text.length) return offset;
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  const newline = text.indexOf('\n', offset);
  const line = text.slice(lineStart, newline === -1 ? text.length : newline);
  if (line.includes('《')) {
    const at = offset - lineStart;
    for (const s of parseRuby(line)) if ('base' in s && s.from < at && at < s.to) return lineStart + s.to;
  }
  const c = text.charCodeAt(offset);
  return c >= 0xdc00 && c <= 0xdfff ? offset + 1 : offset;
}
