/**
 * The character/world book's share of a context: the enabled entries with a key in the last `scanChars` characters
 * before the cursor, highest priority first (the book's order among equals), as many as fit in the token budget.
 * An entry too long for what is left is passed over for shorter ones after it.
 */
import { keyMatcher } from '../contract/book-keys';
import type { Book } from '../contract/document-aids';

export interface BookPart {
  name: string;
  /** As sent: the entry's text and a line break. */
  text: string;
  ids: number[];
}

/** Regex keys tried per context at most (each costs up to ~20 ms on a long text; words cost next to nothing). */
const MAX_REGEX_KEYS = 100;
/** SentencePiece pieces are at most 16 characters long: a text needs at least length / 16 tokens. */
const MAX_CHARS_PER_TOKEN = 16;

export function selectBookEntries(encode: (text: string) => number[], book: Book, before: string, maxTokens: number): BookPart[] {
  let left = Math.min(book.tokenBudget, maxTokens);
  if (left <= 0) return [];
  const scanned = before.slice(-book.scanChars);
  let regexKeys = 0;
  const triggered = book.entries.filter(
    (entry) =>
      entry.enabled &&
      entry.text.trim() !== '' &&
      entry.keys.some((key) => {
        if (entry.regex && ++regexKeys > MAX_REGEX_KEYS) return false;
        return keyMatcher(key, entry.regex)?.(scanned) ?? false;
      }),
  );
  // Array.prototype.sort is stable: equal priorities keep the book's order.
  triggered.sort((a, b) => b.priority - a.priority);
  const parts: BookPart[] = [];
  for (const entry of triggered) {
    const text = `${entry.text}\n`;
    if (Math.ceil(text.length / MAX_CHARS_PER_TOKEN) > left) continue;
    const ids = encode(text);
    if (ids.length > left) continue;
    parts.push({ name: entry.name, text, ids });
    left -= ids.length;
    if (left === 0) break;
  }
  return parts;
}
