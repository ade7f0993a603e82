/**
 * Search helpers shared by the schema (SQL functions) and the queries. FTS5's trigram tokenizer cannot match
 * queries shorter than three characters, so every indexed text also gets a "grams" column: the distinct one- and
 * two-character substrings of its lowercased text, each spelled as hex code points so that FTS5's `ascii`
 * tokenizer sees every gram (kana, punctuation, emoji alike) as one token. 猫 → `732b`, 雪国 → `96eag56fd`.
 */

function hex(ch: string): string {
  return ch.codePointAt(0)!.toString(16);
}

/** Whitespace is not indexed (a match never spans it), so a gram never contains it. */
function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d || c === 0x3000 || c === 0x0b || c === 0x0c || c === 0xa0 || c === 0x85 || c === 0xfeff || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x1680;
}

/** Distinct unigram and bigram tokens of `text`, space-separated. */
export function gramsOf(text: string): string {
  const lower = text.toLowerCase();
  const unigrams = new Set<number>();
  // A bigram as one number: first code point × 0x110000 + second (< 2^42, exact in a double).
  const bigrams = new Set<number>();
  let previous = -1;
  for (let i = 0; i < lower.length; i++) {
    let c = lower.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < lower.length) {
      const low = lower.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        c = (c - 0xd800) * 0x400 + (low - 0xdc00) + 0x10000;
        i++;
      }
    }
    if (isSpace(c)) {
      previous = -1;
      continue;
    }
    unigrams.add(c);
    if (previous >= 0) bigrams.add(previous * 0x110000 + c);
    previous = c;
  }
  const tokens: string[] = [];
  for (const c of unigrams) tokens.push(c.toString(16));
  for (const b of bigrams) tokens.push(`${Math.floor(b / 0x110000).toString(16)}g${(b % 0x110000).toString(16)}`);
  return tokens.join(' ');
}

/** The FTS5 query for a 1–2 character search term (whitespace is not indexed, so it is ignored). */
export function gramQuery(query: string): string {
  const chars = Array.from(query.toLowerCase()).filter((ch) => !isSpace(ch.codePointAt(0)!));
  return chars.map(hex).join('g');
}

/** A trigram FTS5 query: the term as one quoted phrase, so no character is read as FTS5 syntax. */
export function trigramQuery(query: string): string {
  return `"${query.replaceAll('"', '""')}"`;
}

/** Queries this short go to the grams index; longer ones to the trigram index. */
export function usesGrams(query: string): boolean {
  return Array.from(query).filter((ch) => !isSpace(ch.codePointAt(0)!)).length < 3;
}

export interface Snippet {
  text: string;
  /** [start, end) UTF-16 offsets into `text` of each match. */
  highlights: Array<[number, number]>;
}

/**
 * A window of `text` around the first match of `query` (case-insensitive), with every match in the window marked.
 * Offsets are computed on the original text, so the renderer can highlight without parsing markup.
 */
export function makeSnippet(text: string, query: string, radius = 40): Snippet {
  const needle = query.toLowerCase();
  const hay = text.toLowerCase();
  // toLowerCase keeps UTF-16 length for everything except a few letters (İ); fall back to no highlight then.
  const sameLength = hay.length === text.length;
  const first = needle.length > 0 && sameLength ? hay.indexOf(needle) : -1;
  if (first < 0) {
    const head = text.slice(0, radius * 2);
    return { text: head + (text.length > head.length ? '…' : ''), highlights: [] };
  }
  let start = Math.max(0, first - radius);
  let end = Math.min(text.length, first + needle.length + radius);
  // Never cut a surrogate pair in half.
  if (start > 0 && /[\udc00-\udfff]/.test(text[start]!)) start -= 1;
  if (end < text.length && /[\udc00-\udfff]/.test(text[end]!)) end += 1;
  const prefix = start > 0 ? '…' : '';
  const highlights: Array<[number, number]> = [];
  for (let at = first; at >= 0 && at + needle.length <= end; at = hay.indexOf(needle, at + needle.length)) {
    highlights.push([prefix.length + at - start, prefix.length + at - start + needle.length]);
  }
  return { text: prefix + text.slice(start, end) + (end < text.length ? '…' : ''), highlights };
}
