import { halfToFloatTable } from '../format/half';

/**
 * Block-wise asymmetric quantization in the layout of onnxruntime's `MatMulNBits` (com.microsoft): a weight W used
 * as `x @ W` is stored as W^T, `[N, blocks, blockSize * bits / 8]`, each block of K values with its own scale and
 * zero point. The same bytes seen as `[N, K * bits / 8]` are what `GatherBlockQuantized` reads, so a tied
 * embedding and lm_head share one quantized copy.
 */
export interface BlockQuantized {
  /** Packed values `[N, blocks, blockSize * bits / 8]`; 4-bit: element 2j in the low nibble of byte j. */
  data: Uint8Array;
  /** `[N, blocks]` */
  scales: Float32Array;
  /** `[N, ceil(blocks * bits / 8)]`; 4-bit zero points are packed two per byte like the data. */
  zeroPoints: Uint8Array;
  n: number;
  k: number;
  blocks: number;
}

export type QuantBits = 4 | 8;

/**
 * The block size int8 and int4 models are converted with unless asked otherwise. onnxruntime's MatMulNBits CPU
 * kernel spends per-block work on every step, so blocks of 128 decode about a third faster than blocks of 32 and
 * prefill about half again as fast (1.3B int4, 2 threads: 30 against 41–50 ms a token). The price is quantization
 * error: with the range search below, block 128 reconstructs Gaussian weights with 9.5 % relative RMS error
 * (block 32: 7.8 %, llama.cpp's Q4_0: 8.6 %) and heavy-tailed ones with 13.8 % (9.4 %, 11.6 %). int8 loses
 * nothing that matters at either size. `--block-size 32` converts for fidelity over speed.
 * Blocks of 256 go further the other way: int4 prefill 15 % faster (140–148 against 124–126 tokens/s at 512), decoding
 * no slower, for a tenth more error than 128 (Gaussian 10.4 % against 9.8 %, Student-t(3) 17.3 % against 15.1 %, one
 * test). Fidelity keeps 128 the default; `--block-size 256` is there for those who would rather have the speed.
 */
export const DEFAULT_BLOCK_SIZE = 128;

/**
 * The token table (the embedding and, tied, the lm_head) is quantized in blocks of at most 32 whatever the size of the
 * other matrices' blocks. On the GPT-2 trained for the quality tests it carried most of block-128 int4's KL
 * divergence from fp32 (it is both every token's input and every token's score); in blocks of 32 it takes the whole
 * model below llama.cpp's Q4_0 (`npm run bench -- quality`). Its cost is in decoding, which reads it once a token:
 * in rinna-1b it is 7 % of the weights, read about a third slower.
 */
export const TOKEN_TABLE_BLOCK_SIZE = 32;

/** The default for a model `width` (n_embd) wide: blocks of 128, or the largest smaller size that divides the width (the embedding table is quantized along it). */
export function defaultBlockSize(width: number): number {
  let size = DEFAULT_BLOCK_SIZE;
  while (size > 16 && width % size !== 0) size /= 2;
  return size;
}

/** The block sizes onnxruntime's MatMulNBits loads: a larger one would convert into a model that cannot be opened. */
const BLOCK_SIZES = [16, 32, 64, 128, 256];

export function checkBlockSize(blockSize: number): void {
  if (!BLOCK_SIZES.includes(blockSize)) {
    throw new RangeError(`block size must be a power of two from 16 to 256 (${BLOCK_SIZES.join(', ')}), got ${blockSize}`);
  }
}

/**
 * How 4-bit blocks get their scale and zero point:
 * - `fitted` (the default): for each of a series of candidate grids, the levels it gives are fitted by weighted least
 *   squares (scale and offset, the offset then rounded to a whole zero point), keeping the fit with the least error;
 *   the same search as llama.cpp's `make_qkx2_quants`, adapted to MatMulNBits' integer zero points.
 * - `range`: the block's range and a few clipped versions of it (quicker; the converter's scales before `fitted`).
 * 8-bit steps are fine enough that both give the block's range.
 */
export type ScaleSearch = 'fitted' | 'range';
export const SCALE_SEARCHES: readonly ScaleSearch[] = ['fitted', 'range'];

export interface QuantizeOptions {
  search?: ScaleSearch;
  /**
   * How much an error in each input channel costs, `[K]` (the mean squared activation entering it, `calibrate.ts`):
   * the fitted search minimizes Σ importance·error² per block, which is the expected squared error of the output.
   */
  importance?: Float32Array | null;
}

