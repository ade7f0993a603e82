import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { TsuzukiError } from '../../contract/errors';
import { checkTokenizer, openCheckpoint, type Checkpoint } from '../format/checkpoint';
import { DataFileWriter } from './data-file';
import { decoderIoNames, buildGpt2Graph, type GraphLayout } from './gpt2-graph';
import { GraphBuilder } from './graph';
import { DATA_FILE, DEVICE_FILE, FORMAT_VERSION, MANIFEST_FILE, MODEL_FILE, RUNTIME_FILE, TOKENIZER_FILE, type FileEntry, type Manifest } from '../format/manifest';
import { loadTokenizer } from '../../tokenizer';
import { calibrate, type Calibration } from './calibrate';
import { CALIBRATION_TEXT } from './calibration-text';
import { checkBlockSize, defaultBlockSize, TOKEN_TABLE_BLOCK_SIZE, type ScaleSearch } from './quantize';
import { createWeightStore, recordingWeightStore, type Precision } from './weights';

export interface ConvertOptions {
  precision: Precision;
  /** Quantization block size for int8/int4 (ignored otherwise); by default `defaultBlockSize` of the model's width. */
  blockSize?: number;
  /** Block size of the token table; by default `TOKEN_TABLE_BLOCK_SIZE`, or `blockSize` when that is smaller. */
  tableBlockSize?: number;
  /** How int4 scales are chosen (`quantize.ts`); default `fitted`. */
  scales?: ScaleSearch;
  /**
   * int4 only: weigh each weight's error by how large the activations entering its channel are, measured by running
   * the model over a page of Japanese prose first (`calibrate.ts`); `fitted` scales only. Off by default: on the
   * trained quality fixture it raised KL by about a sixth (`npm run bench -- quality`), while the scale search and the
   * token table's small blocks cut it by 7 % and 21 %.
   */
  activationWeights?: boolean;
  /** Where to build the folder before it is renamed into place; by default a hidden folder beside `outDir`. */
  tempDir?: string;
  /** The hub repo and commit the checkpoint came from, when the caller knows them (else read from a hub-cache path). */
  source?: { repo: string; revision: string };
  onProgress?: (progress: ConvertProgress) => void;
}

/** `done`/`total` count source tensors while converting, layers while calibrating, bytes while hashing. */
export interface ConvertProgress {
  phase: 'hashing' | 'calibrating' | 'converting' | 'finishing';
  done: number;
  total: number;
  detail: string;
}

const OPSET = 17;
/** Written into every manifest; bumped whenever a conversion's output changes, so stale ones are recognisable. */
export const CONVERTER = 'tsuzuki-convert 5';

/** onnxruntime's GroupQueryAttention takes heads whose width is a multiple of 8 (rinna's are 128 wide). */
function hasDeviceGraph(headDim: number): boolean {
  return headDim % 8 === 0;
}

/** The temp folder name used beside `outDir`, so an interrupted conversion is recognisable as such. */
export function tempDirFor(outDir: string): string {
  const out = resolve(outDir);
  return join(dirname(out), `.${basename(out)}.converting-${process.pid}-${Date.now().toString(36)}`);
}

/**
 * Converts a Hugging Face GPT-2 folder into `outDir`: `model.onnx` (Optimum layout), `runtime.onnx` (the engine's)
 * and `device.onnx` (a GPU session's) over one `model.onnx.data`, `spiece.model`, `tsuzuki.json`.
 * Everything is written into a temp folder beside `outDir` and renamed at the end, so a failure (corrupt input,
 * shape mismatch, full disk) never leaves a folder that looks like a finished model.
 */
