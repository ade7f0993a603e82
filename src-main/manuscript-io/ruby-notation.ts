/**
 * A line written in a plain-text ruby notation, each with its own escapes for the characters it reads as notation:
 *
 * - 青空文庫 (aozora): ruby as ｜漢字《かんじ》 (always with ｜, so the base is never guessed); a literal 《, 》 or ｜, and
 *   the ［＃ that opens an annotation, become 青空文庫's own 外字注記 (※［＃始め二重山括弧、1-1-52］ …).
 * - 小説家になろう / カクヨム (narou): ruby as |漢字《かんじ》 with the half-width bar both sites read; a literal 《 is
 *   written |《 (both sites' escape, which also keeps カクヨム's 《《傍点》》 literal). なろう also reads 漢字（かな） as
 *   ruby when kana of up to 10 characters follow kanji or Latin letters in parentheses: such a parenthesis is written
 *   |（ (なろう's escape). なろう takes at most 10 characters of base and of ruby: a longer one is written as
 *   base|《ruby》, which shows as the text reads.
 * - strip: the base only.
 */
import { plainText, type Piece } from './manuscript';

export type TextRubyStyle = 'aozora' | 'narou' | 'strip';

const AOZORA_ESCAPES: [RegExp, string][] = [
  [/［＃/g, '※［＃始め角括弧、1-1-46］＃'],
  [/《/g, '※［＃始め二重山括弧、1-1-52］'],
  [/》/g, '※［＃終わり二重山括弧、1-1-53］'],
  [/｜/g, '※［＃縦線、1-1-35］'],
];

function escapeAozora(text: string): string {
  return AOZORA_ESCAPES.reduce((s, [pattern, replacement]) => s.replace(pattern, replacement), text);
}

/** なろう's automatic ruby: kanji or Latin letters, then (kana) of up to 10 characters. */
const NAROU_AUTO_PAREN = /(?<=[\p{Script=Han}々〆〇ヶA-Za-zＡ-Ｚａ-ｚ])([（(])(?=[\p{Script=Hiragana}\p{Script=Katakana}ー・…]{1,10}[）)])/gu;
const NAROU_MAX = 10;

/** `before`: the text already written on the line, for the parenthesis rule at the start of `text`. */
function escapeNarou(text: string, before: string): string {
  // The lookbehind sees the line's last character; the rule never changes that character itself.
  const last = before.slice(-1);
  return (last + text).replace(NAROU_AUTO_PAREN, '|$1').slice(last.length).replace(/《/g, '|《');
}

/** One piece in the notation; `before`: the line as written so far (なろう's parenthesis rule looks back). */
export function writeRubyPiece(piece: Piece, style: TextRubyStyle, before: string): string {
  if (style === 'strip') return plainText(piece);
  if (style === 'aozora') return 'text' in piece ? escapeAozora(piece.text) : `｜${escapeAozora(piece.base)}《${escapeAozora(piece.ruby)}》`;
  if ('text' in piece) return escapeNarou(piece.text, before);
  if (Array.from(piece.base).length > NAROU_MAX || Array.from(piece.ruby).length > NAROU_MAX) return `${escapeNarou(piece.base, before)}|《${piece.ruby}》`;
  return `|${piece.base}《${piece.ruby}》`;
}

export function writeRubyLine(pieces: readonly Piece[], style: TextRubyStyle): string {
  return pieces.reduce((line, piece) => line + writeRubyPiece(piece, style, line), '');
}