/**
 * Quantizes a weight given as `[N, K]` (`'nk'`: one output feature per row, an embedding table) or `[K, N]` (`'kn'`:
 * Hugging Face Conv1D, `[in, out]`), in float32 or as half-precision bits. `'kn'` is transposed tile by tile on the
 * way, never as a whole. K need not be a multiple of the block size: the last block is padded with zeros.
 */
export function quantizeBlockwise(
  values: Float32Array | Uint16Array,
  layout: 'nk' | 'kn',
  n: number,
  k: number,
  bits: QuantBits,
  blockSize: number,
  options: QuantizeOptions = {},
): BlockQuantized {
  if (values.length !== k * n) throw new RangeError(`quantize: expected ${n}×${k} values, got ${values.length}`);
  const { importance = null, search = 'fitted' } = options;
  if (importance && importance.length !== k) throw new RangeError(`quantize: expected ${k} channel weights, got ${importance.length}`);
  checkBlockSize(blockSize);
  const blocks = Math.ceil(k / blockSize);
  const blob = (blockSize * bits) / 8;
  const zpRow = Math.ceil((blocks * bits) / 8);
  const q: BlockQuantized = {
    data: new Uint8Array(n * blocks * blob),
    scales: new Float32Array(n * blocks),
    zeroPoints: new Uint8Array(n * zpRow),
    n,
    k,
    blocks,
  };
  const half = values instanceof Uint16Array ? halfToFloatTable() : null;
  // Blocks are gathered, widened and zero-padded into this small buffer: `TILE` output rows of one block each.
  const TILE = 64;
  const tile = new Float32Array(TILE * blockSize);
  const weights = new Float64Array(blockSize);
  const grid: Grid = { scale: 0, zp: 0 };
  for (let b = 0; b < blocks; b++) {
    const k0 = b * blockSize;
    const len = Math.min(blockSize, k - k0);
    const weighted = bits === 4 && search === 'fitted' && blockWeights(importance, k0, len, weights);
    for (let n0 = 0; n0 < n; n0 += TILE) {
      const count = Math.min(TILE, n - n0);
      if (len < blockSize) tile.fill(0);
      if (layout === 'kn') {
        for (let kk = 0; kk < len; kk++) {
          const from = (k0 + kk) * n + n0;
          if (half) for (let r = 0; r < count; r++) tile[r * blockSize + kk] = half[values[from + r]!]!;
          else for (let r = 0; r < count; r++) tile[r * blockSize + kk] = values[from + r]!;
        }
      } else {
        for (let r = 0; r < count; r++) {
          const from = (n0 + r) * k + k0;
          if (half) for (let kk = 0; kk < len; kk++) tile[r * blockSize + kk] = half[values[from + kk]!]!;
          else tile.set((values as Float32Array).subarray(from, from + len), r * blockSize);
        }
      }
      for (let r = 0; r < count; r++) {
        const start = r * blockSize;
        if (bits === 8) rangeGrid(tile, start, blockSize, 255, null, grid);
        else if (search === 'range') rangeGrid(tile, start, blockSize, 15, SHRINK_4BIT, grid);
        else fittedGrid(tile, start, blockSize, weighted ? weights : null, grid);
        writeBlock(tile, start, grid, q, n0 + r, b, bits, blockSize, blob, zpRow);
      }
    }
  }
  return q;
}

/** A block's quantization grid: value = (level - zp) · scale. */
interface Grid {
  scale: number;
  zp: number;
}

/**
 * The block's channel weights into `out` (padding weighs nothing), scaled to a mean of 1; false when there are none
 * or they are all zero (a block no calibration token ever reached is fitted unweighted). A floor of a tenth of the mean
 * keeps channels the calibration text barely touched from being given up entirely.
 */
function blockWeights(importance: Float32Array | null, k0: number, len: number, out: Float64Array): boolean {
  if (!importance) return false;
  let sum = 0;
  for (let i = 0; i < len; i++) sum += importance[k0 + i]!;
  if (!(sum > 0) || !Number.isFinite(sum)) return false;
  const mean = sum / len;
  out.fill(0);
  for (let i = 0; i < len; i++) out[i] = importance[k0 + i]! / mean + 0.1;
  return true;
}

/**
 * 4-bit scales tried per block by the `range` search, as fractions of the block's full range: clipping its few
 * largest values buys finer steps for all the others. The range that reconstructs the block with the least squared
 * error wins (the full range is the first candidate, so the search never does worse than plain min/max).
 */
const SHRINK_4BIT = [1, 0.975, 0.95, 0.925, 0.9, 0.875, 0.85, 0.825, 0.8];

