/**
 * How a character/world book entry's keys are matched against the text before the cursor, shared by the engine
 * (which picks the entries) and the editor (which shows a key that cannot be used next to it).
 *
 * A word key matches where it appears. A regular-expression key runs on text the writer does not control the length
 * of, in the process that generates, so it must stay cheap whatever that text is: only patterns whose matching time
 * grows at most linearly with a window's length are taken (no backreferences or lookaround, one unbounded repetition
 * at most, see unsafePart), and each line is searched in windows of at most WINDOW characters. A key that cannot be compiled or is refused is skipped, with its reason.
 */

/**
 * Why a regular-expression key is not used: it does not compile, or it could take too long on a long text (a
 * backreference or lookaround, a repeated group with | inside, too much repetition). The editor words each.
 */
export type KeyProblem = 'syntax' | 'backreference' | 'lookaround' | 'repeated-alternation' | 'repetition';

/** Regex keys search each line in windows this long, each overlapping the next by OVERLAP characters… */
const WINDOW = 200;
/** …so a match of up to OVERLAP characters is never split between two windows. */
const OVERLAP = 50;

/** How many ways the repetitions of one key may multiply a window's tries (see unsafePart). */
const MAX_BRANCHING = 4 * WINDOW;

const QUANTIFIER = /^(?:[*+?]|\{\d+(?:,\d*)?\})\??/u;

/** Null when the pattern may be used as a key; else what is wrong with it. */
export function regexKeyProblem(pattern: string): KeyProblem | null {
  try {
    new RegExp(pattern, 'u');
  } catch {
    return 'syntax';
  }
  return unsafePart(pattern);
}

/**
 * The pattern compiles (checked before): walks it once. Each repetition multiplies how many ways a window can be
 * tried: `?` by 2, `{n,m}` by m + 1, `*`, `+` and `{n,}` by a window's length; together at most MAX_BRANCHING.
 * A group repeated more than `?` may not alternate inside ((a|a)+ is exponential).
 */
function unsafePart(pattern: string): KeyProblem | null {
  const alternates: boolean[] = [false];
  let branching = 1;
  let i = 0;
  /** Whether the group just closed alternates inside (a quantifier right after it repeats it). */
  let closed: boolean | null = null;
  while (i < pattern.length) {
    const c = pattern[i]!;
    const quantifier = i > 0 ? QUANTIFIER.exec(pattern.slice(i)) : null;
    if (quantifier) {
      const [, bounded, max] = /^(?:\{(\d+)(?:,(\d*))?\})?/u.exec(quantifier[0]) ?? [];
      const factor = quantifier[0].startsWith('?') ? 2 : bounded === undefined || max === '' ? WINDOW : Number(max ?? bounded) + 1;
      if (closed && factor > 2) return 'repeated-alternation';
      branching *= factor;
      if (branching > MAX_BRANCHING) return 'repetition';
      closed = null;
      i += quantifier[0].length;
      continue;
    }
    closed = null;
    if (c === '\\') {
      const next = pattern[i + 1] ?? '';
      if (/[1-9k]/u.test(next)) return 'backreference';
      // \p{…}, \P{…} and \u{…} carry their own braces.
      if (/[pPu]/u.test(next) && pattern[i + 2] === '{') i = pattern.indexOf('}', i + 2) + 1;
      else i += 2;
    } else if (c === '[') {
      i++;
      while (i < pattern.length && pattern[i] !== ']') i += pattern[i] === '\\' ? 2 : 1;
      i++;
    } else if (c === '(') {
      if (/^\(\?<?[=!]/u.test(pattern.slice(i))) return 'lookaround';
      alternates.push(false);
      // (?:…) and (?<name>…): the ? is no quantifier.
      i += /^\((?:\?:|\?<[^>]*>)?/u.exec(pattern.slice(i))![0].length;
    } else if (c === ')') {
      closed = alternates.pop()!;
      // An alternation nested deeper counts for the enclosing groups too.
      if (closed) alternates[alternates.length - 1] = true;
      i++;
    } else {
      if (c === '|') alternates[alternates.length - 1] = true;
      i++;
    }
  }
  return null;
}

/** A test for one key: null when the key is a regular expression that cannot be used (see regexKeyProblem). */
export function keyMatcher(key: string, regex: boolean): ((text: string) => boolean) | null {
  if (!regex) return (text) => text.includes(key);
  if (regexKeyProblem(key)) return null;
  const pattern = new RegExp(key, 'u');
  return (text) => windows(text).some((window) => pattern.test(window));
}

/** The text's lines, long ones cut into overlapping windows. */
function windows(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (line.length <= WINDOW) out.push(line);
    else for (let at = 0; at < line.length - OVERLAP; at += WINDOW - OVERLAP) out.push(line.slice(at, at + WINDOW));
  }
  return out;
}
