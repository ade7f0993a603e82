/**
 * The memory-bandwidth bound of decoding on the CPU. One decode step reads every weight once, plus the keys and
 * values of the context, so tokens/s can never exceed bandwidth / bytes read per step. The benchmark measures the
 * bandwidth in the same run, because on a shared machine it moves with the neighbours (25–55 GB/s on the same
 * 2-core kind): a speed means little without the bound it was measured against.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GraphBuilder } from '../model/convert/graph';
import { RUNTIME_FILE, type Manifest } from '../model/format/manifest';
import { decodeModel } from '../model/convert/onnx-proto';
import { loadOrt } from './session';

export interface Bandwidth {
  /** GB/s (10^9 bytes) of the median and of the fastest run. */
  medianGBs: number;
  bestGBs: number;
}

/** Ops that read one row of their table per token (the embeddings), not the whole table. */
const LOOKUP_OPS = new Set(['Gather', 'GatherBlockQuantized']);

/**
 * Bytes of weights one decode step reads: every weight of the runtime graph (the external data; the inline
 * constants are a few shape values), except the tables only looked up by token or position (a tied `wte` that the
 * lm_head reads counts in full).
 */
export async function weightBytesPerStep(dir: string): Promise<number> {
  const model = decodeModel(await readFile(join(dir, RUNTIME_FILE))) as {
    graph: {
      node: { op_type: string; input?: string[] }[];
      initializer: { name: string; external_data?: { key: string; value: string }[] }[];
    };
  };
  const readInFull = new Set<string>();
  for (const node of model.graph.node) {
    if (LOOKUP_OPS.has(node.op_type)) continue;
    for (const input of node.input ?? []) readInFull.add(input);
  }
  let bytes = 0;
  for (const t of model.graph.initializer) {
    const length = t.external_data?.find((e) => e.key === 'length')?.value;
    if (length !== undefined && readInFull.has(t.name)) bytes += Number(length);
  }
  return bytes;
}

/** Bytes of keys and values one decode step reads after `context` positions. */
export function kvBytesPerStep(manifest: Manifest, context: number): number {
  const { nLayer, nEmbd } = manifest.architecture;
  return 2 * nLayer * context * nEmbd * (manifest.kvType === 'float16' ? 2 : 4);
}

/**
 * The read bandwidth of this machine with `threads` threads, measured with onnxruntime's own float32 matrix-vector
 * product over a `megabytes` matrix (far larger than any cache): the same kernel family, threads and memory the
 * engine uses, so the figure is what a decode step can reach, not a synthetic peak.
 */
export async function measureBandwidth(threads: number, options: { megabytes?: number; runs?: number } = {}): Promise<Bandwidth> {
  const megabytes = options.megabytes ?? 256;
  const runs = options.runs ?? 9;
  const k = 4096;
  const n = Math.max(16, Math.floor((megabytes * 2 ** 20) / 4 / k));
  const g = new GraphBuilder();
  g.output({ name: 'y', type: 'float32', shape: [1, n] });
  g.node('MatMul', [g.input({ name: 'x', type: 'float32', shape: [1, k] }), g.input({ name: 'w', type: 'float32', shape: [k, n] })], {}, { outputs: ['y'] });
  const ort = await loadOrt();
  const session = await ort.InferenceSession.create(g.encode({ name: 'bandwidth', dataFile: '', opset: 17, producer: 'tsuzuki' }), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
  });
  try {
    // Written, not just allocated: untouched pages all map to one zero page, which reads from cache.
    const w = new Float32Array(k * n).fill(1 / k);
    const feeds = { x: new ort.Tensor('float32', new Float32Array(k).fill(1), [1, k]), w: new ort.Tensor('float32', w, [k, n]) };
    await session.run(feeds);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      await session.run(feeds);
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const gbs = (ms: number) => Math.round(w.byteLength / ms / 1e5) / 10;
    return { medianGBs: gbs(times[Math.floor(runs / 2)]!), bestGBs: gbs(times[0]!) };
  } finally {
    await session.release();
  }
}
