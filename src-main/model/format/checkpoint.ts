import { access, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadTokenizer } from '../../tokenizer';
import { TsuzukiError } from '../../contract/errors';
import { readGpt2Config, type Gpt2Config } from './config';
import { isTensorDtype, toFloat32, type TensorDtype } from './dtype';
import { expectedGpt2Shapes } from './gpt2-shapes';
import { readPytorchCheckpoint } from './pytorch';
import { readSafetensorsHeader } from './safetensors';
import { TensorFiles, type StoredTensor } from './tensor-file';

export type { Gpt2Config } from './config';

interface TensorInfo {
  dtype: TensorDtype;
  /** Hugging Face layout: Conv1D weights are `[in, out]`, embeddings `[rows, n_embd]`. */
  shape: number[];
}

/**
 * A Hugging Face GPT-2 model folder, opened for reading. Everything is checked on open — config keys,
 * that every tensor the config implies is present with the right shape and a float dtype, that every
 * tensor lies inside its file — so a truncated or mismatched checkpoint fails here, before any output
 * is written. Tensor values are read lazily, one tensor at a time, by file offset.
 *
 * Names are those of transformers' `GPT2LMHeadModel` without the `transformer.` prefix (files with and
 * without the prefix are both accepted): `wte.weight`, `wpe.weight`,
 * `h.{i}.{ln_1,ln_2}.{weight,bias}`, `h.{i}.attn.{c_attn,c_proj}.{weight,bias}`,
 * `h.{i}.mlp.{c_fc,c_proj}.{weight,bias}`, `ln_f.{weight,bias}`, `lm_head.weight`.
 * Legacy buffers (`attn.bias`, `attn.masked_bias`) and tensors GPT-2 does not use are skipped.
 * When `config.tieWordEmbeddings` is true (the default), `lm_head.weight` IS `wte.weight` — as in
 * transformers, whether or not the file stores an `lm_head.weight`; read it once and reuse it.
 */
export interface Checkpoint {
  /** Absolute path of the model folder. */
  readonly dir: string;
  readonly config: Gpt2Config;
  readonly format: 'safetensors' | 'pytorch';
  /** Absolute paths of the files the weights come from (shards, and the shard index when there is one). */
  readonly files: readonly string[];
  /** The GPT-2 tensor names in model order (embeddings, layer 0…n-1, ln_f, lm_head). */
  names(): string[];
  /** Stored dtype and shape; throws `not_found` for a name outside `names()`. */
  info(name: string): TensorInfo;
  /** The values converted to float32, row-major. A fresh array each call (nothing is cached). */
  readF32(name: string): Promise<Float32Array>;
  /** The stored little-endian bytes (`info(name).dtype`), row-major, in a fresh buffer. */
  readRaw(name: string): Promise<Uint8Array>;
  /** Closes the weight files; the checkpoint cannot be read afterwards. */
  close(): Promise<void>;
}

/** Weight files in the order transformers prefers them. */
const WEIGHT_FILES = [
  { file: 'model.safetensors', format: 'safetensors', sharded: false },
  { file: 'model.safetensors.index.json', format: 'safetensors', sharded: true },
  { file: 'pytorch_model.bin', format: 'pytorch', sharded: false },
  { file: 'pytorch_model.bin.index.json', format: 'pytorch', sharded: true },
] as const;

const LEGACY_BUFFER = /^h\.\d+\.attn\.(bias|masked_bias)$/;

/** Opens a Hugging Face GPT-2 folder (config.json + safetensors or PyTorch weights, single or sharded). */
export async function openCheckpoint(hfDir: string): Promise<Checkpoint> {
  const dir = resolve(hfDir);
  const config = await readGpt2Config(dir);
  const found = await firstExisting(dir);
  const files: string[] = [];
  const stored = new Map<string, StoredTensor>();

  const addFile = async (file: string): Promise<Set<string>> => {
    files.push(file);
    const tensors = found.format === 'safetensors' ? await readSafetensorsHeader(file) : await readPytorchCheckpoint(file);
    for (const [rawName, tensor] of tensors) {
      const name = rawName.startsWith('transformer.') ? rawName.slice('transformer.'.length) : rawName;
      if (LEGACY_BUFFER.test(name)) continue;
      if (stored.has(name)) {
        throw new TsuzukiError('corrupt_file', `${file}: tensor ${name} appears twice in the checkpoint. Download it again.`);
      }
      stored.set(name, tensor);
    }
    return new Set(tensors.keys());
  };

  if (found.sharded) {
    const shards = await readShardIndex(dir, found.path);
    files.push(found.path);
    for (const [shard, listed] of shards) {
      const present = await addFile(shard);
      const absent = listed.filter((name) => !present.has(name));
      if (absent.length > 0) {
        throw new TsuzukiError(
          'corrupt_file',
          `${found.path} says ${shard} holds ${absent.slice(0, 3).join(', ')}${absent.length > 3 ? ', …' : ''}, but it does not. Download the shards and the index again.`,
        );
      }
    }
  } else {
    await addFile(found.path);
  }

  const expected = expectedGpt2Shapes(config);
  const tensors = new Map<string, StoredTensor & { dtype: TensorDtype }>();
  for (const [name, shape] of expected) {
    const source = name === 'lm_head.weight' && config.tieWordEmbeddings ? 'wte.weight' : name;
    const t = stored.get(source);
    if (!t) {
      throw new TsuzukiError(
        'corrupt_file',
        `${describe(files)} has no tensor ${source}` +
          (source === 'lm_head.weight' ? ' (config.json sets tie_word_embeddings: false, so lm_head.weight must be stored)' : '') +
          `. The weights do not belong to this config.json, or the download is incomplete; download the model again.`,
      );
    }
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new TsuzukiError(
        'corrupt_file',
        `${t.file}: tensor ${source} has shape [${t.shape.join(', ')}] but config.json implies [${shape.join(', ')}]. The weights do not match ${join(dir, 'config.json')}; download both from the same repository.`,
      );
    }
    if (!isTensorDtype(t.dtype)) {
      throw new TsuzukiError('unsupported', `${t.file}: tensor ${source} is ${t.dtype}; only F32, F16 and BF16 weights are supported.`);
    }
    tensors.set(name, { ...t, dtype: t.dtype });
  }

  const reader = new TensorFiles();
  const get = (name: string): StoredTensor & { dtype: TensorDtype } => {
    const t = tensors.get(name);
    if (!t) throw new TsuzukiError('not_found', `The GPT-2 checkpoint in ${dir} has no tensor named ${name}.`);
    return t;
  };
  return {
    dir,
    config,
    format: found.format,
    files,
    names: () => [...tensors.keys()],
    info: (name) => {
      const t = get(name);
      return { dtype: t.dtype, shape: [...t.shape] };
    },
    readRaw: (name) => reader.read(get(name)),
    readF32: async (name) => {
      const t = get(name);
      return toFloat32(await reader.read(t), t.dtype);
    },
    close: () => reader.close(),
  };
}

