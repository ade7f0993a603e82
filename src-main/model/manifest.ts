import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { TsuzukiError } from '../util/errors';

/** `tsuzuki.json`: what a converted model folder holds, written last by the converter and read by the engine. */
export const MANIFEST_FILE = 'tsuzuki.json';
/** The Optimum-compatible graph, for other ONNX tools (see `GraphLayout` in gpt2-graph.ts). */
export const MODEL_FILE = 'model.onnx';
/** The graph Tsuzuki's engine runs, over the same data file. */
export const RUNTIME_FILE = 'runtime.onnx';
export const DATA_FILE = 'model.onnx.data';
export const TOKENIZER_FILE = 'spiece.model';
/** Bumped whenever the runtime graph's inputs or outputs change: the engine runs only the current one. */
export const FORMAT_VERSION = 4;

const fileEntry = z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), size: z.number().int().nonnegative() });

export const manifestSchema = z.object({
  format: z.literal('tsuzuki-onnx-decoder'),
  formatVersion: z.literal(FORMAT_VERSION),
  architecture: z.object({
    modelType: z.literal('gpt2'),
    nLayer: z.number().int().positive(),
    nHead: z.number().int().positive(),
    headDim: z.number().int().positive(),
    nEmbd: z.number().int().positive(),
    nInner: z.number().int().positive(),
    vocabSize: z.number().int().positive(),
    nPositions: z.number().int().positive(),
    activation: z.string(),
    layerNormEpsilon: z.number().positive(),
  }),
  precision: z.enum(['fp32', 'fp16', 'int8', 'int4']),
  /** Quantization block size (int8/int4 only). */
  blockSize: z.number().int().positive().nullable(),
  /** Element type of the KV cache inputs and outputs. */
  kvType: z.enum(['float32', 'float16']),
  specialTokens: z.object({
    bos: z.number().int().nullable(),
    eos: z.number().int().nullable(),
    pad: z.number().int().nullable(),
  }),
  io: z.object({ inputs: z.array(z.string()), outputs: z.array(z.string()) }),
  source: z.object({
    format: z.enum(['safetensors', 'pytorch']),
    repo: z.string().nullable(),
    revision: z.string().nullable(),
  }),
  /** sha256 of every file read (`inputs`, relative to the source folder) and written (`outputs`). */
  files: z.object({ inputs: z.record(z.string(), fileEntry), outputs: z.record(z.string(), fileEntry) }),
  converter: z.string(),
  createdAt: z.string(),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type FileEntry = z.infer<typeof fileEntry>;

/** Reads and validates `<dir>/tsuzuki.json`. */
export async function readManifest(dir: string): Promise<Manifest> {
  const file = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new TsuzukiError(
      'not_found',
      `${file} could not be read: ${dir} is not a converted model folder. Convert a model with \`tsuzuki convert <hf-dir> <out-dir>\`.`,
      { cause },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new TsuzukiError('corrupt_file', `${file} is not valid JSON. Convert the model again.`, { cause });
  }
  const { format, formatVersion } = (json ?? {}) as { format?: unknown; formatVersion?: unknown };
  if (format === 'tsuzuki-onnx-decoder' && typeof formatVersion === 'number' && formatVersion < FORMAT_VERSION) {
    throw new TsuzukiError('corrupt_file', `${dir} was converted by an older Tsuzuki whose graph the engine no longer runs. Convert the model again (the download is reused).`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    throw new TsuzukiError('corrupt_file', `${file} is not a Tsuzuki model manifest (${z.prettifyError(parsed.error)}). Convert the model again.`);
  }
  return parsed.data;
}
