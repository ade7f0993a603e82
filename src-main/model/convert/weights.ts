import type { Checkpoint } from '../format/checkpoint';
import type { DataFileWriter } from './data-file';
import type { GraphBuilder } from './graph';
import type { LinearWeight, TokenTable, WeightStore } from './gpt2-graph';
import { toHalfArray } from '../format/half';
import type { ChannelImportance } from './calibrate';
import { packNibblesAcrossRows, quantizeBlockwise, type QuantBits, type ScaleSearch } from './quantize';

export type Precision = 'fp32' | 'fp16' | 'int8' | 'int4';
export const PRECISIONS: readonly Precision[] = ['fp32', 'fp16', 'int8', 'int4'];

/**
 * Reads each checkpoint tensor once, when the graph asks for it, encodes it for the precision (fp32, fp16 or
 * block-quantized) and appends it to the external data file. Only the tensor in hand is in memory.
 */
export function createWeightStore(options: {
  checkpoint: Checkpoint;
  graph: GraphBuilder;
  data: DataFileWriter;
  precision: Precision;
  blockSize: number;
  /** Block size of the token table (`wte`, `lm_head`). */
  tableBlockSize: number;
  /** How 4-bit scales are chosen (`quantize.ts`). */
  search: ScaleSearch;
  /** Input-channel importance of the matrices, by checkpoint name, when the conversion was calibrated. */
  importance: ChannelImportance | null;
  /** Called after each source tensor is written. */
  onTensor?: (name: string) => void;
}): WeightStore {
  const { checkpoint, graph, data, precision, search, importance } = options;
  const bits: QuantBits | null = precision === 'int4' ? 4 : precision === 'int8' ? 8 : null;
  const dense = precision === 'fp16' ? 'float16' : 'float32';

  /** Stored as-is in the dense type; fp16 weights go to an fp16 model byte for byte. */
  const writeDense = async (name: string) => {
    const { dtype, shape } = checkpoint.info(name);
    let bytes: ArrayBufferView;
    if (dense === 'float16' && dtype === 'F16') bytes = await checkpoint.readRaw(name);
    else {
      const values = await checkpoint.readF32(name);
      bytes = dense === 'float16' ? toHalfArray(values) : values;
    }
    return graph.external(name, dense, shape, await data.write(bytes));
  };
  /** fp16 checkpoints (rinna's) are quantized straight from their stored bits; others from float32. */
  const readValues = async (name: string): Promise<Float32Array | Uint16Array> =>
    checkpoint.info(name).dtype === 'F16' ? asHalfBits(await checkpoint.readRaw(name)) : checkpoint.readF32(name);
  /** Quantizes and writes a weight; returns its MatMulNBits names and the locations, for other views of the same bytes. */
  const writeQuant = async (name: string, layout: 'kn' | 'nk', n: number, k: number, bits: QuantBits, blockSize: number) => {
    const q = quantizeBlockwise(await readValues(name), layout, n, k, bits, blockSize, { search, importance: importance?.get(name) ?? null });
    const blob = (blockSize * bits) / 8;
    const zpRow = Math.ceil((q.blocks * bits) / 8);
    const at = { data: await data.write(q.data), scales: await data.write(q.scales), zeroPoints: await data.write(q.zeroPoints) };
    const weight = {
      kind: 'quant' as const,
      data: graph.external(`${name}.quant`, 'uint8', [n, q.blocks, blob], at.data),
      scales: graph.external(`${name}.scales`, 'float32', [n * q.blocks], at.scales),
      zeroPoints: graph.external(`${name}.zero_points`, 'uint8', [n * zpRow], at.zeroPoints),
      bits,
      blockSize,
      k,
      n,
    };
    return { weight, at, blocks: q.blocks, blob, zpRow, zeroPoints: q.zeroPoints };
  };

  return {
    async tensor(name) {
      const result = await writeDense(name);
      options.onTensor?.(name);
      return result;
    },
    async linear(name): Promise<LinearWeight> {
      let result: LinearWeight;
      if (bits) {
        const [k, n] = checkpoint.info(name).shape as [number, number];
        result = (await writeQuant(name, 'kn', n, k, bits, options.blockSize)).weight;
      } else {
        result = { kind: 'dense', weight: await writeDense(name) };
      }
      options.onTensor?.(name);
      return result;
    },
    async tokenTable(name): Promise<TokenTable> {
      let result: TokenTable;
      if (!bits) {
        result = { kind: 'dense', table: await writeDense(name) };
      } else {
        const [rows, width] = checkpoint.info(name).shape as [number, number];
        const blockSize = options.tableBlockSize;
        if (width % blockSize !== 0) {
          throw new RangeError(`block size ${blockSize} must divide n_embd (${width}) to quantize the embeddings`);
        }
        const { weight, at, blocks, blob, zpRow, zeroPoints } = await writeQuant(name, 'nk', rows, width, bits, blockSize);
        // The same bytes, shaped for GatherBlockQuantized. 4-bit ones are typed uint4 with their logical shapes (as
        // many zero points as scales): onnxruntime's CPU and WebGPU kernels both read that, and the WebGPU one
        // rejects packed-uint8 shapes. MatMulNBits pads each row's zero points to a whole byte where uint4 packs them
        // across rows, so an odd number of blocks per row needs its zero points written again, repacked.
        const gather =
          bits === 4
            ? {
                data: graph.external(`${name}.gather.quant`, 'uint4', [rows, width], at.data),
                scales: graph.external(`${name}.gather.scales`, 'float32', [rows, blocks], at.scales),
                zeroPoints: graph.external(
                  `${name}.gather.zero_points`,
                  'uint4',
                  [rows, blocks],
                  blocks % 2 === 0 ? at.zeroPoints : await data.write(packNibblesAcrossRows(zeroPoints, rows, blocks)),
                ),
              }
            : {
                data: graph.external(`${name}.gather.quant`, 'uint8', [rows, blocks * blob], at.data),
                scales: graph.external(`${name}.gather.scales`, 'float32', [rows, blocks], at.scales),
                zeroPoints: graph.external(`${name}.gather.zero_points`, 'uint8', [rows, zpRow], at.zeroPoints),
              };
        result = { kind: 'quant', gather, head: weight };
      }
      options.onTensor?.(name);
      return result;
    },
  };
}

