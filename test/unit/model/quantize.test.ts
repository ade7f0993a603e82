import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { halfToFloatTable, toHalf } from '../../../src-main/model/half';

/** The float32 value nearest to `v` that half precision holds exactly. */
const toHalfValue = (v: number) => halfToFloatTable()[toHalf(v)]!;
import { dequantizeBlockwise, quantizeBlockwise } from '../../../src-main/model/quantize';

describe('block-wise quantization (MatMulNBits layout)', () => {
  it.each([4, 8] as const)('%i-bit: every value is within half a step of its block, and zero is exact', (bits) => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 100 }),
        fc.constantFrom(16, 32, 64),
        fc.integer({ min: 0, max: 2 ** 31 }),
        (n, k, blockSize, seed) => {
          let s = seed;
          const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
          const rows = Float32Array.from({ length: n * k }, (_, i) => (i % 7 === 0 ? 0 : rand() * 3));
          const q = quantizeBlockwise(rows, 'nk', n, k, bits, blockSize);
          expect(q.blocks).toBe(Math.ceil(k / blockSize));
          expect(q.data.length).toBe((n * q.blocks * blockSize * bits) / 8);
          expect(q.zeroPoints.length).toBe(n * Math.ceil((q.blocks * bits) / 8));
          const back = dequantizeBlockwise(q, bits, blockSize);
          for (let r = 0; r < n; r++) {
            for (let i = 0; i < k; i++) {
              const scale = q.scales[r * q.blocks + Math.floor(i / blockSize)]!;
              expect(Math.abs(back[r * k + i]! - rows[r * k + i]!)).toBeLessThanOrEqual(scale / 2 + 1e-6);
              if (rows[r * k + i] === 0) expect(back[r * k + i]).toBe(0);
            }
          }
        },
      ),
      { numRuns: 60 },
    );
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
    expect(() => quantizeBlockwise(new Float32Array(10), 'nk', 1, 8, 4, 16)).toThrow(/expected/);
  });

  it.each([4, 8] as const)('%i-bit: a [K, N] weight, in float32 or half bits, quantizes as its transpose does', (bits) => {
    // Sizes that cross the 64-row tiles and leave a partial last block.
    const k = 70;
    const n = 131;
    const kn = Float32Array.from({ length: k * n }, (_, i) => toHalfValue(Math.sin(i * 0.37) * (1 + (i % 5))));
    const nk = new Float32Array(k * n);
    for (let r = 0; r < k; r++) for (let c = 0; c < n; c++) nk[c * k + r] = kn[r * n + c]!;
    const expected = quantizeBlockwise(nk, 'nk', n, k, bits, 32);
    expect(quantizeBlockwise(kn, 'kn', n, k, bits, 32)).toEqual(expected);
    expect(quantizeBlockwise(Uint16Array.from(kn, toHalf), 'kn', n, k, bits, 32)).toEqual(expected);
    expect(quantizeBlockwise(Uint16Array.from(nk, toHalf), 'nk', n, k, bits, 32)).toEqual(expected);
  });
});
