import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { TsuzukiError } from '../../contract/errors';

/**
 * Activations a GPT-2 config may name. `gelu_new`, `gelu_fast` and `gelu_pytorch_tanh` are the same tanh
 * approximation (written differently in transformers); `gelu` is the exact erf form.
 */
const SUPPORTED_ACTIVATIONS = ['gelu_new', 'gelu_fast', 'gelu_pytorch_tanh', 'gelu', 'relu'] as const;
type Activation = (typeof SUPPORTED_ACTIVATIONS)[number];

const SUPPORTED_MODEL_TYPES = ['gpt2'] as const;

/**
 * Upper bounds on the sizes a config.json may give, checked before anything is sized from them (the tensor
 * table, the graph, every buffer). Each is well above the GPT-2-family models Tsuzuki is for (rinna/japanese-gpt-1b:
 * 24 layers, width 2048, 16 heads, vocab 44,928, 1,024 positions) and above the largest published GPT-2 variants,
 * so only a damaged or crafted file reaches them: one such file once spent 42 s and 2.3 GB before failing.
 */
const LIMITS: Record<string, { max: number; why: string }> = {
  n_layer: { max: 256, why: 'GPT-3 175B has 96 layers' },
  n_embd: { max: 16_384, why: 'GPT-3 175B is 12,288 wide' },
  n_head: { max: 256, why: 'GPT-3 175B has 96 heads' },
  n_inner: { max: 65_536, why: '4 × the largest width' },
  vocab_size: { max: 1_000_000, why: 'the largest SentencePiece vocabularies in use have about 256,000 pieces' },
  n_positions: { max: 65_536, why: 'a longer window does not fit the memory of the machines Tsuzuki runs on' },
  n_ctx: { max: 65_536, why: 'a longer window does not fit the memory of the machines Tsuzuki runs on' },
};

/** The keys without a transformers default that is safe to assume for an arbitrary checkpoint. */
const REQUIRED_KEYS = ['model_type', 'vocab_size', 'n_embd', 'n_layer', 'n_head', 'n_positions'] as const;

/** A GPT-2 `config.json`, with transformers' defaults applied. */
export interface Gpt2Config {
  modelType: 'gpt2';
  vocabSize: number;
  /** Maximum sequence length (`n_positions`; very old configs call it `n_ctx`). */
  nPositions: number;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  /** `nEmbd / nHead`. */
  headDim: number;
  /** MLP width; `n_inner: null` (or absent) means 4 × n_embd, as in transformers. */
  nInner: number;
  activation: Activation;
  layerNormEpsilon: number;
  /** transformers ties `lm_head` to `wte` unless the config says `tie_word_embeddings: false`. */
  tieWordEmbeddings: boolean;
  /** `null` where the config has no such key (the tokenizer files may still name one). */
  bosTokenId: number | null;
  eosTokenId: number | null;
  padTokenId: number | null;
}

/** A GPT-2 config.json is a few kilobytes; a larger file is refused before it is read into memory. */
const MAX_CONFIG_BYTES = 1 << 20;