/**
 * Zero point from the block's range (which always includes 0, so zero stays exact, as in onnxruntime's own
 * quantizer), scale from the best of the `shrink` fractions of that range (just the range when null).
 */
function rangeGrid(src: Float32Array, start: number, size: number, qmax: number, shrink: readonly number[] | null, grid: Grid): void {
  const end = start + size;
  let min = 0;
  let max = 0;
  for (let i = start; i < end; i++) {
    const v = src[i]!;
    if (v < min) min = v;
    else if (v > max) max = v;
  }
  const full = (max - min) / qmax;
  grid.zp = full === 0 ? 0 : Math.min(qmax, Math.max(0, Math.round(-min / full)));
  grid.scale = full;
  if (!shrink || full === 0) return;
  let best = Infinity;
  const sums: LevelSums = { sq: 0, sq2: 0, sxq: 0, err: 0 };
  for (const fraction of shrink) {
    const candidate = full * fraction;
    levelSums(src, start, size, null, candidate, grid.zp, sums);
    if (sums.err < best) {
      best = sums.err;
      grid.scale = candidate;
    }
  }
}

/**
 * Candidate 4-bit grids of the `fitted` search: steps of range / (15 + FIT_FROM + FIT_STEP·i), i = 0..FIT_STEPS, from
 * a little wider than the block's range to a quarter narrower (clipping its largest values).
 */
const FIT_FROM = -1;
const FIT_STEP = 0.25;
const FIT_STEPS = 20;

/**
 * The `fitted` 4-bit search. Each candidate step places a grid over the block, centred on its range, which is scored as
 * it is; then the levels it gave are fitted: the weighted least-squares line through (level, value) gives a scale and
 * an offset, the offset is rounded to a whole zero point (MatMulNBits stores integers) and the scale refitted for it,
 * all from the pass's running sums. The fitted grid gives new levels, fitted again, up to FIT_ROUNDS times while the
 * error falls. Whatever grid reconstructs the block with the least weighted squared error is kept; plain min/max is
 * the first, so the result is never worse than it.
 */
function fittedGrid(src: Float32Array, start: number, size: number, weights: Float64Array | null, grid: Grid): void {
  const qmax = 15;
  let min = 0;
  let max = 0;
  let sw = 0;
  let sx = 0;
  for (let i = start; i < start + size; i++) {
    const v = src[i]!;
    if (v < min) min = v;
    else if (v > max) max = v;
    const w = weights ? weights[i - start]! : 1;
    sw += w;
    sx += w * v;
  }
  const range = max - min;
  grid.scale = range / qmax;
  grid.zp = range === 0 ? 0 : Math.min(qmax, Math.max(0, Math.round(-min / grid.scale)));
  if (range === 0) return;
  const sums: LevelSums = { sq: 0, sq2: 0, sxq: 0, err: 0 };
  const fit: Grid = { scale: 0, zp: 0 };
  levelSums(src, start, size, weights, grid.scale, grid.zp, sums);
  let best = sums.err;
  for (let step = 0; step <= FIT_STEPS; step++) {
    fit.scale = range / (qmax + FIT_FROM + FIT_STEP * step);
    fit.zp = Math.min(qmax, Math.max(0, Math.round(qmax / 2 - (min + max) / (2 * fit.scale))));
    for (let round = 0; round <= FIT_ROUNDS; round++) {
      levelSums(src, start, size, weights, fit.scale, fit.zp, sums);
      if (sums.err < best) {
        best = sums.err;
        grid.scale = fit.scale;
        grid.zp = fit.zp;
      } else if (round > 0) break;
      if (!refit(sums, sw, sx, qmax, fit)) break;
    }
  }
}

/** Fitting rounds after each candidate grid of the `fitted` search. */
const FIT_ROUNDS = 1;

interface LevelSums {
  /** Σw·level, Σw·level², Σw·value·level, Σw·(value - reconstruction)². */
  sq: number;
  sq2: number;
  sxq: number;
  err: number;
}

/** One pass over a block on the 4-bit grid (scale, zp): the sums a refit needs, and the grid's error. */
function levelSums(src: Float32Array, start: number, size: number, weights: Float64Array | null, scale: number, zp: number, out: LevelSums): void {
  const inv = 1 / scale;
  const bias = zp + 0.5;
  let sq = 0;
  let sq2 = 0;
  let sxq = 0;
  let err = 0;
  for (let i = start, end = start + size; i < end; i++) {
    const v = src[i]!;
    const t = v * inv + bias;
    const level = t < 1 ? 0 : t >= 16 ? 15 : t | 0;
    const w = weights ? weights[i - start]! : 1;
    sq += w * level;
    sq2 += w * level * level;
    sxq += w * level * v;
    const d = v - (level - zp) * scale;
    err += w * d * d;
  }
  out.sq = sq;
  out.sq2 = sq2;
  out.sxq = sxq;
  out.err = err;
}

