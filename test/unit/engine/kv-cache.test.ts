import { describe, expect, it } from 'vitest';
import { commonPrefix, KvCache, PromptCache } from '../../../src-main/engine/kv-cache';

/** A cache whose value at [layer, kv, position, row, head, d] encodes its coordinates, so copies can be checked element by element. */
function cache(rows: number, heads: number, length: number, headDim: number, layers = 2, half = false): KvCache {
  const c = KvCache.create({ nLayer: layers, nHead: heads, headDim }, half ? 'float16' : 'float32', rows, length + 2);
  for (let t = 0; t < length; t++) {
    const step = (layer: number, kv: number) => {
      const data = half ? new Uint16Array(rows * heads * headDim) : new Float32Array(rows * heads * headDim);
      let i = 0;
      for (let b = 0; b < rows; b++) for (let h = 0; h < heads; h++) for (let d = 0; d < headDim; d++) data[i++] = layer * 10000 + kv * 5000 + b * 1000 + h * 100 + t * 3 + d;
      return data;
    };
    c.append(Array.from({ length: layers }, (_, l) => ({ key: step(l, 0), value: step(l, 1) })), 1);
  }
  return c;
}

describe('KvCache', () => {
  it.each([false, true])('appends position-major, selects rows (with repeats) into a new cache (float16: %s)', (half) => {
    const past = cache(2, 3, 5, 2, 2, half);
    expect(past.length).toBe(5);
    // The masked zero position first, then the filled ones.
    expect(past.filled(0, 'key').length).toBe((1 + 5) * 2 * 3 * 2);
    const out = past.selectRows([1, 1, 0], 8);
    expect(out.length).toBe(5);
    expect(out.capacity).toBe(8);
    expect(out.type).toBe(half ? 'float16' : 'float32');
    for (let l = 0; l < 2; l++) {
      for (const [kv, which] of (['key', 'value'] as const).entries()) {
        const data = out.filled(l, which);
        expect(data).toBeInstanceOf(half ? Uint16Array : Float32Array);
        expect(Array.from(data.subarray(0, 3 * 3 * 2)).every((x) => x === 0)).toBe(true);
        let i = 3 * 3 * 2;
        for (let p = 0; p < 5; p++) for (const b of [1, 1, 0]) for (let h = 0; h < 3; h++) for (let d = 0; d < 2; d++) {
          expect(data[i++]).toBe(l * 10000 + kv * 5000 + b * 1000 + h * 100 + p * 3 + d);
        }
      }
    }
  });

  it('truncates in place and refuses to grow past its capacity', () => {
    const c = cache(1, 1, 3, 1);
    c.truncate(1);
    expect(Array.from(c.filled(0, 'key'))).toEqual([0, 0]);
    const step = () => [{ key: new Float32Array([42]), value: new Float32Array([43]) }, { key: new Float32Array([44]), value: new Float32Array([45]) }];
    c.append(step(), 1);
    expect(Array.from(c.filled(0, 'key'))).toEqual([0, 0, 42]);
    expect(Array.from(c.filled(1, 'value'))).toEqual([0, 15000, 45]);
    expect(() => c.truncate(3)).toThrow(RangeError);
    c.append(step(), 1);
    c.append(step(), 1);
    c.append(step(), 1);
    expect(() => c.append(step(), 1)).toThrow(/capacity of 5/);
  });
  it('extends by another cache of as many rows, which must fit', () => {
    const c = cache(1, 2, 2, 1);
    const more = cache(1, 2, 2, 1);
    c.extend(more);
    expect(c.length).toBe(4);
    // masked zero position, then two positions, then the same two again
    expect(Array.from(c.filled(1, 'value'))).toEqual([0, 0, 15000, 15100, 15003, 15103, 15000, 15100, 15003, 15103]);
    expect(() => c.extend(cache(2, 2, 1, 1))).toThrow(/rows/);
    expect(() => c.extend(cache(1, 2, 3, 1))).toThrow(/capacity/);
  });
});

describe('PromptCache', () => {
  it('reuses the common prefix, never the whole prompt without its logits', () => {
    const pc = new PromptCache();
    expect(pc.reuse([1, 2, 3])).toEqual({ cache: null, reused: 0, logits: null });
    const past = cache(1, 1, 4, 1);
    const logits = new Float32Array([0.5]);
    pc.set([1, 2, 3, 4], past, logits);
    // Same prompt: everything, with the logits.
    const same = pc.reuse([1, 2, 3, 4]);
    expect(same).toMatchObject({ reused: 4, logits });
    expect(same.cache).toBe(past);
    // Longer prompt: the whole cache, no copy.
    const longer = pc.reuse([1, 2, 3, 4, 5]);
    expect(longer.reused).toBe(4);
    expect(longer.cache).toBe(past);
    // Diverging prompt: the shared prefix, cut in place; the logits no longer apply.
    const edited = pc.reuse([1, 2, 9, 4, 5]);
    expect(edited.reused).toBe(2);
    expect(edited.cache).toBe(past);
    expect(past.length).toBe(2);
    expect(pc.length).toBe(2);
    expect(Array.from(past.filled(0, 'key'))).toEqual([0, 0, 3]);
    expect(pc.reuse([1, 2]).logits).toBeNull();
    // A prefix of the cache: all but its last token (whose logits are needed).
    expect(pc.reuse([1, 2]).reused).toBe(1);
    expect(pc.reuse([7]).reused).toBe(0);
    expect(() => pc.set([1, 2, 3], past, logits)).toThrow(RangeError);
    pc.clear();
    expect(pc.length).toBe(0);
  });

  it('commonPrefix', () => {
    expect(commonPrefix([1, 2, 3], [1, 2, 4])).toBe(2);
    expect(commonPrefix([], [1])).toBe(0);
    expect(commonPrefix([1, 2], [1, 2])).toBe(2);
  });
});
