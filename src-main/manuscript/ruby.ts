/**
 * Ruby (furigana) notation as 青空文庫 and web-novel sites write it:
 *   ｜漢字《かんじ》  — explicit: the base starts after ｜ (or a half-width |)
 *   漢字《かんじ》    — implicit: the base is the run of kanji right before 《
 *   ｜《…》           — an escaped, literal 《…》 (小説家になろう's rule)
 * The notation stays in the document and exports; the preview shows <ruby>; the model sees only the base text.
 */

/** A ruby segment's notation spans `from` (its ｜, or its base when implicit) to `to` (after its 》) in the source. */
export type Segment = { text: string } | { base: string; ruby: string; from: number; to: number };

const KANJI = /[\p{Script=Han}々〆〇ヶ〻]/u;
const MAX_RUBY = 40;

/**
 * `text.indexOf(mark, at)` for `at` that mostly grows, as the parser's does: an answer still ahead of `at` is reused,
 * so a line of many unclosed ｜ or 《 is read once, not once per mark (a text of 15,000 such characters took 0.4 s).
 */
function forwardSearch(text: string, mark: string): (at: number) => number {
  let from = -1;
  let found = -1;
  return (at) => {
    if (from === -1 || at < from || (found !== -1 && found < at)) found = text.indexOf(mark, at);
    from = at;
    return found;
  };
}

/** Splits text into plain and ruby segments. Malformed notation (no closing 》, empty parts) stays plain text. */
export function parseRuby(text: string): Segment[] {
  const segments: Segment[] = [];
  const nextOpen = forwardSearch(text, '《');
  const nextClose = forwardSearch(text, '》');
  let plain = '';
  let i = 0;
  const flush = () => {
    if (plain) segments.push({ text: plain });
    plain = '';
  };
  while (i < text.length) {
    const ch = text[i]!;
    if ((ch === '｜' || ch === '|') && text[i + 1] === '《') {
      // Escaped literal: keep 《…》 as text, drop the bar.
      i += 1;
      const close = nextClose(i);
      const end = close === -1 ? text.length : close + 1;
      plain += text.slice(i, end);
      i = end;
      continue;
    }
    if (ch === '｜' || ch === '|') {
      const open = nextOpen(i + 1);
      const close = open === -1 ? -1 : nextClose(open + 1);
      const base = open === -1 ? '' : text.slice(i + 1, open);
      const ruby = close === -1 ? '' : text.slice(open + 1, close);
      if (base && ruby && !/[\n《》｜|]/.test(base) && ruby.length <= MAX_RUBY && !ruby.includes('\n')) {
        flush();
        segments.push({ base, ruby, from: i, to: close + 1 });
        i = close + 1;
        continue;
      }
      plain += ch;
      i += 1;
      continue;
    }
    if (ch === '《') {
      const close = nextClose(i + 1);
      const ruby = close === -1 ? '' : text.slice(i + 1, close);
      // The base is looked for only behind a usable reading (the look reads the text built so far).
      const usable = ruby && ruby.length <= MAX_RUBY && !ruby.includes('\n') && !ruby.includes('《');
      let start = plain.length;
      while (usable && start > 0) {
        const prev = plain.codePointAt(start - 1);
        // Step back over whole code points (CJK Extension B etc. are surrogate pairs).
        const low = prev !== undefined && prev >= 0xdc00 && prev <= 0xdfff && start >= 2 ? 2 : 1;
        if (!KANJI.test(plain.slice(start - low, start))) break;
        start -= low;
      }
      if (usable && start < plain.length) {
        const base = plain.slice(start);
        plain = plain.slice(0, start);
        flush();
        segments.push({ base, ruby, from: i - base.length, to: close + 1 });
        i = close + 1;
        continue;
      }
    }
    plain += ch;
    i += 1;
  }
  flush();
  return segments;
}

/** The text as a reader sees it without furigana: what the model is given. */
export function stripRuby(text: string): string {
  if (!text.includes('《')) return text;
  return parseRuby(text)
    .map((s) => ('text' in s ? s.text : s.base))
    .join('');
}

/**
 * The text before and after the cursor as the model sees it (see stripRuby). A cursor inside a ruby's notation
 * cuts its base where it stands in the base; in the reading, it counts as after the whole base (the reading is not
 * text the continuation could follow).
 */
export function splitAtCursor(text: string, cursor: number): { before: string; after: string } {
  return { before: textBeforeCursor(text, cursor), after: textAfterCursor(text, cursor) };
}

/** The model's text before the cursor (what a read-ahead needs; see splitAtCursor). */
export function textBeforeCursor(text: string, cursor: number): string {
  const around = rubyAround(text, cursor);
  return around ? stripRuby(text.slice(0, around.from)) + around.base.slice(0, around.cut) : stripRuby(text.slice(0, cursor));
}

function textAfterCursor(text: string, cursor: number): string {
  const around = rubyAround(text, cursor);
  return around ? around.base.slice(around.cut) + stripRuby(text.slice(around.to)) : stripRuby(text.slice(cursor));
}

/**
 * The ruby whose notation holds the cursor (source offsets `from`–`to`), and where in its base the cursor cuts.
 * Notation never spans lines, so only the cursor's line is parsed.
 */
function rubyAround(text: string, cursor: number): { from: number; to: number; base: string; cut: number } | null {
  const lineStart = cursor === 0 ? 0 : text.lastIndexOf('\n', cursor - 1) + 1;
  const newline = text.indexOf('\n', cursor);
  const line = text.slice(lineStart, newline === -1 ? text.length : newline);
  if (!line.includes('《')) return null;
  const at = cursor - lineStart;
  const around = parseRuby(line).find((s): s is Extract<Segment, { base: string }> => 'base' in s && s.from < at && at < s.to);
  if (!around) return null;
  const baseStart = around.to - around.ruby.length - 2 - around.base.length;
  return {
    from: lineStart + around.from,
    to: lineStart + around.to,
    base: around.base,
    cut: Math.min(Math.max(at - baseStart, 0), around.base.length),
  };
}