/** The grid fitted to a pass's levels, into `fit`; false when they cannot be fitted (all on one level). */
function refit({ sq, sq2, sxq }: LevelSums, sw: number, sx: number, qmax: number, fit: Grid): boolean {
  const det = sw * sq2 - sq * sq;
  if (!(det > 0)) return false;
  const slope = (sw * sxq - sx * sq) / det;
  const offset = (sq2 * sx - sq * sxq) / det;
  if (!(slope > 0)) return false;
  const zp = Math.min(qmax, Math.max(0, Math.round(-offset / slope)));
  // Σw·v·(level - zp) / Σw·(level - zp)²: the best scale for these levels with the zero point fixed.
  const denominator = sq2 - 2 * zp * sq + zp * zp * sw;
  if (!(denominator > 0)) return false;
  const scale = (sxq - zp * sx) / denominator;
  if (!(scale > 0)) return false;
  fit.scale = scale;
  fit.zp = zp;
  return true;
}

/** Stores a block's scale, zero point and packed levels. */
function writeBlock(
  src: Float32Array,
  start: number,
  { scale, zp }: Grid,
  q: BlockQuantized,
  row: number,
  b: number,
  bits: QuantBits,
  blockSize: number,
  blob: number,
  zpRow: number,
): void {
  const qmax = (1 << bits) - 1;
  const end = start + blockSize;
  const inv = scale === 0 ? 0 : 1 / scale;
  // level = round(v / scale) + zp, clamped to [0, qmax] = floor(v * inv + zp + 0.5), clamped.
  const bias = zp + 0.5;
  const top = qmax + 1;
  const level = (v: number) => {
    const t = v * inv + bias;
    return t < 1 ? 0 : t >= top ? qmax : t | 0;
  };
  q.scales[row * q.blocks + b] = scale;
  const out = (row * q.blocks + b) * blob;
  const data = q.data;
  if (bits === 4) {
    q.zeroPoints[row * zpRow + (b >> 1)]! |= zp << ((b & 1) * 4);
    for (let i = start, o = out; i < end; i += 2, o++) data[o] = level(src[i]!) | (level(src[i + 1]!) << 4);
  } else {
    q.zeroPoints[row * zpRow + b] = zp;
    for (let i = 0; i < blockSize; i++) data[out + i] = level(src[start + i]!);
  }
}

/** The values a quantized weight stands for, `[N, K]`. */
export function dequantizeBlockwise(q: BlockQuantized, bits: QuantBits, blockSize: number): Float32Array {
  const out = new Float32Array(q.n * q.k);
  const blob = (blockSize * bits) / 8;
  const zpRow = Math.ceil((q.blocks * bits) / 8);
  for (let row = 0; row < q.n; row++) {
    for (let i = 0; i < q.k; i++) {
      const b = Math.floor(i / blockSize);
      const j = i % blockSize;
      const byte = q.data[(row * q.blocks + b) * blob + (bits === 4 ? j >> 1 : j)]!;
      const value = bits === 4 ? (byte >> ((j & 1) * 4)) & 15 : byte;
      const zpByte = q.zeroPoints[row * zpRow + (bits === 4 ? b >> 1 : b)]!;
      const zp = bits === 4 ? (zpByte >> ((b & 1) * 4)) & 15 : zpByte;
      out[row * q.k + i] = (value - zp) * q.scales[row * q.blocks + b]!;
    }
  }
  return out;
}

/**
 * 4-bit values stored row by row with each row padded to a whole byte (MatMulNBits' zero points) repacked as one
 * run across rows, two per byte, the first in the low nibble (ONNX uint4).
 */
export function packNibblesAcrossRows(padded: Uint8Array, rows: number, perRow: number): Uint8Array {
  const rowBytes = Math.ceil(perRow / 2);
  const out = new Uint8Array(Math.ceil((rows * perRow) / 2));
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < perRow; j++) {
      const nibble = (padded[r * rowBytes + (j >> 1)]! >> ((j & 1) * 4)) & 15;
      const i = r * perRow + j;
      out[i >> 1]! |= nibble << ((i & 1) * 4);
    }
  }
  return out;
}
