import { Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { cacheBytes, commonPrefix, PromptCache, sliceCache } from '../../../src-main/engine/kv-cache';
import type { PastKeyValues } from '../../../src-main/engine/session';

/** A cache whose value at [b, h, t, d] encodes its coordinates, so copies can be checked element by element. */
function cache(batch: number, heads: number, length: number, headDim: number, layers = 2, half = false): PastKeyValues {
  const make = (layer: number, kv: number) => {
    const n = batch * heads * length * headDim;
    const data = half ? new Uint16Array(n) : new Float32Array(n);
    let i = 0;
    for (let b = 0; b < batch; b++) for (let h = 0; h < heads; h++) for (let t = 0; t < length; t++) for (let d = 0; d < headDim; d++) {
      data[i++] = layer * 10000 + kv * 5000 + b * 1000 + h * 100 + t * 3 + d;
    }
    return half ? new Tensor('float16', data as Uint16Array, [batch, heads, length, headDim]) : new Tensor('float32', data as Float32Array, [batch, heads, length, headDim]);
  };
  return { layers: Array.from({ length: layers }, (_, l) => ({ key: make(l, 0), value: make(l, 1) })), length };
}

describe('sliceCache', () => {
  it.each([false, true])('selects rows (with repeats) and a prefix of positions (float16: %s)', async (half) => {
    const past = cache(2, 3, 5, 2, 2, half);
    const out = await sliceCache(past, [1, 1, 0], 3);
    expect(out.length).toBe(3);
    for (const [l, layer] of out.layers.entries()) {
      for (const [kv, t] of [layer.key, layer.value].entries()) {
        expect(t.dims).toEqual([3, 3, 3, 2]);
        expect(t.type).toBe(half ? 'float16' : 'float32');
        const data = t.data as Float32Array | Uint16Array;
        let i = 0;
        for (const b of [1, 1, 0]) for (let h = 0; h < 3; h++) for (let p = 0; p < 3; p++) for (let d = 0; d < 2; d++) {
          expect(data[i++]).toBe(l * 10000 + kv * 5000 + b * 1000 + h * 100 + p * 3 + d);
        }
      }
    }
    expect(cacheBytes(out)).toBe(2 * 2 * 3 * 3 * 3 * 2 * (half ? 2 : 4));
  });
});

describe('PromptCache', () => {
  it('reuses the common prefix, never the whole prompt without its logits', async () => {
    const pc = new PromptCache();
    expect(await pc.reuse([1, 2, 3])).toEqual({ past: null, reused: 0, logits: null });
    const past = cache(1, 1, 4, 1);
    const logits = new Float32Array([0.5]);
    pc.set([1, 2, 3, 4], past, logits);
    // Same prompt: everything, with the logits.
    const same = await pc.reuse([1, 2, 3, 4]);
    expect(same).toMatchObject({ reused: 4, logits });
    expect(same.past).toBe(past);
    // Longer prompt: the whole cache, no copy.
    const longer = await pc.reuse([1, 2, 3, 4, 5]);
    expect(longer.reused).toBe(4);
    expect(longer.past).toBe(past);
    // Diverging prompt: a copy of the shared prefix.
    const edited = await pc.reuse([1, 2, 9, 4, 5]);
    expect(edited.reused).toBe(2);
    expect(edited.past!.length).toBe(2);
    expect(Array.from(edited.past!.layers[0]!.key.data as Float32Array)).toEqual([0, 3]);
    // A prefix of the cache: all but its last token (whose logits are needed).
    expect((await pc.reuse([1, 2, 3])).reused).toBe(2);
    expect((await pc.reuse([7])).reused).toBe(0);
    pc.clear();
    expect(pc.length).toBe(0);
  });

  it('commonPrefix', () => {
    expect(commonPrefix([1, 2, 3], [1, 2, 4])).toBe(2);
    expect(commonPrefix([], [1])).toBe(0);
    expect(commonPrefix([1, 2], [1, 2])).toBe(2);
  });
});
