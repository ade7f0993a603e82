import { PieceType } from './model-proto';
import type { SentencePiece } from './sentencepiece';
import { createStreamDecoder, type StreamDecoder } from './stream-decoder';
import { utf8Encode } from './utf8';

/**
 * How this model treats a line break, found at load time by a round trip:
 * - `native`: "\n" survives encode → decode (identity normalization with "\n" in the vocabulary or byte
 *   fallback). Context and output carry line breaks as they are.
 * - `piece`: "\n" does not survive, but the vocabulary has a piece that stands for a line break ("<NL>",
 *   "<br>", "\n", …). encodeContext turns every line break into that piece; the stream decoder turns the
 *   piece back into "\n".
 * - `lost`: neither. The model was trained on text whose breaks became spaces (nmt_nfkc maps "\n" to " "),
 *   so encodeContext feeds it exactly that: the official encoding, where a break is a ▁ boundary. The
 *   model cannot write a line break, so a continuation never contains one.
 * In every mode the writer's document is never rewritten: only the token ids sent to the model differ.
 */
export interface NewlineInfo {
  mode: 'native' | 'piece' | 'lost';
  /** The line-break piece (`piece` mode), else null. */
  pieceId: number | null;
  piece: string | null;
  /** decode(encode("あ\nい")): what the plain official round trip makes of a break. */
  roundTrip: string;
}

export interface SpecialTokens {
  unk: number;
  /** bos/eos/pad as SentencePieceProcessor reports them: the id of the named control piece, or null. */
  bos: number | null;
  eos: number | null;
  pad: number | null;
  control: number[];
  userDefined: number[];
}

export interface TailEncoding {
  ids: number[];
  /**
   * true when ids are provably the last ids of encodeContext(text): the window was cut at a position no
   * vocabulary piece spans (or the whole text was encoded). false only for long stretches with no such
   * position, where the first tokens of a wider window were dropped instead.
   */
  exact: boolean;
}

const NEWLINE_PIECES = ['\n', '<NL>', '<nl>', '<br>', '<BR>', '<n>', '[NL]', '<newline>', '\\n', '↵', '⏎'];
const LINE_BREAK = /\r\n|\r|\n/g;
/** Bytes at the start of a tail window left for the normalizer to fall into step with the full text. */
const NORMALIZER_SYNC_BYTES = 64;
/** Tokens dropped from the front of a window when no forced boundary exists. */
const INEXACT_DROP_TOKENS = 64;

/** A loaded SentencePiece unigram tokenizer. Encode/decode are token-for-token the official library. */
export class Tokenizer {
  readonly vocabSize: number;
  readonly special: SpecialTokens;
  readonly newline: NewlineInfo;
  private readonly outputOverrides: Map<number, string>;

  constructor(
    readonly file: string,
    private readonly sp: SentencePiece,
  ) {
    const { pieces, types, trainer } = sp.model;
    this.vocabSize = pieces.length;
    const control: number[] = [];
    const userDefined: number[] = [];
    types.forEach((t, id) => {
      if (t === PieceType.CONTROL) control.push(id);
      if (t === PieceType.USER_DEFINED) userDefined.push(id);
    });
    const controlId = (piece: string) => {
      const id = sp.pieceToId(piece);
      return types[id] === PieceType.CONTROL ? id : null;
    };
    this.special = {
      unk: sp.unkId,
      bos: controlId(trainer.bosPiece),
      eos: controlId(trainer.eosPiece),
      pad: controlId(trainer.padPiece),
      control,
      userDefined,
    };
    this.newline = this.detectNewline();
    this.outputOverrides = new Map(this.newline.mode === 'piece' ? [[this.newline.pieceId!, '\n']] : []);
  }

  private detectNewline(): NewlineInfo {
    const roundTrip = this.decode(this.encode('あ\nい'));
    if (roundTrip.includes('\n')) return { mode: 'native', pieceId: null, piece: null, roundTrip };
    const { types } = this.sp.model;
    for (const piece of NEWLINE_PIECES) {
      const id = this.sp.pieceToId(piece);
      const t = types[id];
      if (id !== this.sp.unkId && (t === PieceType.USER_DEFINED || t === PieceType.NORMAL || t === PieceType.CONTROL)) {
        return { mode: 'piece', pieceId: id, piece, roundTrip };
      }
    }
    return { mode: 'lost', pieceId: null, piece: null, roundTrip };
  }

  /** The official encoding (SentencePieceProcessor::EncodeAsIds, no bos/eos). Bytes are taken as UTF-8 as is. */
  encode(text: string | Uint8Array): number[] {
    const sink = { ids: [] as number[], pieces: null };
    this.sp.encode(text, sink);
    return sink.ids;
  }

  /** EncodeAsPieces: the piece strings (a run of unknown characters is one piece). */
  encodePieces(text: string | Uint8Array): string[] {
    const sink = { ids: [] as number[], pieces: [] as string[] };
    this.sp.encode(text, sink);
    return sink.pieces;
  }

  /** Both at once. */
  encodeWithPieces(text: string | Uint8Array): { ids: number[]; pieces: string[] } {
    const sink = { ids: [] as number[], pieces: [] as string[] };
    this.sp.encode(text, sink);
    return sink;
  }

