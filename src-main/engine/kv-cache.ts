/**
 * The KV cache kept between requests (prefix reuse) and the copies the generator needs: a shorter prefix when a
 * new prompt diverges from the cached one, and a choice of batch rows (one prompt fanned out to `n` alternatives,
 * finished alternatives dropped). Tensors are `[batch, heads, length, headDim]`.
 */
import type { Tensor } from 'onnxruntime-node';
import type { PastKeyValues } from './session';

type TensorClass = typeof Tensor;
let tensorClass: Promise<TensorClass> | undefined;
/** onnxruntime stays a lazy import (see session.ts); the cache only exists once a session has loaded it. */
function loadTensorClass(): Promise<TensorClass> {
  tensorClass ??= import('onnxruntime-node').then((ort) => ort.Tensor);
  return tensorClass;
}

type CacheData = Float32Array | Uint16Array;

function copyTensor(T: TensorClass, t: Tensor, rows: number[], length: number): Tensor {
  const [, heads, oldLength, headDim] = t.dims as [number, number, number, number];
  const src = t.data as CacheData;
  const Ctor = src.constructor as new (n: number) => CacheData;
  const dst = new Ctor(rows.length * heads * length * headDim);
  const rowIn = heads * oldLength * headDim;
  const rowOut = heads * length * headDim;
  const span = length * headDim;
  rows.forEach((row, r) => {
    for (let h = 0; h < heads; h++) {
      const from = row * rowIn + h * oldLength * headDim;
      dst.set(src.subarray(from, from + span), r * rowOut + h * span);
    }
  });
  return new T(t.type as 'float32', dst as Float32Array, [rows.length, heads, length, headDim]);
}

/**
 * The cache of `rows` (indices into the batch, repeats allowed) and its first `length` positions. A full cache is
 * hundreds of MB, so the copy yields to the event loop after each layer instead of blocking it for the whole.
 */
export async function sliceCache(past: PastKeyValues, rows: number[], length = past.length): Promise<PastKeyValues> {
  const T = await loadTensorClass();
  const layers: PastKeyValues['layers'] = [];
  for (const layer of past.layers) {
    layers.push({ key: copyTensor(T, layer.key, rows, length), value: copyTensor(T, layer.value, rows, length) });
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return { layers, length };
}

/** Bytes held by a cache (for memory accounting in stats and the benchmark). */
export function cacheBytes(past: PastKeyValues): number {
  return past.layers.reduce((sum, l) => sum + (l.key.data as CacheData).byteLength + (l.value.data as CacheData).byteLength, 0);
}

/** Length of the common prefix of two token sequences. */
export function commonPrefix(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/**
 * The last prompt the model has seen (batch 1): its tokens, its KV cache and the logits after its last token.
 * A new prompt that starts with a prefix of these tokens only needs the rest prefilled; one equal to them needs
 * no forward pass at all before the first token.
 */
export class PromptCache {
  private tokens: number[] = [];
  private past: PastKeyValues | null = null;
  private lastLogits: Float32Array | null = null;

  get length(): number {
    return this.tokens.length;
  }

  /**
   * What can be reused for `ids`: the past to continue from (`reused` positions; null when nothing) and, when
   * `ids` is exactly the cached prompt, the logits of its last token.
   */
  async reuse(ids: number[]): Promise<{ past: PastKeyValues | null; reused: number; logits: Float32Array | null }> {
    const common = commonPrefix(ids, this.tokens);
    if (!this.past || common === 0) return { past: null, reused: 0, logits: null };
    if (common === ids.length && common === this.tokens.length && this.lastLogits) {
      return { past: this.past, reused: common, logits: this.lastLogits };
    }
    // At least one token must be run to get logits for the next one.
    const reused = Math.min(common, ids.length - 1);
    if (reused === 0) return { past: null, reused: 0, logits: null };
    const past = reused === this.past.length ? this.past : await sliceCache(this.past, [0], reused);
    return { past, reused, logits: null };
  }

  set(tokens: number[], past: PastKeyValues, lastLogits: Float32Array): void {
    this.tokens = tokens.slice();
    this.past = past;
    this.lastLogits = lastLogits;
  }

  clear(): void {
    this.tokens = [];
    this.past = null;
    this.lastLogits = null;
  }
}
