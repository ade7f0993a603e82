/**
 * Search helpers shared by the schema (SQL functions) and the queries. FTS5's trigram tokenizer cannot match
 * queries shorter than three characters, so every indexed text also gets a "grams" column: the distinct one- and
 * two-character substrings of its lowercased text, each spelled as hex code points so that FTS5's `ascii`
 * tokenizer sees every gram (kana, punctuation, emoji alike) as one token. 猫 → `732b`, 雪国 → `96eag56fd`.
 */

function hex(ch: string): string {
  return ch.codePointAt(0)!.toString(16);
}

/** Distinct unigram and bigram tokens of `text`, space-separated. */
export function gramsOf(text: string): string {
  const chars = Array.from(text.toLowerCase());
  const seen = new Set<string>();
  let previous: string | null = null;
  for (const ch of chars) {
    if (/\s/u.test(ch)) {
      previous = null;
      continue;
    }
    const h = hex(ch);
    seen.add(h);
    if (previous !== null) seen.add(`${previous}g${h}`);
    previous = h;
  }
  return [...seen].join(' ');
}

/** The FTS5 query for a 1–2 character search term (whitespace is not indexed, so it is ignored). */
export function gramQuery(query: string): string {
  const chars = Array.from(query.toLowerCase()).filter((ch) => !/\s/u.test(ch));
  return chars.map(hex).join('g');
}

/** A trigram FTS5 query: the term as one quoted phrase, so no character is read as FTS5 syntax. */
export function trigramQuery(query: string): string {
  return `"${query.replaceAll('"', '""')}"`;
}

/** Queries this short go to the grams index; longer ones to the trigram index. */
export function usesGrams(query: string): boolean {
  return Array.from(query.replace(/\s/gu, '')).length < 3;
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
