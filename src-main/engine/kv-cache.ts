/**
 * The KV cache in the layout of the runtime graph (see `GraphLayout` in model/convert/gpt2-graph.ts) and the prompt cache
 * kept between requests (prefix reuse).
 */

/** What the generator does with a cache, wherever it lives: host memory (`KvCache`) or a GPU (`DeviceKvCache`). */
export interface Kv {
  readonly rows: number;
  readonly capacity: number;
  /** Positions of its own (a decode row's cache starts after a shared prompt's). */
  readonly length: number;
  truncate(length: number): void;
  /** A cache of the given rows (indices into this one, repeats allowed) with room for `capacity` positions. */
  selectRows(rows: number[], capacity: number): Kv;
  /** Appends the positions of `other`, a cache of as many rows that continued this one. */
  extend(other: Kv): void;
  /** Frees what the garbage collector cannot see (device memory); the cache is empty afterwards. */
  release(): void;
}

export type CacheData = Float32Array | Uint16Array;
export type KvType = 'float32' | 'float16';

export interface CacheShape {
  nLayer: number;
  nHead: number;
  headDim: number;
}

/**
 * Every layer's keys and values, position-major `[1 + capacity, rows, heads, headDim]`: a zero position the
 * session masks out, then `length` filled positions. A step appends in place; the filled part is one contiguous
 * span that the session hands to onnxruntime as a view, without a copy. Buffers are allocated once at full
 * capacity: the pages past `length` are never touched, so they cost address space, not memory.
 * The masked first position exists because onnxruntime 1.30's FusedMatMul (which reads this layout in place)
 * dies of a division by zero on an empty past.
 */
export class KvCache implements Kv {
  length = 0;
  /** Elements per position: `rows × heads × headDim`. */
  readonly stride: number;

  private constructor(
    readonly type: KvType,
    readonly rows: number,
    readonly capacity: number,
    readonly shape: CacheShape,
    readonly layers: { key: CacheData; value: CacheData }[],
  ) {
    this.stride = rows * shape.nHead * shape.headDim;
  }

  static create(shape: CacheShape, type: KvType, rows: number, capacity: number): KvCache {
    const size = (1 + capacity) * rows * shape.nHead * shape.headDim;
    const make = () => (type === 'float16' ? new Uint16Array(size) : new Float32Array(size));
    return new KvCache(type, rows, capacity, shape, Array.from({ length: shape.nLayer }, () => ({ key: make(), value: make() })));
  }

  /** The masked position and the filled ones of one tensor, as a view: `[1 + length, rows, heads, headDim]`. */
  filled(layer: number, which: 'key' | 'value'): CacheData {
    return this.layers[layer]![which].subarray(0, (1 + this.length) * this.stride);
  }

  /**
   * Appends one step's keys and values (`[seq, rows, heads, headDim]` per layer, in layer order) and advances
   * `length` by `seq`.
   */
  append(steps: { key: CacheData; value: CacheData }[], seq: number): void {
    if (this.length + seq > this.capacity) {
      throw new RangeError(`KV cache full: ${this.length} + ${seq} positions exceed its capacity of ${this.capacity}`);
    }
    const at = (1 + this.length) * this.stride;
    steps.forEach((step, i) => {
      this.layers[i]!.key.set(step.key, at);
      this.layers[i]!.value.set(step.value, at);
    });
    this.length += seq;
  }

  /** Appends every filled position of `other`, a cache of as many rows. */
  extend(other: Kv): void {
    if (!(other instanceof KvCache) || other.rows !== this.rows) throw new RangeError(`cannot extend a cache of ${this.rows} rows by one of ${other.rows}`);
    const span = (from: CacheData) => from.subarray(this.stride, (1 + other.length) * this.stride);
    this.append(other.layers.map((l) => ({ key: span(l.key), value: span(l.value) })), other.length);
  }

  /** Forgets the positions from `length` on (they are overwritten by the next step). */
  truncate(length: number): void {
    if (length > this.length) throw new RangeError(`cannot truncate a cache of ${this.length} positions to ${length}`);
    this.length = length;
  }

  /**
   * A new cache holding `rows` (indices into this one, repeats allowed) with room for `capacity` positions: one
   * prompt fanned out to `n` alternatives, or finished alternatives dropped.
   */
  selectRows(rows: number[], capacity: number): KvCache {
    const out = KvCache.create(this.shape, this.type, rows.length, capacity);
    const span = this.shape.nHead * this.shape.headDim;
    this.layers.forEach((layer, l) => {
      for (const which of ['key', 'value'] as const) {
        const src = layer[which];
        const dst = out.layers[l]![which];
        for (let p = 1; p <= this.length; p++) {
          rows.forEach((row, r) => {
            const from = p * this.stride + row * span;
            dst.set(src.subarray(from, from + span), p * out.stride + r * span);
          });
        }
      }
    });
    out.length = this.length;
    return out;
  }

  /** Host memory is the garbage collector's. */
  release(): void {}
}

/** Length of the common prefix of two token sequences. */
export function commonPrefix(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/**
 * The tokens the model has seen last (batch 1), their KV cache and the logits after the last of them. A new prompt
 * that starts with a prefix of these tokens only needs the rest prefilled; one equal to them needs no forward pass
 * at all before the first token. The cache is shared with the generator, which appends to it; `set` keeps the
 * tokens in step.
 */
export class PromptCache {
  private tokens: number[] = [];
  private cache: Kv | null = null;
  private lastLogits: Float32Array | null = null;

  get length(): number {
    return this.tokens.length;
  }

  /**
   * What can be reused for `ids`: the cache to continue from, cut to the `reused` positions it shares with `ids`
   * (null when nothing), and, when `ids` is exactly the cached prompt, the logits of its last token.
   */
  reuse(ids: number[]): { cache: Kv | null; reused: number; logits: Float32Array | null } {
    const common = commonPrefix(ids, this.tokens);
    if (!this.cache || common === 0) return { cache: null, reused: 0, logits: null };
    if (common === ids.length && common === this.tokens.length && this.lastLogits) {
      return { cache: this.cache, reused: common, logits: this.lastLogits };
    }
    // At least one token must be run to get logits for the next one.
    const reused = Math.min(common, ids.length - 1);
    if (reused === 0) return { cache: null, reused: 0, logits: null };
    this.cache.truncate(reused);
    this.tokens.length = reused;
    this.lastLogits = null;
    return { cache: this.cache, reused, logits: null };
  }

  /** `tokens` are the positions `cache` holds; `lastLogits` follow the last of them. */
  set(tokens: number[], cache: Kv, lastLogits: Float32Array): void {
    if (tokens.length !== cache.length || cache.rows !== 1) throw new RangeError('the prompt cache holds one row, one position per token');
    if (this.cache !== cache) this.cache?.release();
    this.tokens = tokens.slice();
    this.cache = cache;
    this.lastLogits = lastLogits;
  }

  clear(): void {
    this.cache?.release();
    this.tokens = [];
    this.cache = null;
    this.lastLogits = null;
  }
}
