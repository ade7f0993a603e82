import { TsuzukiError } from '../contract/errors';
import { buildDoubleArray, DoubleArray } from './double-array';
import { PieceType, pieceToByte, type SentencePieceModel } from './model-proto';
import { Normalizer } from './normalizer';
import { ONE_CHAR_LEN, utf8Decode, utf8Encode, validCharLen } from './utf8';

const FLT_MIN = 1.1754943508222875e-38;
const FLT_MAX = 3.4028234663852886e38;
/** unigram_model.h kUnkPenalty. */
const UNK_PENALTY = 10;
const SPACE_SYMBOL = '\u2581';
/** Viterbi work arrays up to this many positions stay allocated between calls. */
const WORK_ARRAYS_KEPT = 1 << 20;

/** One encoded token: its id and, for `encodePieces`, the piece text SentencePiece reports. */
export interface EncodeSink {
  ids: number[];
  pieces: string[] | null;
}

/**
 * A loaded unigram model: SentencePieceProcessor's Encode (normalize → Viterbi → merge unknowns /
 * byte fallback) and Decode, with the library's arithmetic and tie-breaking.
 */
export class SentencePiece {
  readonly normalizer: Normalizer;
  readonly denormalizer: Normalizer | null;
  readonly unkId: number;
  readonly byteFallback: boolean;
  /** id of `<0xXX>` for each byte, when byte_fallback is on. */
  readonly byteIds = new Int32Array(256).fill(-1);
  /** byte value of each id (-1 when the id is not a byte piece). */
  private readonly idToByte: Int16Array;
  private readonly trie: Uint32Array;
  private readonly pieceBytes: Uint8Array[];
  private readonly minScore: number;
  private readonly maxScore: number;
  /**
   * Each vocabulary piece's lattice score: its float score; for a user-defined piece the library's
   * `length * max_score_ - 0.1` (float product, then a double subtraction because 0.1 is a double
   * literal, which makes every candidate a double sum); NaN for an unused piece (never a candidate).
   */
  private readonly pieceScore: Float64Array;
  private readonly pieceIndex = new Map<string, number>();
  private readonly reservedIndex = new Map<string, number>();

  // Viterbi work arrays, reused between calls and grown on demand.
  private bestScore = new Float32Array(1024);
  private bestStart = new Int32Array(1024);
  private bestId = new Int32Array(1024);

  constructor(
    readonly model: SentencePieceModel,
    file: string,
  ) {
    const { pieces, types, scores } = model;
    const keys: Uint8Array[] = [];
    const values: number[] = [];
    const userSymbols: Uint8Array[] = [];
    let unk = -1;
    let minScore = FLT_MAX;
    let maxScore = FLT_MIN;
    this.idToByte = new Int16Array(pieces.length).fill(-1);
    this.pieceBytes = pieces.map((p) => utf8Encode(p));
    for (let i = 0; i < pieces.length; i++) {
      const t = types[i]!;
      const piece = pieces[i]!;
      if (t === PieceType.NORMAL || t === PieceType.USER_DEFINED || t === PieceType.UNUSED) {
        this.pieceIndex.set(piece, i);
        // Darts keys are C strings: a piece is cut at its first NUL, as in the library.
        const bytes = this.pieceBytes[i]!;
        const nul = bytes.indexOf(0);
        const key = nul >= 0 ? bytes.subarray(0, nul) : bytes;
        if (key.length > 0) {
          keys.push(key);
          values.push(i);
        }
        if (t === PieceType.USER_DEFINED && key.length > 0) userSymbols.push(key);
      } else this.reservedIndex.set(piece, i);
      if (t === PieceType.UNKNOWN) unk = i;
      if (t === PieceType.BYTE) {
        const b = pieceToByte(piece);
        this.byteIds[b] = i;
        this.idToByte[i] = b;
      }
      if (t === PieceType.NORMAL) {
        minScore = Math.min(minScore, scores[i]!);
        maxScore = Math.max(maxScore, scores[i]!);
      }
    }
    if (keys.length === 0) {
      throw new TsuzukiError('corrupt_file', `${file} has no normal vocabulary pieces. Use an unmodified spiece.model.`);
    }
    this.unkId = unk;
    this.minScore = minScore;
    this.maxScore = maxScore;
    this.byteFallback = model.trainer.byteFallback;
    this.pieceScore = new Float64Array(pieces.length);
    for (let i = 0; i < pieces.length; i++) {
      const t = types[i]!;
      const nul = this.pieceBytes[i]!.indexOf(0);
      const length = nul >= 0 ? nul : this.pieceBytes[i]!.length;
      this.pieceScore[i] =
        t === PieceType.UNUSED ? NaN : t === PieceType.USER_DEFINED ? Math.fround(length * maxScore) - 0.1 : scores[i]!;
    }
    this.trie = buildDoubleArray(keys, Int32Array.from(values));
    const matcher =
      userSymbols.length > 0 ? new DoubleArray(buildDoubleArray(userSymbols, new Int32Array(userSymbols.length))) : null;
    this.normalizer = new Normalizer(model.normalizer, matcher, model.trainer.treatWhitespaceAsSuffix, file);
    this.denormalizer = model.denormalizer ? new Normalizer(model.denormalizer, null, false, file) : null;
  }

