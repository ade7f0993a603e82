import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { TsuzukiError } from '../../contract/errors';

/** `tsuzuki.json`: what a converted model folder holds, written last by the converter and read by the engine. */
export const MANIFEST_FILE = 'tsuzuki.json';
/** The Optimum-compatible graph, for other ONNX tools (see `GraphLayout` in model/convert/gpt2-graph.ts). */
export const MODEL_FILE = 'model.onnx';
/** The graph Tsuzuki's engine runs, over the same data file. */
export const RUNTIME_FILE = 'runtime.onnx';
/** The graph a GPU session runs (the `device` layout: a fixed-size KV cache and fused attention), same data file. */
export const DEVICE_FILE = 'device.onnx';
export const DATA_FILE = 'model.onnx.data';
export const TOKENIZER_FILE = 'spiece.model';
/** What the last check of the files found matching (see integrity.ts); Tsuzuki's own, never a manifest's. */
export const VERIFIED_FILE = 'verified.json';
/** Bumped whenever the runtime graph's inputs or outputs change: the engine runs only the current one. */
export const FORMAT_VERSION = 4;

/** A real manifest is a few KB (about 100 io names for 24 layers); anything much larger is not one, and is not read. */
const MAX_MANIFEST_BYTES = 1 << 20;

/**
 * Why `name` cannot be a file of a model's folder, or null when it can. Manifests come from any folder a user
 * imports, and the library copies and reads the files they name: each must be a plain name in that folder (the
 * converter and the downloader write nothing else), never a path that leads elsewhere.
 */
export function fileNameProblem(name: string): string | null {
  if (name === '' || name === '.' || name === '..') return 'is not a file name';
  if (name.length > 255) return 'is longer than a file name can be';
  // `/` and `\` are separators, `:` starts a drive (`C:x`) or an NTFS stream; control characters include NUL.
  if (/[/\\:]/.test(name) || [...name].some((c) => c < ' ' || c === '\x7f')) return 'is not a plain file name (it holds a separator, a drive, or a control character)';
  return null;
}

/** A record keyed by file names, each checked by `fileNameProblem` and none of `reserved` (an issue names its entry). */
function fileRecord<T extends z.ZodType>(entry: T, reserved: string[] = []) {
  return z.record(z.string(), entry).superRefine((record, ctx) => {
    for (const name of Object.keys(record)) {
      const problem = reserved.includes(name) ? 'is a file Tsuzuki writes itself' : fileNameProblem(name);
      if (problem) ctx.addIssue({ code: 'custom', path: [name], message: `${JSON.stringify(name)} ${problem}` });
    }
  });
}

const fileEntry = z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), size: z.number().int().nonnegative() });

const ioNames = z.object({ inputs: z.array(z.string()), outputs: z.array(z.string()) });

const manifestSchema = z.object({
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
  /**
   * How int8/int4 weights were quantized (null otherwise; absent in folders converted before it was recorded):
   * int4's scale search, the token table's block size, and how many calibration tokens weighed the errors (0: none).
   */
  quantization: z
    .object({ scales: z.enum(['fitted', 'range']), tableBlockSize: z.number().int().positive(), calibrationTokens: z.number().int().nonnegative() })
    .nullable()
    .optional(),
  /** Element type of the KV cache inputs and outputs. */
  kvType: z.enum(['float32', 'float16']),
  specialTokens: z.object({
    bos: z.number().int().nullable(),
    eos: z.number().int().nullable(),
    pad: z.number().int().nullable(),
  }),
  io: ioNames,
  /**
   * The GPU graph and its I/O names; absent in folders converted before it existed, and where GroupQueryAttention
   * cannot take the model's heads (their width must be a multiple of 8).
   */
  deviceGraph: z.object({ file: z.literal(DEVICE_FILE), io: ioNames }).optional(),
  source: z.object({
    format: z.enum(['safetensors', 'pytorch']),
    repo: z.string().nullable(),
    revision: z.string().nullable(),
  }),
  /** sha256 of every file read (`inputs`, relative to the source folder) and written (`outputs`). */
  files: z.object({ inputs: fileRecord(fileEntry), outputs: fileRecord(fileEntry, [MANIFEST_FILE, VERIFIED_FILE]) }),
  converter: z.string(),
  createdAt: z.string(),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type FileEntry = z.infer<typeof fileEntry>;

/** Reads and validates `<dir>/tsuzuki.json`. */
export async function readManifest(dir: string): Promise<Manifest> {
  const file = join(dir, MANIFEST_FILE);
  const unreadable = (cause: unknown) =>
    new TsuzukiError(
      'not_found',
      `${file} could not be read: ${dir} is not a converted model folder. Convert a model with \`tsuzuki convert <hf-dir> <out-dir>\`.`,
      { cause },
    );
  const { size } = await stat(file).catch((cause: unknown) => {
    throw unreadable(cause);
  });
  if (size > MAX_MANIFEST_BYTES) {
    throw new TsuzukiError('corrupt_file', `${file} is ${size} bytes, too large for a Tsuzuki model manifest (at most ${MAX_MANIFEST_BYTES}). Convert the model again.`);
  }
  const text = await readFile(file, 'utf8').catch((cause: unknown) => {
    throw unreadable(cause);
  });
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
