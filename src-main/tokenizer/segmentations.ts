import { PieceType } from './model-proto';
import type { SentencePiece } from './sentencepiece';
import { utf8Encode } from './utf8';

/**
 * Every way the vocabulary spells a normalized text: the tokenizations a unigram model can produce for it (the
 * Viterbi best that encode() gives, and the others that subword sampling, or the same words inside other text, can
 * give). A character no piece covers is an unknown: its bytes with byte fallback, else no spelling at all (the
 * model can only write it as <unk>, which is never sampled).
 *
 * The count grows exponentially with the text's length, so at most `limit` are returned: the official one first,
 * then a depth-first walk that tries the longest piece first (the spellings with the fewest tokens come early).
 * Costs O(limit × length × longest piece) map look-ups.
 */
export function segmentations(sp: SentencePiece, normalized: string, limit: number): number[][] {
  if (normalized.length === 0 || limit <= 0) return [];
  const { types } = sp.model;
  const longest = longestPiece(sp);
  const chars = Array.from(normalized);
  // Code-unit offset of each character, and for each character the edges (end character, ids) starting there.
  const edges: { end: number; ids: number[] }[][] = chars.map(() => []);
  const offsets = [0];
  for (const c of chars) offsets.push(offsets[offsets.length - 1]! + c.length);
  for (let i = 0; i < chars.length; i++) {
    let single = false;
    for (let j = i + 1; j <= chars.length && offsets[j]! - offsets[i]! <= longest; j++) {
      const id = sp.pieceToId(normalized.slice(offsets[i], offsets[j]));
      const t = types[id];
      if (t !== PieceType.NORMAL && t !== PieceType.USER_DEFINED) continue;
      edges[i]!.push({ end: j, ids: [id] });
      if (j === i + 1) single = true;
    }
    if (!single && sp.byteFallback) edges[i]!.push({ end: i + 1, ids: Array.from(utf8Encode(chars[i]!), (b) => sp.byteIds[b]!) });
    edges[i]!.sort((a, b) => b.end - a.end);
  }
  // reaches[i]: the end can be reached from character i (dead branches are never walked).
  const reaches = new Uint8Array(chars.length + 1);
  reaches[chars.length] = 1;
  for (let i = chars.length - 1; i >= 0; i--) reaches[i] = edges[i]!.some((e) => reaches[e.end]) ? 1 : 0;
  if (!reaches[0]) return [];

  const official = { ids: [] as number[], pieces: null };
  sp.encodeNormalized(utf8Encode(normalized), official);
  const out = [official.ids];
  const seen = new Set([official.ids.join(',')]);
  const path: number[] = [];
  const walk = (i: number): void => {
    if (out.length >= limit) return;
    if (i === chars.length) {
      const key = path.join(',');
      if (!seen.has(key)) {
        seen.add(key);
        out.push([...path]);
      }
      return;
    }
    for (const e of edges[i]!) {
      if (!reaches[e.end]) continue;
      path.push(...e.ids);
      walk(e.end);
      path.length -= e.ids.length;
      if (out.length >= limit) return;
    }
  };
  walk(0);
  return out;
}

const longestPieces = new WeakMap<SentencePiece, number>();

/** The longest normal or user-defined piece, in UTF-16 code units. */
function longestPiece(sp: SentencePiece): number {
  let n = longestPieces.get(sp);
  if (n === undefined) {
    n = 0;
    const { pieces, types } = sp.model;
    for (let id = 0; id < pieces.length; id++) {
      if (types[id] === PieceType.NORMAL || types[id] === PieceType.USER_DEFINED) n = Math.max(n, pieces[id]!.length);
    }
    longestPieces.set(sp, n);
  }
  return n;
}
