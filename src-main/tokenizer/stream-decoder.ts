import type { SentencePiece } from './sentencepiece';
import { decodeBytePieces } from './sentencepiece';
import { neededLen, utf8Decode, utf8Encode, validCharLen } from './utf8';

export interface StreamDecoderOptions {
  /**
   * The text the generated tokens continue (usually the document before the cursor). Empty or absent:
   * the tokens are decoded as a text of their own, so a leading ▁ is dropped, like `decode`. Ending in
   * whitespace (a space, a line break): the first ▁ is dropped too, since the break is already there.
   * Otherwise a leading ▁ is a real space and is kept.
   */
  afterText?: string;
  /** id → text overrides applied instead of the piece text (the newline strategy uses this). */
  pieceOverrides?: ReadonlyMap<number, string>;
}

export interface StreamDecoder {
  /** Adds one token; returns the text that became final (possibly ''). */
  push(id: number): string;
  /** Ends the stream: returns what was held back (an unfinished byte sequence becomes U+FFFD, as decode does). */
  end(): string;
  /** Everything emitted so far. */
  readonly text: string;
}

/**
 * Incremental `decode`: concatenating every push() and end() gives exactly what decode would give for
 * the same ids (with the afterText rule for the first ▁). Text is emitted as soon as it can no longer
 * change; only byte-fallback pieces are held, until their UTF-8 character is complete or provably broken.
 */
export function createStreamDecoder(sp: SentencePiece, options: StreamDecoderOptions = {}): StreamDecoder {
  const after = options.afterText ?? '';
  const overrides = options.pieceOverrides;
  // "Output still empty" in the library's sense; a non-empty afterText that ends in whitespace keeps the
  // first ▁ from doubling the break, one that ends in a letter makes the ▁ a space.
  let atStart = after.length === 0 || /\s$/u.test(after);
  let emitted = '';
  const pending: number[] = [];
  const denormalizer = sp.denormalizer;
  // With a denormalizer (decode rewrites the finished text by its rules), the text before it is kept and
  // its denormalized form is emitted up to where no later byte can change it.
  let raw = '';

  /** Emits the pending bytes that are decided; with `final`, all of them. */
  const drainBytes = (final: boolean): string => {
    if (pending.length === 0) return '';
    const bytes = Uint8Array.from(pending);
    let cut = 0;
    while (cut < bytes.length) {
      const need = neededLen(bytes[cut]!);
      const have = bytes.length - cut;
      if (!final && have < need) {
        // Wait while the remaining bytes could still become a valid character.
        let couldBe = true;
        for (let i = cut + 1; i < bytes.length; i++) if ((bytes[i]! & 0xc0) !== 0x80) couldBe = false;
        if (couldBe) break;
      }
      const len = validCharLen(bytes, cut, bytes.length);
      cut += len === 0 ? 1 : len;
    }
    const out = decodeBytePieces(bytes.subarray(0, cut));
    pending.splice(0, cut);
    return out;
  };

  const denormalized = (final: boolean): string => {
    if (!denormalizer || raw.length === 0) return '';
    const bytes = utf8Encode(raw);
    const origins = { map: new Int32Array(0) };
    const out = denormalizer.normalize(bytes, 0, bytes.length, undefined, origins);
    const stable = final ? bytes.length : bytes.length - denormalizer.maxRuleBytes;
    let e = 0;
    while (e < out.length && origins.map[e]! < stable) e++;
    const text = utf8Decode(out.subarray(0, e));
    const fresh = text.slice(emitted.length);
    emitted = text;
    return fresh;
  };

  const emit = (s: string, final = false): string => {
    if (denormalizer) {
      if (s.length > 0) {
        raw += s;
        atStart = false;
      }
      return denormalized(final);
    }
    if (s.length > 0) {
      emitted += s;
      atStart = false;
    }
    return s;
  };

  return {
    push(id: number): string {
      sp.checkId(id);
      const b = sp.byteOf(id);
      if (b >= 0) {
        pending.push(b);
        return emit(drainBytes(false));
      }
      let out = emit(drainBytes(true));
      const override = overrides?.get(id);
      out += emit(override ?? sp.pieceText(id, atStart));
      return out;
    },
    end(): string {
      return emit(drainBytes(true), true);
    },
    get text() {
      return emitted;
    },
  };
}
