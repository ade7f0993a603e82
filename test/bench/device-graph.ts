/**
 * Part of `npm run bench -- engine --device webgpu`: the decode step of the device graph (`device.onnx`, a
 * fixed-size KV cache) against the step the engine ran on WebGPU before it — the Optimum graph (`model.onnx`), whose
 * cache grows by a concatenation into fresh buffers every step, fed back as the next step's past — on the same
 * converted model, one session loaded at a time, in A B B A rounds. Runs on any WebGPU adapter; on a software one
 * (lavapipe) on a model with rinna's 24 layers and 16 heads but a narrow width, where a step's cost is mostly what the
 * host and the provider spend around the kernels, which is what the device graph cuts.
 */
import { join } from 'node:path';
import type { Tensor } from 'onnxruntime-node';
import { median } from '../../src-main/engine/benchmark';
import { DecoderSession, loadOrt } from '../../src-main/engine/session';
import { MODEL_FILE, readManifest } from '../../src-main/model/format/manifest';
import { VK_BUFFER_USAGE_STORAGE, readBufferLog } from '../helpers/vulkan-buffers';
import { RINNA_CONFIG } from './convert.bench';

/** A rinna-shaped model narrow enough for a software adapter: 24 layers, 16 heads of 32, 1024 positions. */
export const STEP_MODEL_CONFIG = { ...RINNA_CONFIG, n_embd: 512, n_inner: 2048, vocab_size: 2000 };

interface PathTimes {
  /** Median wall ms of a decode step after `contexts[i]` tokens. */
  msPerStep: number[];
  /** Storage buffers created per decode step (Vulkan buffer log; null where it is not enabled). */
  storageBuffersPerStep: number | null;
}
type Path = 'before' | 'after';

/** Runs in a child process: `rounds` A B B A rounds of both paths; medians over every round's steps. */
export async function compareDeviceGraph(dir: string, options: { contexts: number[]; steps: number; rounds: number }): Promise<object> {
  const samples: Record<Path, { ms: number[][]; buffers: number[] }> = {
    before: { ms: options.contexts.map(() => []), buffers: [] },
    after: { ms: options.contexts.map(() => []), buffers: [] },
  };
  const order: Path[] = [];
  for (let r = 0; r < options.rounds; r++) order.push(...(r % 2 === 0 ? (['before', 'after'] as const) : (['after', 'before'] as const)));
  for (const path of order) {
    const run = path === 'before' ? await optimumStepper(dir) : await deviceStepper(dir);
    try {
      for (const [i, context] of options.contexts.entries()) {
        await run.reset(context);
        await run.step(); // the first step after a prefill allocates what later steps reuse
        const created = await storageCreated();
        for (let s = 0; s < options.steps; s++) {
          const started = performance.now();
          await run.step();
          samples[path].ms[i]!.push(performance.now() - started);
        }
        const after = await storageCreated();
        if (created !== null && after !== null) samples[path].buffers.push((after - created) / options.steps);
      }
    } finally {
      await run.release();
    }
  }
  const summary = (path: Path): PathTimes => ({
    msPerStep: samples[path].ms.map((ms) => round(median(ms))),
    storageBuffersPerStep: samples[path].buffers.length ? round(median(samples[path].buffers), 2) : null,
  });
  const [before, after] = [summary('before'), summary('after')];
  return {
    contexts: options.contexts,
    steps: options.steps,
    rounds: options.rounds,
    before: { ...before, tokensPerSecond: before.msPerStep.map((ms) => round(1000 / ms, 2)) },
    after: { ...after, tokensPerSecond: after.msPerStep.map((ms) => round(1000 / ms, 2)) },
    /** Before's time per step over after's, per context: above 1 is faster now. */
    ratio: before.msPerStep.map((ms, i) => round(ms / after.msPerStep[i]!, 2)),
  };
}

interface Stepper {
  /** Starts over with a prompt of `context` tokens (prefilled). */
  reset(context: number): Promise<void>;
  /** One single-token decode step. */
  step(): Promise<void>;
  release(): Promise<void>;
}

const tokenAt = (i: number) => 5 + ((i * 37) % 1900);

/** The engine as it runs WebGPU now. */
async function deviceStepper(dir: string): Promise<Stepper> {
  const session = await DecoderSession.load(dir, { executionProvider: 'webgpu' });
  let cache = session.newCache(1);
  const forward = (ids: number[]) => {
    const before = cache.length;
    return session.forward({ ids: [ids], attentionMask: [Array<number>(before + ids.length).fill(1)], positionIds: [ids.map((_, i) => before + i)], logitsToKeep: 1, cache });
  };
  return {
    async reset(context) {
      cache.release();
      cache = session.newCache(1);
      await forward(Array.from({ length: context }, (_, i) => tokenAt(i)));
    },
    async step() {
      await forward([tokenAt(cache.length)]);
    },
    async release() {
      cache.release();
      await session.release();
    },
  };
}

/** The step the engine ran on WebGPU before the device graph: model.onnx, its presents kept on the GPU. */
async function optimumStepper(dir: string): Promise<Stepper> {
  const ort = await loadOrt();
  const manifest = await readManifest(dir);
  const { nLayer, nHead, headDim } = manifest.architecture;
  const presents = Array.from({ length: nLayer }, (_, i) => [`present.${i}.key`, `present.${i}.value`]).flat();
  const session = await ort.InferenceSession.create(join(dir, MODEL_FILE), {
    executionProviders: ['webgpu', 'cpu'],
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    preferredOutputLocation: Object.fromEntries(presents.map((name) => [name, 'gpu-buffer' as const])),
  });
  let past: Tensor[] = [];
  let length = 0;
  const int64 = (values: number[]) => new ort.Tensor('int64', BigInt64Array.from(values, BigInt), [1, values.length]);
  const forward = async (ids: number[]) => {
    const feeds: Record<string, Tensor> = {
      input_ids: int64(ids),
      attention_mask: int64(Array<number>(length + ids.length).fill(1)),
      position_ids: int64(ids.map((_, i) => length + i)),
    };
    presents.forEach((_, j) => {
      feeds[`past_key_values.${Math.floor(j / 2)}.${j % 2 ? 'value' : 'key'}`] =
        past[j] ?? (manifest.kvType === 'float16'
          ? new ort.Tensor('float16', new Uint16Array(0), [1, nHead, 0, headDim])
          : new ort.Tensor('float32', new Float32Array(0), [1, nHead, 0, headDim]));
    });
    const out = await session.run(feeds);
    for (const t of past) t.dispose();
    past = presents.map((name) => out[name]!);
    length += ids.length;
  };
  return {
    async reset(context) {
      for (const t of past) t.dispose();
      past = [];
      length = 0;
      await forward(Array.from({ length: context }, (_, i) => tokenAt(i)));
    },
    async step() {
      await forward([tokenAt(length)]);
    },
    async release() {
      for (const t of past) t.dispose();
      await session.release();
    },
  };
}

/** Storage buffers created so far in this process, where the bench started it with the Vulkan buffer log. */
async function storageCreated(): Promise<number | null> {
  const file = process.env.TSUZUKI_VK_BUFFER_LOG;
  if (!file) return null;
  return (await readBufferLog(file)).filter((r) => r.kind === 'create' && r.usage & VK_BUFFER_USAGE_STORAGE).length;
}

const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;
