import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { halfToFloatTable, toHalf } from '../../../src-main/model/format/half';

/** The float32 value nearest to `v` that half precision holds exactly. */
const toHalfValue = (v: number) => halfToFloatTable()[toHalf(v)]!;
import { defaultBlockSize, dequantizeBlockwise, packNibblesAcrossRows, quantizeBlockwise } from '../../../src-main/model/convert/quantize';

/** N(0, 0.02) values, like a model's weights, from a seeded generator. */
function gaussianWeights(length: number, seed: number): Float32Array {
  let s = seed;
  const uniform = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) + 1) / (2 ** 32 + 1);
  return Float32Array.from({ length }, () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform()) * 0.02);
}

describe('block-wise quantization (MatMulNBits layout)', () => {
  /** Plain min/max quantization of one block (the range includes 0), as a reference: its squared error. */
  const minMaxError = (values: Float32Array, bits: 4 | 8) => {
    const qmax = (1 << bits) - 1;
    const min = Math.min(0, ...values);
    const max = Math.max(0, ...values);
    const scale = (max - min) / qmax;
    if (scale === 0) return 0;
    const zp = Math.round(-min / scale);
    return values.reduce((sum, v) => sum + (v - (Math.min(qmax, Math.max(0, Math.round(v / scale) + zp)) - zp) * scale) ** 2, 0);
  };

  it.each([4, 8] as const)('%i-bit: values in the block\'s range are within half a step, the rest clip to its ends, zero is exact, and no block does worse than min/max', (bits) => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 100 }),
        fc.constantFrom(16, 32, 64),
        fc.integer({ min: 0, max: 2 ** 31 }),
        (n, k, blockSize, seed) => {
          let s = seed;
          const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
          // Cubed uniforms: a heavy tail, like real weights.
          const rows = Float32Array.from({ length: n * k }, (_, i) => (i % 7 === 0 ? 0 : rand() ** 3 * 3));
          const q = quantizeBlockwise(rows, 'nk', n, k, bits, blockSize);
          expect(q.blocks).toBe(Math.ceil(k / blockSize));
          expect(q.data.length).toBe((n * q.blocks * blockSize * bits) / 8);
          expect(q.zeroPoints.length).toBe(n * Math.ceil((q.blocks * bits) / 8));
          const back = dequantizeBlockwise(q, bits, blockSize);
          const qmax = (1 << bits) - 1;
          for (let r = 0; r < n; r++) {
            for (let b = 0; b < q.blocks; b++) {
              const scale = q.scales[r * q.blocks + b]!;
              const zpByte = q.zeroPoints[r * Math.ceil((q.blocks * bits) / 8) + (bits === 4 ? b >> 1 : b)]!;
              const zp = bits === 4 ? (zpByte >> ((b & 1) * 4)) & 15 : zpByte;
              const [lo, hi] = [-zp * scale, (qmax - zp) * scale];
              const from = r * k + b * blockSize;
              const to = Math.min(r * k + k, from + blockSize);
              let err = 0;
              for (let i = from; i < to; i++) {
                const v = rows[i]!;
                const nearest = Math.min(hi, Math.max(lo, v));
                expect(Math.abs(back[i]! - nearest)).toBeLessThanOrEqual(scale / 2 + 1e-6);
                if (v === 0) expect(back[i]).toBe(0);
                err += (back[i]! - v) ** 2;
              }
              // Up to float32 rounding (of the stored scale and of each value rebuilt from it), which moves each value
              // by about |v|·2⁻²⁴ and so the squared error by up to 2·Σ|e·v|·2⁻²⁴ ≤ 2·√(err·Σv²)·2⁻²⁴: more than a
              // relative slack allows when a block's values sit almost on the grid.
              const reference = minMaxError(rows.subarray(from, to), bits);
              const sumSquares = rows.subarray(from, to).reduce((a, v) => a + v * v, 0);
              expect(err).toBeLessThanOrEqual(reference * (1 + 1e-3) + 8 * 2 ** -24 * Math.sqrt(reference * sumSquares) + 1e-12);
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('4-bit: searching each block\'s range beats plain min/max on Gaussian weights', () => {
    const n = 64;
    const k = 256;
    const rows = gaussianWeights(n * k, 7);
    for (const blockSize of [32, 128]) {
      const back = dequantizeBlockwise(quantizeBlockwise(rows, 'nk', n, k, 4, blockSize), 4, blockSize);
      const searched = back.reduce((sum, x, i) => sum + (x - rows[i]!) ** 2, 0);
      let plain = 0;
      for (let from = 0; from < rows.length; from += blockSize) plain += minMaxError(rows.subarray(from, from + blockSize), 4);
      expect(searched).toBeLessThan(plain * 0.95);
    }
  });

  it('defaults to blocks of 128, or the largest power of two from 16 that divides the model width', () => {
    expect(defaultBlockSize(2048)).toBe(128); // rinna/japanese-gpt-1b
    expect(defaultBlockSize(1600)).toBe(64); // gpt2-xl
    expect(defaultBlockSize(64)).toBe(64);
    expect(defaultBlockSize(96)).toBe(32);
  });

  it('packs 4-bit values low nibble first and zero points two per byte', () => {
    // One row, two blocks of 16: block 0 spans [-1, 14/15·…], block 1 is all 3.
    const rows = new Float32Array(32);
    for (let i = 0; i < 16; i++) rows[i] = i - 1; // min -1, max 14 → scale 1, zero point 1
    rows.fill(3, 16);
    const q = quantizeBlockwise(rows, 'nk', 1, 32, 4, 16);
    expect(q.scales[0]).toBeCloseTo(1, 6);
    expect(q.data[0]).toBe(0 | (1 << 4)); // values -1 → 0 and 0 → 1
    expect(q.data[7]).toBe(14 | (15 << 4));
    expect(q.scales[1]).toBeCloseTo(3 / 15, 6); // range [0, 3]
    expect(q.zeroPoints[0]).toBe(1 | (0 << 4));
    expect(q.data[8]).toBe(15 | (15 << 4));
  });

  it('rejects block sizes MatMulNBits cannot use', () => {
    expect(() => quantizeBlockwise(new Float32Array(48), 'nk', 1, 48, 4, 48)).toThrow(/power of two/);
    expect(() => quantizeBlockwise(new Float32Array(8), 'nk', 1, 8, 4, 8)).toThrow(/power of two/);
    // onnxruntime's MatMulNBits loads nothing past 256.
    expect(() => quantizeBlockwise(new Float32Array(512), 'nk', 1, 512, 4, 512)).toThrow(/from 16 to 256/);
    expect(() => quantizeBlockwise(new Float32Array(10), 'nk', 1, 8, 4, 16)).toThrow(/expected/);
  });

  it.each([4, 8] as const)('%i-bit: a [K, N] weight, in float32 or half bits, quantizes as its transpose does', (bits) => {
    // Sizes that cross the 64-row tiles and leave a partial last block.
    const k = 70;
    const n = 131;
    const kn = Float32Array.from({ length: k * n }, (_, i) => toHalfValue(Math.sin(i * 0.37) * (1 + (i % 5))));
    const nk = new Float32Array(k * n);
    for (let r = 0; r < k; r++) for (let c = 0; c < n; c++) nk[c * k + r] = kn[r * n + c]!;
    // Channel importance runs along K in both layouts.
    const options = { importance: Float32Array.from({ length: k }, (_, i) => 1 + (i % 3) * 10) };
    const expected = quantizeBlockwise(nk, 'nk', n, k, bits, 32, options);
    expect(quantizeBlockwise(kn, 'kn', n, k, bits, 32, options)).toEqual(expected);
    expect(quantizeBlockwise(Uint16Array.from(kn, toHalf), 'kn', n, k, bits, 32, options)).toEqual(expected);
    expect(quantizeBlockwise(Uint16Array.from(nk, toHalf), 'nk', n, k, bits, 32, options)).toEqual(expected);
    if (bits === 4) expect(quantizeBlockwise(nk, 'nk', n, k, bits, 32)).not.toEqual(expected);
  });

  it('4-bit: channel importance moves the error to the channels that matter less', () => {
    const n = 64;
    const k = 256;
    const rows = gaussianWeights(n * k, 11);
    // A few loud channels, as in a trained model's activations.
    const importance = Float32Array.from({ length: k }, (_, i) => (i % 16 === 3 ? 50 : 1));
    const weightedError = (back: Float32Array) => back.reduce((sum, x, i) => sum + importance[i % k]! * (x - rows[i]!) ** 2, 0);
    for (const blockSize of [32, 128]) {
      const plain = weightedError(dequantizeBlockwise(quantizeBlockwise(rows, 'nk', n, k, 4, blockSize), 4, blockSize));
      const aware = weightedError(dequantizeBlockwise(quantizeBlockwise(rows, 'nk', n, k, 4, blockSize, { importance }), 4, blockSize));
      expect(aware).toBeLessThan(plain * 0.9);
    }
    expect(() => quantizeBlockwise(rows, 'nk', n, k, 4, 32, { importance: new Float32Array(k - 1) })).toThrow(/channel weights/);
  });

  it('4-bit: the fitted search beats the range search on Gaussian weights; both are deterministic', () => {
    const n = 64;
    const k = 256;
    const rows = gaussianWeights(n * k, 5);
    const error = (search: 'fitted' | 'range') => {
      const q = quantizeBlockwise(rows, 'nk', n, k, 4, 128, { search });
      expect(quantizeBlockwise(rows, 'nk', n, k, 4, 128, { search })).toEqual(q);
      return dequantizeBlockwise(q, 4, 128).reduce((sum, x, i) => sum + (x - rows[i]!) ** 2, 0);
    };
    expect(error('fitted')).toBeLessThan(error('range'));
  });
});

describe('nibbles repacked across rows (ONNX uint4)', () => {
  it('holds the same values in row order, two per byte, the first low', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 9 }), fc.nat(), (rows, perRow, seed) => {
        const values = Array.from({ length: rows * perRow }, (_, i) => (seed * 7 + i * 13) % 16);
        // Padded rows, as MatMulNBits stores zero points.
        const rowBytes = Math.ceil(perRow / 2);
        const padded = new Uint8Array(rows * rowBytes);
        values.forEach((v, i) => {
          const r = Math.floor(i / perRow), j = i % perRow;
          padded[r * rowBytes + (j >> 1)]! |= v << ((j & 1) * 4);
        });
        const packed = packNibblesAcrossRows(padded, rows, perRow);
        expect(packed.length).toBe(Math.ceil((rows * perRow) / 2));
        expect(Array.from({ length: rows * perRow }, (_, i) => (packed[i >> 1]! >> ((i & 1) * 4)) & 15)).toEqual(values);
      }),
    );
  });
});
