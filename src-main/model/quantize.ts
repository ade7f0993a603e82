import { halfToFloatTable } from './half';

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

export function checkBlockSize(blockSize: number): void {
  if (!Number.isInteger(blockSize) || blockSize < 16 || (blockSize & (blockSize - 1)) !== 0) {
    throw new RangeError(`block size must be a power of two ≥ 16 (16, 32, 64, 128, …), got ${blockSize}`);
  }
}

/**
 * Quantizes `rows` (`[N, K]` row-major, one output feature per row). K need not be a multiple of the block size:
 * the last block is padded with zeros.
 */
export function quantizeBlockwise(rows: Float32Array, n: number, k: number, bits: QuantBits, blockSize: number): BlockQuantized {
  if (rows.length !== k * n) throw new RangeError(`quantize: expected ${n}×${k} values, got ${rows.length}`);
  checkBlockSize(blockSize);
  const blocks = Math.ceil(k / blockSize);
  const blob = (blockSize * bits) / 8;
  const zpRow = Math.ceil((blocks * bits) / 8);
  const data = new Uint8Array(n * blocks * blob);
  const scales = new Float32Array(n * blocks);
  const zeroPoints = new Uint8Array(n * zpRow);
  const qmax = (1 << bits) - 1;
  const block = new Float32Array(blockSize);

  for (let row = 0; row < n; row++) {
    for (let b = 0; b < blocks; b++) {
      const start = row * k + b * blockSize;
      const len = Math.min(blockSize, k - b * blockSize);
      // The range always includes 0, so zero stays exact (as onnxruntime's own quantizer does).
      let min = 0;
      let max = 0;
      for (let i = 0; i < len; i++) {
        const v = rows[start + i]!;
        block[i] = v;
        if (v < min) min = v;
        else if (v > max) max = v;
      }
      if (len < blockSize) block.fill(0, len);
      const scale = (max - min) / qmax;
      const inv = scale === 0 ? 0 : 1 / scale;
      const zp = scale === 0 ? 0 : Math.min(qmax, Math.max(0, Math.round(-min * inv)));
      scales[row * blocks + b] = scale;
      const out = (row * blocks + b) * blob;
      if (bits === 4) {
        zeroPoints[row * zpRow + (b >> 1)]! |= zp << ((b & 1) * 4);
        for (let i = 0, o = out; i < blockSize; i += 2, o++) data[o] = level(block[i]!, inv, zp, qmax) | (level(block[i + 1]!, inv, zp, qmax) << 4);
      } else {
        zeroPoints[row * zpRow + b] = zp;
        for (let i = 0; i < blockSize; i++) data[out + i] = level(block[i]!, inv, zp, qmax);
      }
    }
  }
  return { data, scales, zeroPoints, n, k, blocks };
}

/** round(v / scale) + zero point, clamped to the code range (rounding at both ends can step one past it). */
function level(v: number, inv: number, zp: number, qmax: number): number {
  const q = Math.round(v * inv) + zp;
  return q < 0 ? 0 : q > qmax ? qmax : q;
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
 * `[rows, cols]` → `[cols, rows]` as float32, in cache-sized tiles (Conv1D weights are `[in, out]`; MatMulNBits
 * wants W^T). Half-precision input (raw bits) is widened on the way, saving a pass over the largest tensors.
 */
export function transpose(values: Float32Array | Uint16Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  const table = values instanceof Uint16Array ? halfToFloatTable() : null;
  const tile = 64;
  for (let r0 = 0; r0 < rows; r0 += tile) {
    const r1 = Math.min(rows, r0 + tile);
    for (let c0 = 0; c0 < cols; c0 += tile) {
      const c1 = Math.min(cols, c0 + tile);
      for (let r = r0; r < r1; r++) {
        const src = r * cols;
        if (table) for (let c = c0; c < c1; c++) out[c * rows + r] = table[values[src + c]!]!;
        else for (let c = c0; c < c1; c++) out[c * rows + r] = values[src + c]!;
      }
    }
  }
  return out;
}
