import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildDoubleArray, DoubleArray } from '../../../src-main/tokenizer/double-array';

/** Longest key that is a prefix of query[pos..]: [length, value] by brute force. */
function brute(keys: Uint8Array[], values: number[], query: Uint8Array, pos: number): [number, number] {
  let best: [number, number] = [0, 0];
  keys.forEach((k, i) => {
    if (k.length > best[0] && k.length <= query.length - pos && k.every((b, j) => query[pos + j] === b)) {
      best = [k.length, values[i]!];
    }
  });
  return best;
}

describe('buildDoubleArray', () => {
  const byte = fc.oneof(fc.integer({ min: 1, max: 255 }), fc.constantFrom(0x80, 0x81, 0xe3, 0xe2, 0x96, 0x61));
  const key = fc.uint8Array({ minLength: 1, maxLength: 6 }).map((k) => k.map((b) => b || 1));
  it('finds exactly the longest key prefix for any byte string, NUL and malformed bytes included', () => {
    fc.assert(
      fc.property(fc.uniqueArray(key, { minLength: 1, maxLength: 300, selector: (k) => k.join(',') }), fc.array(fc.array(byte, { maxLength: 12 }), { maxLength: 30 }), fc.uint8Array({ maxLength: 8 }), (keys, queries, raw) => {
        const values = keys.map((_, i) => i * 7 + 1);
        const da = new DoubleArray(buildDoubleArray(keys, Int32Array.from(values)));
        // Keys with a NUL or a stray byte spliced in must not match the key.
        const spliced = keys.slice(0, 20).flatMap((k) => [0, 0x80, 0xff].map((b) => Uint8Array.from([...k.slice(0, 1), b, ...k.slice(1)])));
        const all = [...queries.map((q) => Uint8Array.from(q)), raw, ...keys.slice(0, 20), ...spliced];
        for (const q of all) {
          for (let pos = 0; pos < q.length; pos++) {
            const len = da.longestPrefix(q, pos, q.length);
            const [bl, bv] = brute(keys, values, q, pos);
            expect(len).toBe(bl);
            if (len > 0) expect(da.value).toBe(bv);
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it('builds a 30,000-key vocabulary', () => {
    const enc = new TextEncoder();
    const keys: Uint8Array[] = [];
    for (let i = 0; keys.length < 30000; i++) keys.push(enc.encode(String.fromCodePoint(0x3041 + (i % 2000), 0x4e00 + Math.floor(i / 2000) * 7, 0x61 + (i % 26))));
    const da = new DoubleArray(buildDoubleArray(keys, Int32Array.from(keys.keys())));
    for (let i = 0; i < keys.length; i += 997) {
      expect(da.longestPrefix(keys[i]!, 0, keys[i]!.length)).toBe(keys[i]!.length);
      expect(da.value).toBe(i);
    }
  });
});
