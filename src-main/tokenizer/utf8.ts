/**
 * UTF-8 helpers with SentencePiece's exact rules (util.h `DecodeUTF8`, `OneCharLen`): the library works on
 * bytes, so malformed input is judged byte by byte the way it does, not the way TextDecoder would.
 */

/** Length of the UTF-8 sequence announced by a lead byte (1 for continuation and invalid bytes). */
export const ONE_CHAR_LEN = new Uint8Array(256);
for (let b = 0; b < 256; b++) ONE_CHAR_LEN[b] = b < 0xc0 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;

const isTrail = (b: number) => (b & 0xc0) === 0x80;
const isValidCodepoint = (c: number) => c < 0xd800 || (c >= 0xe000 && c <= 0x10ffff);

/**
 * Byte length of the valid character at `pos` (within `end`), or 0 when the bytes there are malformed
 * (SentencePiece then consumes one byte and substitutes U+FFFD).
 */
export function validCharLen(bytes: Uint8Array, pos: number, end: number): number {
  const b0 = bytes[pos]!;
  if (b0 < 0x80) return 1;
  const len = end - pos;
  if (len >= 2 && (b0 & 0xe0) === 0xc0) {
    const b1 = bytes[pos + 1]!;
    const cp = ((b0 & 0x1f) << 6) | (b1 & 0x3f);
    return isTrail(b1) && cp >= 0x80 ? 2 : 0;
  }
  if (len >= 3 && (b0 & 0xf0) === 0xe0) {
    const b1 = bytes[pos + 1]!;
    const b2 = bytes[pos + 2]!;
    const cp = ((b0 & 0x0f) << 12) | ((b1 & 0x3f) << 6) | (b2 & 0x3f);
    return isTrail(b1) && isTrail(b2) && cp >= 0x800 && isValidCodepoint(cp) ? 3 : 0;
  }
  if (len >= 4 && (b0 & 0xf8) === 0xf0) {
    const b1 = bytes[pos + 1]!;
    const b2 = bytes[pos + 2]!;
    const b3 = bytes[pos + 3]!;
    const cp = ((b0 & 0x07) << 18) | ((b1 & 0x3f) << 12) | ((b2 & 0x3f) << 6) | (b3 & 0x3f);
    return isTrail(b1) && isTrail(b2) && isTrail(b3) && cp >= 0x10000 && isValidCodepoint(cp) ? 4 : 0;
  }
  return 0;
}

/** The bytes SentencePiece needs to see before it can judge the character starting with `b0`. */
export function neededLen(b0: number): number {
  if ((b0 & 0xe0) === 0xc0) return 2;
  if ((b0 & 0xf0) === 0xe0) return 3;
  if ((b0 & 0xf8) === 0xf0) return 4;
  return 1;
}

const encoder = new TextEncoder();
// ignoreBOM: a U+FEFF at the start is text here, not a byte order mark.
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/** JS string → UTF-8. A lone surrogate becomes U+FFFD, since it has no UTF-8 form. */
export const utf8Encode = (text: string): Uint8Array => encoder.encode(text);
export const utf8Decode = (bytes: Uint8Array): string => decoder.decode(bytes);