/** Reads and validates `<dir>/config.json`. */
export async function readGpt2Config(dir: string): Promise<Gpt2Config> {
  const file = join(dir, 'config.json');
  let text: string;
  try {
    const { size } = await stat(file);
    if (size > MAX_CONFIG_BYTES) {
      throw new TsuzukiError(
        'corrupt_file',
        `${file} is ${size} bytes, too large for a model's config.json (at most ${MAX_CONFIG_BYTES}). Download it again from the model's repository.`,
      );
    }
    text = await readFile(file, 'utf8');
  } catch (cause) {
    if (cause instanceof TsuzukiError) throw cause;
    throw new TsuzukiError(
      'not_found',
      `${file} could not be read (${(cause as Error).message}). A Hugging Face model folder needs its config.json; download it with the weights.`,
      { cause },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new TsuzukiError('corrupt_file', `${file} is not valid JSON (${(cause as Error).message}). Download it again.`, {
      cause,
    });
  }
  return parseGpt2Config(json, file);
}

/** Validates a parsed `config.json`; `file` is only used in error messages. */
export function parseGpt2Config(json: unknown, file: string): Gpt2Config {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new TsuzukiError('corrupt_file', `${file} must hold a JSON object. Download it again.`);
  }
  const raw = json as Record<string, unknown>;
  const modelType = raw['model_type'];
  if (modelType !== undefined && !(SUPPORTED_MODEL_TYPES as readonly unknown[]).includes(modelType)) {
    throw new TsuzukiError(
      'unsupported',
      `${file}: model_type ${JSON.stringify(modelType)} is not supported; Tsuzuki converts only ${SUPPORTED_MODEL_TYPES.join(', ')} models (GPT-2 architecture, e.g. rinna/japanese-gpt-1b).`,
    );
  }
  const hasPositions = raw['n_positions'] !== undefined || raw['n_ctx'] !== undefined;
  const missing = REQUIRED_KEYS.filter((k) => raw[k] === undefined && !(k === 'n_positions' && hasPositions));
  if (missing.length > 0) {
    throw new TsuzukiError(
      'corrupt_file',
      `${file} lacks ${missing.join(', ')}; a GPT-2 config needs ${REQUIRED_KEYS.join(', ')}. Download config.json again from the model's repository.`,
    );
  }

  const int = (key: string, min: number): number => {
    const v = raw[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
      throw new TsuzukiError('corrupt_file', `${file}: ${key} must be an integer ≥ ${min}, found ${JSON.stringify(v)}.`);
    }
    const limit = LIMITS[key];
    if (limit && v > limit.max) {
      throw new TsuzukiError(
        'unsupported',
        `${file}: ${key} is ${v}, above the ${limit.max.toLocaleString('en-US')} Tsuzuki accepts (${limit.why}). The file is damaged or not a model Tsuzuki can run; download config.json again from the model's repository.`,
      );
    }
    return v;
  };
  const flag = (key: string, fallback: boolean): boolean => {
    const v = raw[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') throw new TsuzukiError('corrupt_file', `${file}: ${key} must be true or false.`);
    return v;
  };

  const nEmbd = int('n_embd', 1);
  const nHead = int('n_head', 1);
  if (nEmbd % nHead !== 0) {
    throw new TsuzukiError('corrupt_file', `${file}: n_embd (${nEmbd}) must be a multiple of n_head (${nHead}).`);
  }
  const nInner = raw['n_inner'] === undefined || raw['n_inner'] === null ? 4 * nEmbd : int('n_inner', 1);

  const activation = raw['activation_function'] ?? 'gelu_new';
  if (!(SUPPORTED_ACTIVATIONS as readonly unknown[]).includes(activation)) {
    throw new TsuzukiError(
      'unsupported',
      `${file}: activation_function ${JSON.stringify(activation)} is not supported; supported: ${SUPPORTED_ACTIVATIONS.join(', ')}.`,
    );
  }
  const eps = raw['layer_norm_epsilon'] ?? 1e-5;
  // Published models use 1e-12 to 1e-5; an epsilon near 1 would swamp the variance it guards.
  if (typeof eps !== 'number' || !(eps > 0 && eps < 0.1)) {
    throw new TsuzukiError('corrupt_file', `${file}: layer_norm_epsilon must be a positive number below 0.1, found ${JSON.stringify(eps)}.`);
  }

  // Variants of the GPT-2 attention that the converted graph does not reproduce: refuse rather than differ silently.
  const unsupportedFlags: [string, boolean][] = [
    ['scale_attn_weights', true],
    ['scale_attn_by_inverse_layer_idx', false],
    ['reorder_and_upcast_attn', false],
    ['add_cross_attention', false],
  ];
  for (const [key, expected] of unsupportedFlags) {
    if (flag(key, expected) !== expected) {
      throw new TsuzukiError('unsupported', `${file}: ${key}: ${!expected} is not supported (only ${expected}).`);
    }
  }

  const vocabSize = int('vocab_size', 1);
  // A special token the embedding has no row for could never be generated or looked up.
  const optionalId = (key: string): number | null => {
    if (raw[key] === undefined || raw[key] === null) return null;
    const id = int(key, 0);
    if (id >= vocabSize) {
      throw new TsuzukiError('corrupt_file', `${file}: ${key} ${id} is outside the vocabulary (vocab_size ${vocabSize}). Download config.json again.`);
    }
    return id;
  };

  return {
    modelType: 'gpt2',
    vocabSize,
    nPositions: raw['n_positions'] !== undefined ? int('n_positions', 1) : int('n_ctx', 1),
    nEmbd,
    nLayer: int('n_layer', 1),
    nHead,
    headDim: nEmbd / nHead,
    nInner,
    activation: activation as Activation,
    layerNormEpsilon: eps,
    tieWordEmbeddings: flag('tie_word_embeddings', true),
    bosTokenId: optionalId('bos_token_id'),
    eosTokenId: optionalId('eos_token_id'),
    padTokenId: optionalId('pad_token_id'),
  };
}
