import { TsuzukiError } from '../contract/errors';
import { DoubleArray } from './double-array';
import type { NormalizerSpec } from './model-proto';
import { validCharLen } from './utf8';

const SPACE = 0x20;
// U+2581 LOWER ONE EIGHTH BLOCK, SentencePiece's visible space.
const WS0 = 0xe2;
const WS1 = 0x96;
const WS2 = 0x81;

/**
 * SentencePiece's normalizer (normalizer.cc), on UTF-8 bytes: at each position the longest user-defined
 * symbol is copied verbatim, else the longest rule of the precompiled charsmap is applied, else one
 * character is copied (a malformed byte becomes U+FFFD). Then the whitespace rules: heading, trailing and
 * repeated spaces removed, a dummy ▁ prefix, ' ' → ▁.
 */
export class Normalizer {
  private readonly trie: DoubleArray | null = null;
  /** The charsmap's replacement strings, each ended by a NUL. */
  private readonly replacements: Uint8Array = new Uint8Array(0);

  constructor(
    private readonly spec: NormalizerSpec,
    /** Longest-prefix matcher over user-defined symbols, or null. */
    private readonly userSymbols: DoubleArray | null,
    private readonly treatWhitespaceAsSuffix: boolean,
    file: string,
  ) {
    const blob = spec.precompiledCharsmap;
    if (blob.length > 0) {
      const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
      const trieSize = blob.length > 4 ? view.getUint32(0, true) : -1;
      if (trieSize < 0 || trieSize + 4 > blob.length || trieSize % 4 !== 0) {
        throw new TsuzukiError(
          'corrupt_file',
          `${file}: the normalization rules (precompiled_charsmap) are broken. Use an unmodified spiece.model.`,
        );
      }
      const units = new Uint32Array(trieSize / 4);
      for (let i = 0; i < units.length; i++) units[i] = view.getUint32(4 + i * 4, true);
      this.trie = new DoubleArray(units);
      this.replacements = blob.subarray(4 + trieSize);
    }
  }

  /** Longest input (bytes) one charsmap rule can consume: how far a later byte can change earlier output. */
  get maxRuleBytes(): number {
    this.maxRule ??= this.trie ? this.trie.maxKeyLength() : 0;
    return this.maxRule;
  }
  private maxRule: number | undefined;

  // Where the next unit's normalized form lies: src[srcStart, srcEnd), the input itself or the blob.
  private src: Uint8Array = this.replacements;
  private srcStart = 0;
  private srcEnd = 0;

  /** Length in input bytes of the next unit at `pos`; its normalized form is left in src/srcStart/srcEnd. */
  private prefix(input: Uint8Array, pos: number, end: number): number {
    if (this.userSymbols) {
      const len = this.userSymbols.longestPrefix(input, pos, end);
      if (len > 0) {
        this.src = input;
        this.srcStart = pos;
        this.srcEnd = pos + len;
        return len;
      }
    }
    if (this.trie) {
      const len = this.trie.longestPrefix(input, pos, end);
      if (len > 0) {
        const r = this.replacements;
        let e = this.trie.value;
        while (e < r.length && r[e] !== 0) e++;
        this.src = r;
        this.srcStart = this.trie.value;
        this.srcEnd = e;
        return len;
      }
    }
    const len = validCharLen(input, pos, end);
    if (len === 0) {
      this.src = REPLACEMENT;
      this.srcStart = 0;
      this.srcEnd = 3;
      return 1;
    }
    this.src = input;
    this.srcStart = pos;
    this.srcEnd = pos + len;
    return len;
  }

  /**
   * Normalizes input[start, end). `addDummyPrefix: false` lets a caller normalize a piece of text that
   * continues earlier text (the tail fast path): no dummy ▁ at its start; otherwise the model's spec
   * decides. A dummy ▁ at the end (treat_whitespace_as_suffix) always follows the spec.
   */
  normalize(
    input: Uint8Array,
    start = 0,
    end = input.length,
    addDummyPrefix = this.spec.addDummyPrefix,
    /** When given, receives for each output byte the input offset it came from (norm_to_orig). */
    origins?: { map: Int32Array },
  ): Uint8Array {
    const { removeExtraWhitespaces: removeWs, escapeWhitespaces: escape } = this.spec;
    let pos = start;
    if (pos >= end) return new Uint8Array(0);
    if (removeWs) {
      while (pos < end) {
        const len = this.prefix(input, pos, end);
        if (!(this.srcEnd - this.srcStart === 1 && this.src[this.srcStart] === SPACE)) break;
        pos += len;
      }
      if (pos >= end) return new Uint8Array(0);
    }
    let out = new Uint8Array((end - pos) * 3 + 8);
    if (origins) origins.map = new Int32Array(out.length);
    let n = 0;
    let consumed = pos;
    const addWs = () => {
      if (origins) origins.map.fill(consumed, n, n + (escape ? 3 : 1));
      if (escape) {
        out[n++] = WS0;
        out[n++] = WS1;
        out[n++] = WS2;
      } else out[n++] = SPACE;
    };
    if (!this.treatWhitespaceAsSuffix && addDummyPrefix) addWs();
    let prevSpace = removeWs;
    while (pos < end) {
      consumed = pos;
      pos += this.prefix(input, pos, end);
      const src = this.src;
      let s = this.srcStart;
      const e = this.srcEnd;
      if (prevSpace) while (s < e && src[s] === SPACE) s++;
      if (s < e) {
        if (n + (e - s) * 3 + 8 > out.length) {
          const bigger = new Uint8Array(out.length * 2 + (e - s) * 3);
          bigger.set(out.subarray(0, n));
          out = bigger;
          if (origins) {
            const map = new Int32Array(out.length);
            map.set(origins.map.subarray(0, n));
            origins.map = map;
          }
        }
        const n0 = n;
        for (let i = s; i < e; i++) {
          const b = src[i]!;
          if (escape && b === SPACE) {
            out[n++] = WS0;
            out[n++] = WS1;
            out[n++] = WS2;
          } else out[n++] = b;
        }
        if (origins) origins.map.fill(consumed, n0, n);
        prevSpace = src[e - 1] === SPACE;
      }
      if (!removeWs) prevSpace = false;
    }
    if (removeWs) {
      if (escape) while (n >= 3 && out[n - 1] === WS2 && out[n - 2] === WS1 && out[n - 3] === WS0) n -= 3;
      else while (n >= 1 && out[n - 1] === SPACE) n--;
    }
    consumed = end;
    // The suffix form marks the end of the text, which a continuation shares: only the spec decides.
    if (this.treatWhitespaceAsSuffix && this.spec.addDummyPrefix) addWs();
    return out.subarray(0, n);
  }
}

const REPLACEMENT = new Uint8Array([0xef, 0xbf, 0xbd]);
