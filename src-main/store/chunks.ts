import { createHash } from 'node:crypto';

/**
 * A document's text is indexed for search in chunks of whole paragraphs, so an autosave of a 200,000-character
 * document re-indexes only the chunks that changed (found by hash), not the whole text. Whether a paragraph ends a
 * chunk depends on that paragraph alone (its hash, with a chance proportional to its length, so chunks average
 * AVERAGE characters): typing in one paragraph changes one or two chunks and never shifts the boundaries after it.
 */
const AVERAGE = 1500;
/** Longer paragraphs are cut (at sentence ends if possible) into pieces of at most this. */
const MAX_PIECE = 4000;
/** A safety net only: chunks reach this with a chance of about e^-10. */
const MAX_CHUNK = 15_000;

function closesChunk(paragraph: string): boolean {
  let h = 0x811c9dc5;
  for (let i = 0; i < paragraph.length; i++) h = Math.imul(h ^ paragraph.charCodeAt(i), 0x01000193);
  return (h >>> 0) % AVERAGE < paragraph.length;
}

export interface Chunk {
  hash: string;
  body: string;
}

/** Cuts a paragraph longer than MAX_PIECE at sentence ends (。！？), and as a last resort every MAX characters. */
function splitLong(paragraph: string, out: string[]): void {
  let rest = paragraph;
  while (rest.length > MAX_PIECE) {
    const window = rest.slice(0, MAX_PIECE);
    const cut = Math.max(window.lastIndexOf('。'), window.lastIndexOf('！'), window.lastIndexOf('？'), window.lastIndexOf('. '));
    let at = cut >= MAX_PIECE / 4 ? cut + 1 : MAX_PIECE;
    if (/[\ud800-\udbff]/.test(rest[at - 1]!)) at -= 1;
    out.push(rest.slice(0, at));
    rest = rest.slice(at);
  }
  if (rest.length > 0) out.push(rest);
}

export function chunkText(text: string): Chunk[] {
  const pieces: string[] = [];
  for (const paragraph of text.split(/(?<=\n)/)) splitLong(paragraph, pieces);
  const bodies: string[] = [];
  let current = '';
  for (const piece of pieces) {
    if (current.length > 0 && current.length + piece.length > MAX_CHUNK) {
      bodies.push(current);
      current = '';
    }
    current += piece;
    if (closesChunk(piece)) {
      bodies.push(current);
      current = '';
    }
  }
  if (current.length > 0) bodies.push(current);
  return bodies.map((body) => ({ hash: createHash('sha1').update(body).digest('base64'), body }));
}