  /** The official DecodeIds. Throws invalid_argument for an id outside the vocabulary. */
  decode(ids: readonly number[]): string {
    return this.sp.decode(ids);
  }

  idToPiece(id: number): string {
    this.sp.checkId(id);
    return this.sp.model.pieces[id]!;
  }

  pieceToId(piece: string): number {
    return this.sp.pieceToId(piece);
  }

  /**
   * The ids the model should see for a document: encode() with line breaks handled as `newline.mode` says
   * (unchanged in `native` and `lost` modes; the break piece in `piece` mode).
   */
  encodeContext(text: string): number[] {
    if (this.newline.mode !== 'piece') return this.encode(text);
    if (this.breakPieceIsVerbatim) return this.encode(text.replace(LINE_BREAK, this.newline.piece!));
    // A normal or control piece is not produced by encoding its text, so lines are joined by id; each line
    // after a break continues the text, so it gets no dummy prefix.
    const ids: number[] = [];
    text.split(LINE_BREAK).forEach((line, i) => {
      if (i > 0) ids.push(this.newline.pieceId!);
      this.sp.encode(line, { ids, pieces: null }, i === 0 ? undefined : false);
    });
    return ids;
  }

  /** A user-defined piece is matched verbatim by the normalizer, so writing it in the text yields its id. */
  private get breakPieceIsVerbatim(): boolean {
    return this.sp.model.types[this.newline.pieceId!] === PieceType.USER_DEFINED;
  }

  /**
   * The last `maxTokens` ids of encodeContext(text), in time that depends on maxTokens, not on the length
   * of text: only a window at the end is normalized and segmented. The window is cut at a forced
   * boundary, a position that no vocabulary piece spans, so the best segmentation after it is the same
   * as in the whole text (up to float rounding of exact ties, which the library itself breaks by the
   * order of addition). The window grows until it holds maxTokens tokens.
   */
  encodeTail(text: string, maxTokens: number): TailEncoding {
    if (maxTokens <= 0) return { ids: [], exact: true };
    if (this.newline.mode !== 'piece') return this.tailOf(text, maxTokens, undefined, (s) => s);
    if (!this.breakPieceIsVerbatim) return this.tailByLines(text, maxTokens);
    // Breaks are replaced inside the window only; a "\r\n" cut in half lies before the forced boundary.
    return this.tailOf(text, maxTokens, undefined, (s) => s.replace(LINE_BREAK, this.newline.piece!));
  }

  private tailByLines(text: string, maxTokens: number): TailEncoding {
    const lines = text.split(LINE_BREAK);
    let ids: number[] = [];
    let exact = true;
    for (let i = lines.length - 1; i >= 0 && ids.length < maxTokens; i--) {
      const part = this.tailOf(lines[i]!, maxTokens - ids.length, i === 0 ? undefined : false, (s) => s);
      exact &&= part.exact;
      ids = i > 0 ? [this.newline.pieceId!, ...part.ids, ...ids] : [...part.ids, ...ids];
    }
    return { ids: ids.slice(-maxTokens), exact };
  }

  /** Tail of the official encoding of transform(text), with the given dummy-prefix rule at its start. */
  private tailOf(
    text: string,
    maxTokens: number,
    addDummyPrefix: boolean | undefined,
    transform: (s: string) => string,
  ): TailEncoding {
    const from = NORMALIZER_SYNC_BYTES + this.sp.maxPieceBytes;
    for (let windowChars = maxTokens * 3 + 256; ; windowChars *= 2) {
      const sink = { ids: [] as number[], pieces: null };
      if (windowChars >= text.length) {
        this.sp.encode(transform(text), sink, addDummyPrefix);
        return { ids: sink.ids.slice(-maxTokens), exact: true };
      }
      let start = text.length - windowChars;
      if (isLowSurrogate(text.charCodeAt(start))) start++;
      const window = utf8Encode(transform(text.slice(start)));
      const normalized = this.sp.normalizer.normalize(window, 0, window.length, false);
      const q = this.sp.forcedBoundary(normalized, from);
      if (q >= 0) {
        this.sp.encodeNormalized(normalized.subarray(q), sink);
        if (sink.ids.length >= maxTokens) return { ids: sink.ids.slice(-maxTokens), exact: true };
      } else {
        this.sp.encodeNormalized(normalized, sink);
        if (sink.ids.length >= maxTokens + INEXACT_DROP_TOKENS) return { ids: sink.ids.slice(-maxTokens), exact: false };
      }
    }
  }

  /** decode() for generated ids, with the break piece written as "\n" (`piece` mode). */
  decodeOutput(ids: readonly number[]): string {
    const decoder = this.createStreamDecoder();
    let text = '';
    for (const id of ids) text += decoder.push(id);
    return text + decoder.end();
  }

  /**
   * Streaming decode for generation: push ids one at a time, get only text that can no longer change.
   * `afterText` is the text the tokens continue (see StreamDecoderOptions); line breaks come back as
   * decodeOutput writes them.
   */
  createStreamDecoder(options: { afterText?: string } = {}): StreamDecoder {
    return createStreamDecoder(this.sp, { afterText: options.afterText, pieceOverrides: this.outputOverrides });
  }
}

const isLowSurrogate = (c: number) => c >= 0xdc00 && c <= 0xdfff;