  /**
   * Decode drops a ▁ that starts the output when the model adds a dummy ▁ (0.1.97 checks only
   * add_dummy_prefix, so this holds with treat_whitespace_as_suffix too).
   */
  get stripsLeadingSpace(): boolean {
    return this.model.normalizer.addDummyPrefix;
  }

  get size(): number {
    return this.model.pieces.length;
  }

  /** PieceToId: reserved (control/unknown/byte) pieces first, then the vocabulary, else unk. */
  pieceToId(piece: string): number {
    return this.reservedIndex.get(piece) ?? this.pieceIndex.get(piece) ?? this.unkId;
  }

  encode(text: string | Uint8Array, sink: EncodeSink, addDummyPrefix?: boolean): void {
    const input = typeof text === 'string' ? utf8Encode(text) : text;
    const normalized = this.normalizer.normalize(input, 0, input.length, addDummyPrefix);
    this.encodeNormalized(normalized, sink);
  }

  /** Viterbi over normalized bytes (unigram_model.cc EncodeOptimized), then PopulateSentencePieceText. */
  encodeNormalized(s: Uint8Array, sink: EncodeSink): void {
    const size = s.length;
    if (size === 0) return;
    if (this.bestScore.length <= size) {
      const cap = Math.max(size + 1, this.bestScore.length * 2);
      this.bestScore = new Float32Array(cap);
      this.bestStart = new Int32Array(cap);
      this.bestId = new Int32Array(cap);
    }
    const score = this.bestScore;
    const from = this.bestStart;
    const best = this.bestId;
    // -Infinity stands for the library's "starts_at == -1": any finite candidate beats it.
    score.fill(-Infinity, 1, size + 1);
    score[0] = 0;
    const units = this.trie;
    const pieceScore = this.pieceScore;
    const unkScore = Math.fround(this.minScore - UNK_PENALTY);
    const unkId = this.unkId;
    const root = offsetOf(units[0]!);
    const n = units.length;

    for (let start = 0; start < size; ) {
      const base = score[start]!;
      const lead = ONE_CHAR_LEN[s[start]!]!;
      const mblen = lead < size - start ? lead : size - start;
      let hasSingle = false;
      let node = root;
      for (let k = start; k < size; ) {
        const c = s[k]!;
        node ^= c;
        if (node >= n) break;
        const unit = units[node]!;
        if ((unit & 0x800000ff) !== c) break;
        node ^= offsetOf(unit);
        k++;
        if ((unit & 0x100) === 0) continue;
        const sc = pieceScore[units[node]! & 0x7fffffff]!;
        if (sc !== sc) continue; // NaN: an unused piece
        // A double sum compared with the stored float, as in the library (see pieceScore).
        const candidate = sc + base;
        if (candidate > score[k]!) {
          score[k] = candidate;
          from[k] = start;
          best[k] = units[node]! & 0x7fffffff;
        }
        if (k - start === mblen) hasSingle = true;
      }
      if (!hasSingle) {
        const k = start + mblen;
        // The unknown candidate is float + float in the library: rounded to float before comparing.
        const candidate = Math.fround(unkScore + base);
        if (candidate > score[k]!) {
          score[k] = candidate;
          from[k] = start;
          best[k] = unkId;
        }
      }
      start += mblen;
    }

    // Backtrack into a reversed list of (end) positions.
    const ends: number[] = [];
    for (let e = size; e > 0; e = from[e]!) ends.push(e);
    // Work arrays grown for a huge text (12 bytes per input byte) are not kept for the next call.
    if (this.bestScore.length > WORK_ARRAYS_KEPT) this.releaseWorkArrays();
    const { ids, pieces } = sink;
    let prevUnk = false;
    for (let j = ends.length - 1; j >= 0; j--) {
      const e = ends[j]!;
      const b = from[e]!;
      const id = best[e]!;
      const isUnk = id === this.unkId;
      if (isUnk && this.byteFallback) {
        for (let i = b; i < e; i++) {
          ids.push(this.byteIds[s[i]!]!);
          pieces?.push(this.model.pieces[this.byteIds[s[i]!]!]!);
        }
      } else if (isUnk && prevUnk) {
        if (pieces) pieces[pieces.length - 1] += utf8Decode(s.subarray(b, e));
      } else {
        ids.push(id);
        pieces?.push(isUnk ? utf8Decode(s.subarray(b, e)) : this.model.pieces[id]!);
      }
      prevUnk = isUnk;
    }
  }

