import { PieceType } from './model-proto';
import type { SentencePiece } from './sentencepiece';
import { segmentations } from './segmentations';
import { createStreamDecoder, type StreamDecoder } from './stream-decoder';
import { utf8Decode, utf8Encode } from './utf8';

/**
 * Line breaks. SentencePiece's default normalization (nmt_nfkc) turns "\n" into a space, so a model like
 * rinna's may have no way to see or write a paragraph break. What the model can do is found at load time
 * by a round trip (decode(encode("あ\nい"))) and a look for a break piece in the vocabulary:
 * - `native`: "\n" survives encode → decode (identity normalization with "\n" in the vocabulary, or byte
 *   fallback). Context and output carry line breaks as they are.
 * - `piece`: "\n" does not survive, but the vocabulary has a piece that stands for a line break ("<NL>",
 *   "<br>", "\n", "↵", … as a user-defined, normal or control piece). encodeContext writes every break ("\r\n",
 *   "\r" or "\n") as that piece: a user-defined piece through its text (the normalizer matches it
 *   verbatim), any other by joining the lines' encodings with its id, each line after a break encoded as
 *   a continuation (no dummy ▁). In output, decodeOutput and the stream decoder write the piece as "\n".
 * - `lost`: neither. The model was trained on text whose breaks became spaces, so encodeContext feeds it
 *   exactly that: the official encoding, where a break is a ▁ boundary. The model cannot write a break:
 *   a continuation never contains one, and a ▁ it writes after a break in the context is dropped by the
 *   stream decoder (afterText ends in whitespace), so a new paragraph does not start with a space.
 * The rule for the generation layer: encode the context with encodeContext, decode output with
 * createStreamDecoder({ afterText }) (or decodeOutput). decode() stays the official decoding. In every
 * mode the writer's document is never rewritten: only the ids sent to the model differ, and generated
 * text is inserted as the stream decoder emits it.
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

export interface EncodeOptions {
  /**
   * false: encode the text as the continuation of earlier text, without the dummy ▁ that
   * add_dummy_prefix puts at a text start. Default: the model's own setting (the official behaviour).
   */
  dummyPrefix?: boolean;
}

// Pieces that can only mean a line break (not, say, a literal backslash-n from source code).
const NEWLINE_PIECES = ['\n', '<NL>', '<nl>', '<br>', '<BR>', '<n>', '[NL]', '<newline>', '↵', '⏎'];
const LINE_BREAK = /\r\n|\r|\n/g;

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
  encode(text: string | Uint8Array, options: EncodeOptions = {}): number[] {
    const sink = { ids: [] as number[], pieces: null };
    this.sp.encode(text, sink, options.dummyPrefix === false ? false : undefined);
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
  encodeContext(text: string, options: EncodeOptions = {}): number[] {
    if (this.newline.mode !== 'piece') return this.encode(text, options);
    if (this.breakPieceIsVerbatim) return this.encode(text.replace(LINE_BREAK, this.newline.piece!), options);
    // A normal or control piece is not produced by encoding its text, so lines are joined by id; each line
    // after a break continues the text, so it gets no dummy prefix.
    const ids: number[] = [];
    text.split(LINE_BREAK).forEach((line, i) => {
      if (i > 0) ids.push(this.newline.pieceId!);
      this.sp.encode(line, { ids, pieces: null }, i === 0 && options.dummyPrefix !== false ? undefined : false);
    });
    return ids;
  }

  /** A user-defined piece is matched verbatim by the normalizer, so writing it in the text yields its id. */
  private get breakPieceIsVerbatim(): boolean {
    return this.sp.model.types[this.newline.pieceId!] === PieceType.USER_DEFINED;
  }

  /** decode() for generated ids, with the break piece written as "\n" (`piece` mode). */
  decodeOutput(ids: readonly number[]): string {
    const decoder = this.createStreamDecoder();
    let text = '';
    for (const id of ids) text += decoder.push(id);
    return text + decoder.end();
  }

  /**
   * The phrase as the tokenizer sees it, without a dummy prefix (NFKC and the like applied, ▁ written as a space): the
   * form the model writes when it writes the phrase.
   */
  normalizedText(phrase: string): string {
    return this.normalized(phrase).replaceAll('\u2581', ' ');
  }

  private normalized(text: string): string {
    const bytes = utf8Encode(text);
    return utf8Decode(this.sp.normalizer.normalize(bytes, 0, bytes.length, false));
  }

  /**
   * Every tokenization the vocabulary allows for `phrase` as typed, and for it after a space (a leading ▁), the
   * official encoding of each first; at most `limit` for each of the two (see segmentations.ts).
   */
  phraseTokenizations(phrase: string, limit: number): number[][] {
    const bare = this.normalized(phrase);
    if (bare.length === 0) return [];
    const space = this.sp.model.normalizer.escapeWhitespaces ? '\u2581' : ' ';
    const leading = bare.startsWith(space) ? bare : space + bare;
    const all = [...segmentations(this.sp, bare, limit), ...(leading === bare ? [] : segmentations(this.sp, leading, limit))];
    return [...new Map(all.map((ids) => [ids.join(','), ids])).values()];
  }

  /**
   * What the stream decoder writes for `id` in the middle of a text (a line-break piece as "\n", a control piece as
   * ''); null for a byte piece, whose text depends on the bytes around it (see byteOf).
   */
  outputText(id: number): string | null {
    if (this.sp.byteOf(id) >= 0) return null;
    return this.outputOverrides.get(id) ?? this.sp.pieceText(id, false);
  }

  /** The byte of a byte-fallback piece (<0xE3>), else -1. */
  byteOf(id: number): number {
    this.sp.checkId(id);
    return this.sp.byteOf(id);
  }

  /**
   * Streaming decode for generation: push ids one at a time, get only text that can no longer change.
   * `afterText` is the text the tokens continue (see StreamDecoderOptions); line breaks come back as
   * decodeOutput writes them.
   */
  createStreamDecoder(options: { afterText?: string } = {}): StreamDecoder {
    return createStreamDecoder(this.sp, { afterText: options.afterText, pieceOverrides: this.outputOverrides });
  }

  /**
   * What one token writes inside running text, for showing it as a candidate: its piece as the stream decoder writes
   * it. `special` when it writes nothing a writer could insert (a control or unknown token, a byte of a longer UTF-8
   * character): the text is then the piece itself, as a label.
   */
  tokenText(id: number): { text: string; special: boolean } {
    const byte = this.byteOf(id);
    const label = { text: this.sp.model.pieces[id]!, special: true };
    if (byte >= 0) return byte < 0x80 ? { text: String.fromCharCode(byte), special: false } : label;
    const type = this.sp.model.types[id];
    if (!this.outputOverrides.has(id) && (type === PieceType.CONTROL || type === PieceType.UNKNOWN)) return label;
    return { text: this.outputText(id)!, special: false };
  }
}