/**
 * Refuses a tokenizer file that is not a SentencePiece unigram model, or one that does not fit `config`: every piece
 * id must be a row of the embedding (the table may be larger than the vocabulary, padded, as rinna's is), and the
 * special tokens config.json names must be pieces.
 */
export async function checkTokenizer(file: string, config: Gpt2Config): Promise<void> {
  const pieces = (await loadTokenizer(file)).vocabSize;
  const mismatch = (why: string): TsuzukiError =>
    new TsuzukiError(
      'corrupt_file',
      `${file} ${why}: the tokenizer does not belong to these weights. Download spiece.model and config.json from the same repository.`,
    );
  if (pieces > config.vocabSize) throw mismatch(`has ${pieces} pieces but config.json's vocab_size is ${config.vocabSize}`);
  const special = { bos_token_id: config.bosTokenId, eos_token_id: config.eosTokenId, pad_token_id: config.padTokenId };
  for (const [key, id] of Object.entries(special)) {
    if (id !== null && id >= pieces) throw mismatch(`has ${pieces} pieces, so no piece for config.json's ${key} ${id}`);
  }
}

async function firstExisting(dir: string): Promise<(typeof WEIGHT_FILES)[number] & { path: string }> {
  for (const candidate of WEIGHT_FILES) {
    const path = join(dir, candidate.file);
    if (await access(path).then(() => true, () => false)) return { ...candidate, path };
  }
  throw new TsuzukiError(
    'not_found',
    `${dir} has no weights: expected one of ${WEIGHT_FILES.map((w) => w.file).join(', ')}. Download the model's weight files into that folder.`,
  );
}

/** A shard index has one line of about 100 bytes per tensor; this allows some 160,000 tensors. */
const MAX_INDEX_BYTES = 16 << 20;

/** Reads a `*.index.json` (`{weight_map: {tensor: shard file}}`): shard path → the tensors it must hold. */
async function readShardIndex(dir: string, indexFile: string): Promise<Map<string, string[]>> {
  const { size } = await stat(indexFile);
  if (size > MAX_INDEX_BYTES) {
    throw new TsuzukiError('corrupt_file', `${indexFile} is ${size} bytes, too large for a shard index (at most ${MAX_INDEX_BYTES}). Download it again.`);
  }
  let index: unknown;
  try {
    index = JSON.parse(await readFile(indexFile, 'utf8'));
  } catch (cause) {
    throw new TsuzukiError('corrupt_file', `${indexFile} is not valid JSON (${(cause as Error).message}). Download it again.`, {
      cause,
    });
  }
  const weightMap = (index as { weight_map?: unknown } | null)?.weight_map;
  if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) {
    throw new TsuzukiError('corrupt_file', `${indexFile} has no weight_map object. Download it again.`);
  }
  const shards = new Map<string, string[]>();
  for (const [tensor, shard] of Object.entries(weightMap)) {
    // A shard name is a file next to the index, never a path elsewhere (nor the folder itself, nor a NUL byte).
    if (typeof shard !== 'string' || !/^[^/\\\0]+$/.test(shard) || shard === '..' || shard === '.') {
      throw new TsuzukiError('corrupt_file', `${indexFile}: tensor ${tensor} maps to an invalid shard name. Download it again.`);
    }
    const path = join(dir, shard);
    const listed = shards.get(path);
    if (listed) listed.push(tensor);
    else shards.set(path, [tensor]);
  }
  for (const shard of shards.keys()) {
    if (!(await access(shard).then(() => true, () => false))) {
      throw new TsuzukiError('not_found', `${shard} is listed in ${indexFile} but missing. Download all the shards.`);
    }
  }
  return shards;
}

function describe(files: string[]): string {
  return files.length === 1 ? files[0]! : `${files[0]} (and ${files.length - 1} other files)`;
}
