/**
 * The KV cache of a WebGPU session, kept on the GPU between steps. A WebGPU session runs the Optimum-layout graph
 * (`model.onnx`, whose attention is plain MatMuls that WebGPU runs; the runtime graph's FusedMatMul would fall back
 * to the CPU), and onnxruntime-node binds its `present.*` outputs to GPU buffers: they are the next step's
 * `past_key_values.*` as they are, so no key or value crosses into JavaScript. (onnxruntime-node 1.30 offers such
 * device outputs for WebGPU only, and cannot read them back: `getData()` on one aborts the process.)
 * Cutting positions (prefix reuse) and choosing rows (alternatives) therefore run as one small graph on the same
 * device, lazily, before the next step (`DeviceKvOps`).
 */
import type * as OrtModule from 'onnxruntime-node';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { GraphBuilder } from '../model/convert/graph';
import type { Manifest } from '../model/format/manifest';
import type { Kv } from './kv-cache';

/**
 * Every layer's key and value, `[rows, heads, positions, headDim]` in layer order (key, value), as tensors the
 * cache owns. It covers `base` positions of the shared prompt it started from (0 for a prompt cache), then `length`
 * of its own; `tensors` may still hold more positions, or rows in another order, until `DeviceKvOps.prepare`.
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

/** The small device graph that cuts every cache tensor to its first positions and gathers rows, in one run. */
export class DeviceKvOps {
  private session: Promise<InferenceSession> | null = null;

  constructor(
    private readonly ort: typeof OrtModule,
    private readonly manifest: Manifest,
  ) {}

  /** Applies a cache's pending cut and row choice on the device; afterwards its tensors hold exactly its positions. */
  async prepare(cache: DeviceKvCache): Promise<void> {
    const tensors = cache.tensors;
    if (!tensors) return;
    const positions = cache.base + cache.length;
    if (tensors[0]!.dims[2] === positions && !cache.pendingRows) return;
    const rows = cache.pendingRows ?? Array.from({ length: cache.rows }, (_, r) => r);
    cache.tensors = await this.cut(tensors, positions, rows);
    cache.pendingRows = null;
    for (const t of tensors) t.dispose();
  }

  /** New tensors with the first `positions` positions of `rows` of `tensors` (which stay as they are). */
  async cut(tensors: Tensor[], positions: number, rows: number[]): Promise<Tensor[]> {
    const session = await (this.session ??= this.createSession());
    const feeds: Record<string, Tensor> = {
      rows: new this.ort.Tensor('int64', BigInt64Array.from(rows, BigInt), [rows.length]),
      end: new this.ort.Tensor('int64', BigInt64Array.of(BigInt(positions)), [1]),
    };
    tensors.forEach((t, j) => (feeds[`in.${j}`] = t));
    const out = await session.run(feeds);
    return tensors.map((_, j) => out[`out.${j}`]!);
  }

  async release(): Promise<void> {
    if (this.session) await (await this.session).release();
    this.session = null;
  }

  private createSession(): Promise<InferenceSession> {
    const { nLayer, nHead, headDim } = this.manifest.architecture;
    const type = this.manifest.kvType;
    const g = new GraphBuilder();
    const rows = g.input({ name: 'rows', type: 'int64', shape: ['selected'] });
    const end = g.input({ name: 'end', type: 'int64', shape: [1] });
    const zero = g.constant('int64', [1], [0]);
    const positionAxis = g.constant('int64', [1], [2]);
    for (let j = 0; j < 2 * nLayer; j++) {
      const t = g.input({ name: `in.${j}`, type, shape: ['rows', nHead, 'positions', headDim] });
      const cut = g.op('Slice', [t, zero, end, positionAxis]);
      g.node('Gather', [cut, rows], { axis: 0 }, { outputs: [`out.${j}`] });
      g.output({ name: `out.${j}`, type, shape: ['selected', nHead, 'kept', headDim] });
    }
    return this.ort.InferenceSession.create(g.encode({ name: 'kv-cut', dataFile: '', opset: 17, producer: 'tsuzuki' }), {
      executionProviders: ['webgpu'],
      preferredOutputLocation: 'gpu-buffer',
    });
  }
}