function asHalfBits(raw: Uint8Array): Uint16Array {
  return raw.byteOffset % 2 === 0 ? new Uint16Array(raw.buffer, raw.byteOffset, raw.byteLength / 2) : new Uint16Array(raw.slice().buffer);
}

/**
 * A store for a second graph over weights another store already wrote: it answers each request with the first
 * store's answer (the same initializer names) and writes nothing. The second graph then adopts those initializers
 * (`GraphBuilder.adoptWeights`), so both graphs read one data file.
 */
export function recordingWeightStore(store: WeightStore): { store: WeightStore; replay: () => WeightStore } {
  const answers = new Map<string, Promise<unknown>>();
  const remember = <T>(key: string, get: () => Promise<T>): Promise<T> => {
    if (!answers.has(key)) answers.set(key, get());
    return answers.get(key) as Promise<T>;
  };
  const recorded = (key: string): Promise<never> => {
    const answer = answers.get(key);
    if (!answer) throw new Error(`the second graph asked for ${key}, which the first never wrote`);
    return answer as Promise<never>;
  };
  return {
    store: {
      tensor: (name) => remember(`tensor:${name}`, () => store.tensor(name)),
      linear: (name) => remember(`linear:${name}`, () => store.linear(name)),
      tokenTable: (name) => remember(`tokenTable:${name}`, () => store.tokenTable(name)),
    },
    replay: () => ({
      tensor: (name) => recorded(`tensor:${name}`),
      linear: (name) => recorded(`linear:${name}`),
      tokenTable: (name) => recorded(`tokenTable:${name}`),
    }),
  };
}

