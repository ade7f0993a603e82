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
): BlockQuantized {
  if (values.length !== k * n) throw new RangeError(`quantize: expected ${n}×${k} values, got ${values.length}`);
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
  for (let b = 0; b < blocks; b++) {
    const k0 = b * blockSize;
    const len = Math.min(blockSize, k - k0);
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
      for (let r = 0; r < count; r++) quantizeBlock(tile, r * blockSize, q, n0 + r, b, bits, blockSize, blob, zpRow);
    }
  }
  return q;
}

/**
 * 4-bit scales tried per block, as fractions of the block's full range: clipping its few largest values buys finer
 * steps for all the others. The range that reconstructs the block with the least squared error wins (the full
 * range is the first candidate, so the search never does worse than plain min/max). 8-bit steps are fine enough
 * without it.
 */
const SHRINK_4BIT = [1, 0.975, 0.95, 0.925, 0.9, 0.875, 0.85, 0.825, 0.8];

/**
 * One block: zero point from its range (which always includes 0, so zero stays exact, as in onnxruntime's own
 * quantizer), scale from the best of the candidate ranges, then the packed levels.
 */
function quantizeBlock(
  src: Float32Array,
  start: number,
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
  let min = 0;
  let max = 0;
  for (let i = start; i < end; i++) {
    const v = src[i]!;
    if (v < min) min = v;
    else if (v > max) max = v;
  }
  const full = (max - min) / qmax;
  const zp = full === 0 ? 0 : Math.min(qmax, Math.max(0, Math.round(-min / full)));
  // level = round(v / scale) + zp, clamped to [0, qmax] = floor(v * inv + zp + 0.5), clamped.
  const bias = zp + 0.5;
  const top = qmax + 1;
  const level = (v: number, inv: number) => {
    const t = v * inv + bias;
    return t < 1 ? 0 : t >= top ? qmax : t | 0;
  };
  let scale = full;
  if (bits === 4 && full !== 0) {
    let best = Infinity;
    for (const shrink of SHRINK_4BIT) {
      const candidate = full * shrink;
      const inv = 1 / candidate;
      let err = 0;
      for (let i = start; i < end; i++) {
        const d = src[i]! - (level(src[i]!, inv) - zp) * candidate;
        err += d * d;
      }
      if (err < best) {
        best = err;
        scale = candidate;
      }
    }
  }
  const inv = scale === 0 ? 0 : 1 / scale;
  q.scales[row * q.blocks + b] = scale;
  const out = (row * q.blocks + b) * blob;
  const data = q.data;
  if (bits === 4) {
    q.zeroPoints[row * zpRow + (b >> 1)]! |= zp << ((b & 1) * 4);
    for (let i = start, o = out; i < end; i += 2, o++) data[o] = level(src[i]!, inv) | (level(src[i + 1]!, inv) << 4);
  } else {
    q.zeroPoints[row * zpRow + b] = zp;
    for (let i = 0; i < blockSize; i++) data[out + i] = level(src[start + i]!, inv);
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