export async function convertCheckpoint(hfDir: string, outDir: string, options: ConvertOptions): Promise<Manifest> {
  const out = resolve(outDir);
  const { precision } = options;
  const quantized = precision === 'int4' || precision === 'int8';
  for (const [flag, size] of [['--block-size', options.blockSize], ['--table-block-size', options.tableBlockSize]] as const) {
    if (!quantized || size === undefined) continue;
    try {
      checkBlockSize(size);
    } catch (error) {
      throw new TsuzukiError('invalid_argument', `${flag}: ${(error as Error).message}.`);
    }
  }
  await refuseExisting(out, false);
  const checkpoint = await openCheckpoint(hfDir);
  const blockSize = options.blockSize ?? defaultBlockSize(checkpoint.config.nEmbd);
  const tableBlockSize = options.tableBlockSize ?? Math.min(TOKEN_TABLE_BLOCK_SIZE, blockSize);
  const tmp = options.tempDir ?? tempDirFor(out);
  let data: DataFileWriter | undefined;
  try {
    if (quantized) {
      checkBlockWidth(checkpoint.config.nEmbd, blockSize, options.blockSize !== undefined ? '--block-size' : null);
      checkBlockWidth(checkpoint.config.nEmbd, tableBlockSize, options.tableBlockSize !== undefined ? '--table-block-size' : null);
    }
    const tokenizer = join(checkpoint.dir, TOKENIZER_FILE);
    if (!(await stat(tokenizer).then((s) => s.isFile(), () => false))) {
      throw new TsuzukiError('not_found', `${tokenizer} is missing. Download the model's tokenizer (spiece.model) into ${checkpoint.dir}.`);
    }
    await checkTokenizer(tokenizer, checkpoint.config);
    await mkdir(dirname(tmp), { recursive: true });
    await mkdir(tmp);
    const report = options.onProgress ?? (() => undefined);

    const inputFiles = [join(checkpoint.dir, 'config.json'), ...checkpoint.files, tokenizer];
    const inputs = await hashFiles(checkpoint.dir, inputFiles, report);
    const scales = options.scales ?? 'fitted';
    const calibration =
      precision === 'int4' && scales === 'fitted' && options.activationWeights === true ? await calibrateOn(checkpoint, tokenizer, report) : null;

    const names = checkpoint.names();
    const total = checkpoint.config.tieWordEmbeddings ? names.length - 1 : names.length;
    let done = 0;
    report({ phase: 'converting', done, total, detail: 'weights' });
    const graph = new GraphBuilder();
    data = await DataFileWriter.create(join(tmp, DATA_FILE));
    const weights = recordingWeightStore(
      createWeightStore({
        checkpoint,
        graph,
        data,
        precision,
        blockSize,
        tableBlockSize,
        search: scales,
        importance: calibration?.importance ?? null,
        onTensor: (name) => report({ phase: 'converting', done: ++done, total, detail: name }),
      }),
    );
    const compute = precision === 'fp16' ? 'float16' : 'float32';
    await buildGpt2Graph(graph, checkpoint.config, compute, weights.store, 'optimum');
    const graphs: [string, GraphBuilder, GraphLayout][] = [[MODEL_FILE, graph, 'optimum']];
    const withDevice = hasDeviceGraph(checkpoint.config.headDim);
    const more: [string, GraphLayout][] = [[RUNTIME_FILE, 'runtime'], ...(withDevice ? [[DEVICE_FILE, 'device'] as [string, GraphLayout]] : [])];
    for (const [file, layout] of more) {
      const builder = new GraphBuilder();
      await buildGpt2Graph(builder, checkpoint.config, compute, weights.replay(), layout);
      builder.adoptWeights(graph);
      graphs.push([file, builder, layout]);
    }
    const dataSize = data.size;
    const dataSha = await data.close();
    data = undefined;

    report({ phase: 'finishing', done: total, total, detail: MODEL_FILE });
    const outputs: Record<string, FileEntry> = {};
    for (const [file, builder, layout] of graphs) {
      const bytes = builder.encode({
        name: `gpt2-${precision}-${layout}`,
        dataFile: DATA_FILE,
        opset: OPSET,
        producer: CONVERTER,
        docString: `Converted from ${checkpoint.dir} by Tsuzuki (${layout} layout)`,
      });
      await writeFile(join(tmp, file), bytes, { flag: 'wx' });
      outputs[file] = { sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length };
    }
    await copyFile(tokenizer, join(tmp, TOKENIZER_FILE));
    outputs[DATA_FILE] = { sha256: dataSha, size: dataSize };
    outputs[TOKENIZER_FILE] = inputs[TOKENIZER_FILE]!;

    const { config } = checkpoint;
    const source = options.source ?? sourceOf(checkpoint.dir);
    const manifest: Manifest = {
      format: 'tsuzuki-onnx-decoder',
      formatVersion: FORMAT_VERSION,
      architecture: {
        modelType: 'gpt2',
        nLayer: config.nLayer,
        nHead: config.nHead,
        headDim: config.headDim,
        nEmbd: config.nEmbd,
        nInner: config.nInner,
        vocabSize: config.vocabSize,
        nPositions: config.nPositions,
        activation: config.activation,
        layerNormEpsilon: config.layerNormEpsilon,
      },
      precision,
      blockSize: quantized ? blockSize : null,
      quantization: quantized ? { scales: precision === 'int4' ? scales : 'range', tableBlockSize, calibrationTokens: calibration?.tokens ?? 0 } : null,
      kvType: compute,
      specialTokens: { bos: config.bosTokenId, eos: config.eosTokenId, pad: config.padTokenId },
      io: decoderIoNames(config),
      ...(withDevice ? { deviceGraph: { file: DEVICE_FILE, io: decoderIoNames(config, 'device') } } : {}),
      source: { format: checkpoint.format, ...source },
      files: { inputs, outputs },
      converter: CONVERTER,
      createdAt: new Date().toISOString(),
    };
    // The manifest is written last: a folder with tsuzuki.json is a finished model.
    await writeFile(join(tmp, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n', { flag: 'wx' });
    await refuseExisting(out, true);
    await rename(tmp, out);
    return manifest;
  } catch (error) {
    await data?.abort();
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw asConvertError(error, out);
  } finally {
    await checkpoint.close();
  }
}

/** Channel importance measured on the calibration text, tokenized by the checkpoint's own tokenizer. */
async function calibrateOn(checkpoint: Checkpoint, tokenizerFile: string, report: (progress: ConvertProgress) => void): Promise<Calibration> {
  const tokenizer = await loadTokenizer(tokenizerFile);
  // As the engine feeds a document: line breaks the way this tokenizer writes them.
  const ids = tokenizer.encodeContext(CALIBRATION_TEXT);
  const total = checkpoint.config.nLayer;
  report({ phase: 'calibrating', done: 0, total, detail: 'calibration' });
  const calibration = await calibrate(checkpoint, ids, (done) => report({ phase: 'calibrating', done, total, detail: `calibration h.${done - 1}` }));
  // Float sums may differ in their last bits between CPUs (onnxruntime picks kernels by instruction set): rounded to
  // 8 significant bits, the same checkpoint almost always gives the same weights, and so the same bytes, everywhere.
  for (const values of calibration.importance.values()) values.forEach((v, i) => (values[i] = roundToBits(v, 8)));
  return calibration;
}

function roundToBits(value: number, bits: number): number {
  if (!(value > 0) || !Number.isFinite(value)) return 0;
  const unit = 2 ** (Math.floor(Math.log2(value)) - bits + 1);
  return Math.round(value / unit) * unit;
}

/**
 * The embedding table is quantized along the model's width, so the block size must divide it. Checked before anything
 * is written, and said as what it is: the user's --block-size, or a width no block size fits.
 */
function checkBlockWidth(width: number, blockSize: number, flag: string | null): void {
  if (width % blockSize === 0) return;
  if (flag) {
    throw new TsuzukiError('invalid_argument', `${flag} ${blockSize} must divide the model's width (n_embd ${width}). Choose another ${flag}, or leave it out.`);
  }
  throw new TsuzukiError('unsupported', `int8 and int4 need a model width (n_embd) that 16 divides; this model is ${width} wide. Convert it as fp16 or fp32.`);
}

/** Throws if `out` exists and is not an empty folder; an empty one is removed when `removeEmpty` (just before the rename). */
async function refuseExisting(out: string, removeEmpty: boolean): Promise<void> {
  const entries = await readdir(out).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    if (error.code === 'ENOTDIR') return ['(a file)'];
    throw error;
  });
  if (entries === null) return;
  if (entries.length > 0) {
    throw new TsuzukiError('invalid_argument', `${out} already exists and is not empty. Remove it or choose another output folder.`);
  }
  if (removeEmpty) await rm(out, { recursive: true });
}