  byteOf(id: number): number {
    return this.idToByte[id]!;
  }

  checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.size) {
      throw new TsuzukiError('invalid_argument', `Token id ${id} is out of range (the vocabulary has ${this.size} pieces).`);
    }
  }

  private releaseWorkArrays(): void {
    this.bestScore = new Float32Array(1024);
    this.bestStart = new Int32Array(1024);
    this.bestId = new Int32Array(1024);
  }

  /**
   * The text of one non-byte piece as Decode writes it; `atStart` is the library's "output still empty",
   * which drops the piece's leading ▁.
   */
  pieceText(id: number, atStart: boolean): string {
    const t = this.model.types[id]!;
    if (t === PieceType.CONTROL) return '';
    if (t === PieceType.UNKNOWN) return this.model.trainer.unkSurface;
    let piece = this.model.pieces[id]!;
    if (atStart && this.stripsLeadingSpace && piece.startsWith(SPACE_SYMBOL)) piece = piece.slice(1);
    return piece.replaceAll(SPACE_SYMBOL, ' ');
  }

  /** DecodeIds: byte pieces are gathered into UTF-8 (a malformed byte becomes U+FFFD). */
  decode(ids: readonly number[]): string {
    let text = '';
    const bytes: number[] = [];
    const flush = () => {
      if (bytes.length > 0) {
        text += decodeBytePieces(Uint8Array.from(bytes));
        bytes.length = 0;
      }
    };
    for (const id of ids) {
      this.checkId(id);
      const b = this.idToByte[id]!;
      if (b >= 0) {
        bytes.push(b);
        continue;
      }
      flush();
      text += this.pieceText(id, text.length === 0);
    }
    flush();
    return this.denormalize(text);
  }

  denormalize(text: string): string {
    if (!this.denormalizer || text.length === 0) return text;
    return utf8Decode(this.denormalizer.normalize(utf8Encode(text)));
  }
}

const offsetOf = (unit: number) => (unit >>> 10) << ((unit & 0x200) >>> 6);

/** ProcessBytePieces: each valid character as is, each malformed byte as U+FFFD. */
export function decodeBytePieces(bytes: Uint8Array): string {
  let out = '';
  let runStart = 0;
  for (let i = 0; i < bytes.length; ) {
    const len = validCharLen(bytes, i, bytes.length);
    if (len === 0) {
      out += utf8Decode(bytes.subarray(runStart, i)) + '\ufffd';
      i += 1;
      runStart = i;
    } else i += len;
  }
  return out + utf8Decode(bytes.subarray(runStart));
}
