/**
 * The KV cache of a session that runs the device graph (`device.onnx`, the `device` layout in
 * model/convert/gpt2-graph.ts): every layer's key and value is one tensor with the whole context's room,
 * `[rows, heads, nPositions, headDim]`, which GroupQueryAttention writes at each row's length and reads no further.
 * A tensor therefore keeps one size for its life, a cut is only a shorter length, and only a choice of rows
 * (alternatives dropping a finished row, or the prompt copied into each row) runs a small graph on the device
 * (`DeviceKvOps`).
 *
 * Where the tensors live, and what onnxruntime-node 1.30 allows there:
 * - WebGPU: the `present.*` outputs are bound to GPU buffers (`preferredOutputLocation`) and fed back as the next
 *   step's `past_key_values.*`, so no key or value crosses into JavaScript. Binding `present` to the very buffer of
 *   `past` (GroupQueryAttention's in-place mode) is what onnxruntime's IO binding does in C++ and Python, but 1.30's
 *   Node binding binds every device output to a fresh allocation and ignores a preallocated one (checked: the
 *   tensor passed as the output is left as it was). Each step's presents are therefore new tensors of the same size,
 *   which the provider's buffer cache serves from the buffers the previous step released. The same binding cannot
 *   read a device tensor back (`getData()` aborts the process) nor make one from JavaScript, so WebGPU's graph
 *   capture (`enableGraphCapture`, which needs every input and output bound on the device, and the in-place cache)
 *   is out of reach from Node 1.30.
 * - CPU (the same graph, for tests and the bench): preallocated outputs are honoured in host memory, so the cache is
 *   written in place, as GroupQueryAttention's shared-buffer mode intends.
 */
import type * as OrtModule from 'onnxruntime-node';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { GraphBuilder } from '../model/convert/graph';
import type { Manifest } from '../model/format/manifest';
import type { Kv } from './kv-cache';
import type { ExecutionProvider } from './session';

/**
 * Every layer's key and value in layer order (key, value), as tensors the cache owns. It covers `base` positions of
 * the shared prompt it started from (0 for a prompt cache), then `length` of its own; `tensors` may still hold rows
 * in another order until `DeviceKvOps.prepare` (`pendingRows`), and positions past `base + length` that mean nothing.
 */
export class DeviceKvCache implements Kv {
  length = 0;
  base = 0;
  tensors: Tensor[] | null = null;
  /** Rows of `tensors` to keep, in order, at the next step (null: all of them, as they are). */
  pendingRows: number[] | null = null;

  constructor(
    readonly rows: number,
    readonly capacity: number,
  ) {}

  truncate(length: number): void {
    if (length > this.length) throw new RangeError(`cannot truncate a cache of ${this.length} positions to ${length}`);
    this.length = length;
  }

  /** Moves the tensors into a cache of the chosen rows: this one is empty afterwards. */
  selectRows(rows: number[], capacity: number): DeviceKvCache {
    const out = new DeviceKvCache(rows.length, capacity);
    out.length = this.length;
    out.base = this.base;
    out.tensors = this.tensors;
    // Before its first step a cache holds nothing to choose from: its rows are made from the shared prompt then.
    if (this.tensors) out.pendingRows = this.pendingRows ? rows.map((r) => this.pendingRows![r]!) : rows;
    this.tensors = null;
    this.pendingRows = null;
    return out;
  }

  /** Takes over the tensors of `other`, a cache that started from this one's positions and holds them too. */
  extend(other: Kv): void {
    if (!(other instanceof DeviceKvCache) || other.rows !== this.rows) throw new RangeError('a device cache extends only a device cache of as many rows');
    if (other.base !== this.length) throw new RangeError(`a device cache that starts after ${other.base} positions cannot extend one of ${this.length}`);
    this.release();
    this.tensors = other.tensors;
    this.pendingRows = other.pendingRows;
    this.length += other.length;
    other.tensors = null;
    other.pendingRows = null;
  }

  release(): void {
    for (const t of this.tensors ?? []) t.dispose();
    this.tensors = null;
    this.pendingRows = null;
  }
}

/** The small device graph that gathers rows of every cache tensor, in one run, on the session's provider. */
export class DeviceKvOps {
  private session: Promise<InferenceSession> | null = null;

  constructor(
    private readonly ort: typeof OrtModule,
    private readonly manifest: Manifest,
    private readonly provider: ExecutionProvider,
  ) {}

  /** Applies a cache's pending row choice; afterwards its tensors hold exactly its rows. */
  async prepare(cache: DeviceKvCache): Promise<void> {
    const tensors = cache.tensors;
    if (!tensors || !cache.pendingRows) return;
    const identity = cache.pendingRows.length === tensors[0]!.dims[0] && cache.pendingRows.every((r, i) => r === i);
    if (!identity) {
      cache.tensors = await this.gather(tensors, cache.pendingRows);
      for (const t of tensors) t.dispose();
    }
    cache.pendingRows = null;
  }

  /** New tensors with `rows` of `tensors` (which stay as they are); repeats copy a row. */
  async gather(tensors: Tensor[], rows: number[]): Promise<Tensor[]> {
    const session = await (this.session ??= this.createSession());
    const feeds: Record<string, Tensor> = { rows: new this.ort.Tensor('int64', BigInt64Array.from(rows, BigInt), [rows.length]) };
    tensors.forEach((t, j) => (feeds[`in.${j}`] = t));
    const out = await session.run(feeds);
    return tensors.map((_, j) => out[`out.${j}`]!);
  }

  async release(): Promise<void> {
    if (this.session) await (await this.session).release();
    this.session = null;
  }

  private createSession(): Promise<InferenceSession> {
    const { nLayer, nHead, headDim, nPositions } = this.manifest.architecture;
    const type = this.manifest.kvType;
    const g = new GraphBuilder();
    const rows = g.input({ name: 'rows', type: 'int64', shape: ['selected'] });
    for (let j = 0; j < 2 * nLayer; j++) {
      const t = g.input({ name: `in.${j}`, type, shape: ['rows', nHead, nPositions, headDim] });
      g.node('Gather', [t, rows], { axis: 0 }, { outputs: [`out.${j}`] });
      g.output({ name: `out.${j}`, type, shape: ['selected', nHead, nPositions, headDim] });
    }
    return this.ort.InferenceSession.create(g.encode({ name: 'kv-rows', dataFile: '', opset: 17, producer: 'tsuzuki' }), {
      executionProviders: this.provider === 'cpu' ? ['cpu'] : [this.provider, 'cpu'],
      ...(this.provider === 'webgpu' ? { preferredOutputLocation: 'gpu-buffer' as const } : {}),
    });
  }
}
