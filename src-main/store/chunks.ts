import { createHash } from 'node:crypto';

/**
 * A document's text is stored and indexed as chunks of whole paragraphs, so an autosave of a 200,000-character
 * document writes and re-indexes only the chunks that changed. Whether a paragraph ends a chunk depends on that
 * paragraph alone (its hash, with a chance proportional to its length, so chunks average AVERAGE characters):
 * typing in one paragraph changes one or two chunks and never moves the boundaries after it, and chunking can
 * restart at any chunk start (see `chunkRanges`).
 */
const AVERAGE = 1500;
/** Longer paragraphs are cut (at sentence ends if possible) into pieces of at most this. */
const MAX_PIECE = 4000;
/** A safety net only: chunks reach this with a chance of about e^-10. */
const MAX_CHUNK = 15_000;

export interface Chunk {
  hash: string;
  body: string;
}

export function chunkHash(body: string): string {
  return createHash('sha1').update(body).digest('base64');
}

function closesChunk(text: string, start: number, end: number): boolean {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0) % AVERAGE < end - start;
}

/** End of the piece starting at `pos`: the paragraph (with its newline), cut at a sentence end if too long. */
function pieceEnd(text: string, pos: number): number {
  const newline = text.indexOf('\n', pos);
  const paragraphEnd = newline < 0 ? text.length : newline + 1;
  if (paragraphEnd - pos <= MAX_PIECE) return paragraphEnd;
  const window = text.slice(pos, pos + MAX_PIECE);
  const cut = Math.max(window.lastIndexOf('。'), window.lastIndexOf('！'), window.lastIndexOf('？'), window.lastIndexOf('. '));
  let at = cut >= MAX_PIECE / 4 ? cut + 1 : MAX_PIECE;
  if (/[\ud800-\udbff]/.test(text[pos + at - 1]!)) at -= 1;
  return pos + at;
}

/** The [start, end) ranges of the chunks of `text` from `from` on, which must be a chunk start (0 is). Lazy. */
export function* chunkRanges(text: string, from = 0): Generator<[number, number]> {
  let start = from;
  let pos = from;
  while (pos < text.length) {
    const end = pieceEnd(text, pos);
    if (pos > start && end - start > MAX_CHUNK) {
      yield [start, pos];
      start = pos;
    }
    const closes = closesChunk(text, pos, end);
    pos = end;
    if (closes) {
      yield [start, end];
      start = end;
    }
  }
  if (pos > start) yield [start, pos];
}

export function chunkText(text: string): Chunk[] {
  return [...chunkRanges(text)].map(([start, end]) => {
    const body = text.slice(start, end);
    return { hash: chunkHash(body), body };
  });
}

/** Deletes chunk `@id` when it is retired, out of the search index and no revision needs it; otherwise nothing. */
export const DELETE_GARBAGE =
  'DELETE FROM document_chunks WHERE id = @id AND live = 0 AND indexed = 0 AND NOT EXISTS (SELECT 1 FROM revision_chunks WHERE chunk_id = @id)';
