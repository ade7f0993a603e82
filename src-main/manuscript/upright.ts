/**
 * 縦中横 (tate-chū-yoko): in vertical writing, a two-digit number and the marks !? !! ?! are set upright in one
 * character's space (CSS `text-combine-upright: all`, the same in EPUB). Longer numbers and single digits are
 * left as they are (sideways), as Japanese typesetting does.
 */

/** [from, to) offsets (UTF-16) of a run to set upright. */
export type UprightRun = readonly [from: number, to: number];

// Exactly two half-width digits, not part of a longer number (no digit, and no 3.14-style decimal or 1,000-style
// grouping, on either side); exactly two of ! and ? (not one of a longer run like !!!).
const UPRIGHT = /(?<![0-9]|[0-9][.,])[0-9]{2}(?![0-9]|[.,][0-9])|(?<![!?])(?:!\?|!!|\?!)(?![!?])/g;

export function uprightRuns(text: string): UprightRun[] {
  const runs: UprightRun[] = [];
  for (const m of text.matchAll(UPRIGHT)) runs.push([m.index, m.index + m[0].length]);
  return runs;
}

export interface UprightSegment {
  text: string;
  upright: boolean;
}

/** The text cut into runs to set upright and the rest; joined they give the text back (for spans in a preview or EPUB). */
export function uprightSegments(text: string): UprightSegment[] {
  const segments: UprightSegment[] = [];
  let at = 0;
  for (const [from, to] of uprightRuns(text)) {
    if (from > at) segments.push({ text: text.slice(at, from), upright: false });
    segments.push({ text: text.slice(from, to), upright: true });
    at = to;
  }
  if (at < text.length) segments.push({ text: text.slice(at), upright: false });
  return segments;
}
