/**
 * A document as Markdown (CommonMark): the title as a heading; each line of the text a line of its paragraph (a
 * hard break, `\` at the end), an empty line between paragraphs. Every ASCII punctuation mark in the text is
 * escaped, so nothing the writer typed turns into emphasis, a link or a list. Ruby as HTML <ruby> (GitHub, Obsidian
 * and most viewers show it) or in a text notation; the model's text, when kept, in <span class="machine">.
 */
import type { Manuscript, Piece } from './manuscript';
import { writeRubyLine, writeRubyPiece, type TextRubyStyle } from './ruby-notation';
import { escapeXml } from './xml';

function escapeMarkdown(text: string): string {
  return text
    .replace(/[!-/:-@[-`{-~]/g, '\\$&')
    // Leading spaces would indent the line into a code block.
    .replace(/^ +/, (spaces) => '&#32;'.repeat(spaces.length));
}

/** `before`: the line so far in the text notation, for the notation's look-back. */
function writePiece(piece: Piece, ruby: TextRubyStyle | 'markup', before: string): string {
  if (ruby !== 'markup') return escapeMarkdown(writeRubyPiece(piece, ruby, before));
  if ('text' in piece) return escapeMarkdown(piece.text);
  return `<ruby>${escapeXml(piece.base)}<rp>（</rp><rt>${escapeXml(piece.ruby)}</rt><rp>）</rp></ruby>`;
}

function writeLine(pieces: readonly Piece[], ruby: TextRubyStyle | 'markup', marks: boolean): string {
  if (ruby !== 'markup' && !marks) return escapeMarkdown(writeRubyLine(pieces, ruby));
  let line = '';
  let notation = '';
  for (const piece of pieces) {
    const written = writePiece(piece, ruby, notation);
    if (ruby !== 'markup') notation += writeRubyPiece(piece, ruby, notation);
    line += marks && piece.machine ? `<span class="machine">${written}</span>` : written;
  }
  return line;
}

export function exportMarkdown(m: Manuscript, options: { ruby: TextRubyStyle | 'markup'; marks: boolean }): Uint8Array {
  const paragraphs: string[][] = [[]];
  for (const pieces of m.lines) {
    if (pieces.length === 0) {
      if (paragraphs[paragraphs.length - 1]!.length > 0) paragraphs.push([]);
    } else {
      paragraphs[paragraphs.length - 1]!.push(writeLine(pieces, options.ruby, options.marks));
    }
  }
  const body = paragraphs.filter((p) => p.length > 0).map((p) => p.join('\\\n'));
  return new TextEncoder().encode(`# ${escapeMarkdown(m.title)}\n\n${body.join('\n\n')}\n`);
}
