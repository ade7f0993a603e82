import protobuf from 'protobufjs';
import { TsuzukiError } from '../contract/errors';

/**
 * The subset of sentencepiece_model.proto (proto2) that encoding and decoding need. Field numbers and
 * defaults follow the official schema; fields left out are skipped by the decoder.
 */
const SCHEMA = `
syntax = "proto2";
message TrainerSpec {
  // ModelType { UNIGRAM = 1; BPE = 2; WORD = 3; CHAR = 4; } read as its number, like a piece's type below.
  optional int32 model_type = 3 [default = 1];
  optional int32 vocab_size = 4 [default = 8000];
  optional bool treat_whitespace_as_suffix = 24 [default = false];
  optional bool split_by_whitespace = 22 [default = true];
  optional bool byte_fallback = 35 [default = false];
  optional string unk_surface = 44 [default = " \u2047 "];
  optional string unk_piece = 45 [default = "<unk>"];
  optional string bos_piece = 46 [default = "<s>"];
  optional string eos_piece = 47 [default = "</s>"];
  optional string pad_piece = 48 [default = "<pad>"];
}
message NormalizerSpec {
  optional string name = 1;
  optional bytes precompiled_charsmap = 2;
  optional bool add_dummy_prefix = 3 [default = true];
  optional bool remove_extra_whitespaces = 4 [default = true];
  optional bool escape_whitespaces = 5 [default = true];
}
message ModelProto {
  message SentencePiece {
    optional string piece = 1;
    optional float score = 2;
    // The Type enum (PieceType below), read as its number: a proto2 decoder drops an unknown enum value and
    // reports NORMAL, which would let a foreign file through; as a number it is seen and refused.
    optional int32 type = 3 [default = 1];
  }
  repeated SentencePiece pieces = 1;
  optional TrainerSpec trainer_spec = 2;
  optional NormalizerSpec normalizer_spec = 3;
  optional NormalizerSpec denormalizer_spec = 5;
}
`;

export const PieceType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

export interface NormalizerSpec {
  name: string;
  precompiledCharsmap: Uint8Array;
  addDummyPrefix: boolean;
  removeExtraWhitespaces: boolean;
  escapeWhitespaces: boolean;
}

export interface SentencePieceModel {
  pieces: string[];
  /** float32 scores, as stored. */
  scores: Float32Array;
  types: Uint8Array;
  trainer: {
    modelType: number;
    treatWhitespaceAsSuffix: boolean;
    byteFallback: boolean;
    unkSurface: string;
    unkPiece: string;
    bosPiece: string;
    eosPiece: string;
    padPiece: string;
  };
  normalizer: NormalizerSpec;
  denormalizer: NormalizerSpec | null;
}

let modelType: protobuf.Type | undefined;
function type(): protobuf.Type {
  modelType ??= protobuf.parse(SCHEMA, { keepCase: false }).root.lookupType('ModelProto');
  return modelType;
}

interface RawSpec {
  name?: string;
  precompiledCharsmap?: Uint8Array;
  addDummyPrefix?: boolean;
  removeExtraWhitespaces?: boolean;
  escapeWhitespaces?: boolean;
}

function spec(raw: RawSpec): NormalizerSpec {
  return {
    name: raw.name ?? '',
    precompiledCharsmap: raw.precompiledCharsmap ?? new Uint8Array(0),
    addDummyPrefix: raw.addDummyPrefix ?? true,
    removeExtraWhitespaces: raw.removeExtraWhitespaces ?? true,
    escapeWhitespaces: raw.escapeWhitespaces ?? true,
  };
}

function corrupt(file: string, why: string, cause?: unknown): TsuzukiError {
  return new TsuzukiError(
    'corrupt_file',
    `${file} is not a usable SentencePiece model (${why}). Use the spiece.model file that came with the model, or download the model again.`,
    { cause },
  );
}

/**
 * At most this many pieces: the vocabulary bound config.json is held to (the largest SentencePiece vocabularies in
 * use have about 256,000 pieces). Counted before decoding, so a crafted file cannot make millions of piece objects.
 */
const MAX_PIECES = 1_000_000;

/** Counts the top-level `pieces` fields without decoding them (throws on malformed wire data, as decoding would). */
function countPieces(bytes: Uint8Array): number {
  const reader = protobuf.Reader.create(bytes);
  let count = 0;
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag >>> 3 === 1) count++;
    reader.skipType(tag & 7);
  }
  return count;
}