/** sha256 and size of each input file, keyed by its path relative to the source folder. */
async function hashFiles(
  dir: string,
  files: string[],
  report: (progress: ConvertProgress) => void,
): Promise<Record<string, FileEntry>> {
  const sizes = await Promise.all(files.map(async (f) => (await stat(f)).size));
  const total = sizes.reduce((a, b) => a + b, 0);
  let done = 0;
  const result: Record<string, FileEntry> = {};
  for (const [i, file] of files.entries()) {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(file, { highWaterMark: 4 << 20 })) {
      hash.update(chunk as Buffer);
      done += (chunk as Buffer).length;
      report({ phase: 'hashing', done, total, detail: basename(file) });
    }
    result[relative(dir, file).split(sep).join('/')] = { sha256: hash.digest('hex'), size: sizes[i]! };
  }
  return result;
}

/** A Hugging Face cache snapshot path (`models--org--name/snapshots/<rev>`) names the repo and revision. */
function sourceOf(dir: string): { repo: string | null; revision: string | null } {
  const match = /models--([^/\\]+?)--([^/\\]+)[/\\]snapshots[/\\]([0-9a-f]{7,64})$/.exec(dir);
  return match ? { repo: `${match[1]}/${match[2]}`, revision: match[3]! } : { repo: null, revision: null };
}

function asConvertError(error: unknown, out: string): unknown {
  if (error instanceof TsuzukiError) return error;
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new TsuzukiError('disk_full', `The disk holding ${dirname(out)} is full (${message}). Free some space and convert again; nothing was written to ${out}.`, { cause: error });
  }
  if (code === 'EFBIG') {
    return new TsuzukiError(
      'disk_full',
      `The model's data file is too large for the disk holding ${dirname(out)} (${message}; FAT32 drives stop at 4 GB). Convert onto another disk; nothing was written to ${out}.`,
      { cause: error },
    );
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new TsuzukiError('invalid_argument', `Cannot write beside ${out} (${message}). Choose a folder you can write to.`, { cause: error });
  }
  return new TsuzukiError('internal', `Conversion into ${out} failed: ${message}`, { cause: error });
}