/** Decodes and validates a serialized ModelProto; `file` only names the source in error messages. */
export function readModelProto(bytes: Uint8Array, file: string): SentencePieceModel {
  if (bytes.length === 0) throw corrupt(file, 'the file is empty');
  let message: protobuf.Message;
  try {
    const count = countPieces(bytes);
    if (count > MAX_PIECES) throw corrupt(file, `it has ${count} pieces, more than the ${MAX_PIECES.toLocaleString('en-US')} Tsuzuki accepts`);
    message = type().decode(bytes);
  } catch (error) {
    if (error instanceof TsuzukiError) throw error;
    throw corrupt(file, `protobuf decoding failed: ${error instanceof Error ? error.message : String(error)}`, error);
  }
  const obj = type().toObject(message, { defaults: true, longs: Number, enums: Number, bytes: Uint8Array }) as {
    pieces: { piece: string; score: number; type: number }[];
    trainerSpec?: Record<string, unknown>;
    normalizerSpec?: RawSpec;
    denormalizerSpec?: RawSpec;
  };
  const n = obj.pieces.length;
  if (n === 0) throw corrupt(file, 'it has no vocabulary pieces');
  const pieces: string[] = new Array<string>(n);
  const scores = new Float32Array(n);
  const types = new Uint8Array(n);
  const seen = new Set<string>();
  let unk = -1;
  for (let i = 0; i < n; i++) {
    const p = obj.pieces[i]!;
    if (p.piece === '') throw corrupt(file, `piece ${i} is empty`);
    if (p.type < 1 || p.type > 6) throw corrupt(file, `piece ${i} has unknown type ${p.type}`);
    if (seen.has(p.piece)) throw corrupt(file, `piece ${JSON.stringify(p.piece)} is defined twice`);
    seen.add(p.piece);
    if (p.type === PieceType.UNKNOWN) {
      if (unk >= 0) throw corrupt(file, 'it defines two unknown pieces');
      unk = i;
    }
    pieces[i] = p.piece;
    scores[i] = p.score;
    types[i] = p.type;
  }
  if (unk < 0) throw corrupt(file, 'it has no unknown piece');
  const t = (obj.trainerSpec ?? {}) as Partial<SentencePieceModel['trainer'] & { modelType: number }>;
  const trainer: SentencePieceModel['trainer'] = {
    modelType: t.modelType ?? 1,
    treatWhitespaceAsSuffix: t.treatWhitespaceAsSuffix ?? false,
    byteFallback: t.byteFallback ?? false,
    unkSurface: t.unkSurface ?? ' \u2047 ',
    unkPiece: t.unkPiece ?? '<unk>',
    bosPiece: t.bosPiece ?? '<s>',
    eosPiece: t.eosPiece ?? '</s>',
    padPiece: t.padPiece ?? '<pad>',
  };
  const modelTypeName = ['', 'unigram', 'BPE', 'word', 'char'][trainer.modelType];
  if (!modelTypeName) throw corrupt(file, `its model type ${trainer.modelType} is no SentencePiece model type`);
  if (trainer.modelType !== 1) {
    throw new TsuzukiError(
      'unsupported',
      `${file} is a SentencePiece ${modelTypeName} model; Tsuzuki reads unigram models only.`,
    );
  }
  if (trainer.byteFallback) {
    const found = new Set<number>();
    for (let i = 0; i < n; i++) if (types[i] === PieceType.BYTE) found.add(pieceToByte(pieces[i]!));
    if (found.size !== 256 || found.has(-1)) throw corrupt(file, 'byte_fallback is on but the 256 <0xXX> pieces are not all there');
  } else if (types.includes(PieceType.BYTE)) {
    throw corrupt(file, 'it has byte pieces although byte_fallback is off');
  }
  const denorm = obj.denormalizerSpec;
  return {
    pieces,
    scores,
    types,
    trainer,
    normalizer: spec(obj.normalizerSpec ?? {}),
    denormalizer: denorm && denorm.precompiledCharsmap && denorm.precompiledCharsmap.length > 0 ? spec(denorm) : null,
  };
}

/** `<0x41>` → 0x41; -1 for anything else. */
export function pieceToByte(piece: string): number {
  if (piece.length !== 6 || !piece.startsWith('<0x') || piece[5] !== '>') return -1;
  const hex = piece.slice(3, 5);
  return /^[0-9A-F]{2}$/.test(hex) ? parseInt(hex, 16) : -1;
}
