/**
 * The WebGPU session: the device graph with its fixed-size KV cache kept on the GPU (see engine/device-kv-cache.ts). Runs
 * where a WebGPU adapter exists — on the CI machines Mesa's software Vulkan driver, lavapipe — and is skipped,
 * saying why, where none does.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Tensor } from 'onnxruntime-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadModel } from '../../../src-main/engine/device';
import { DeviceKvCache } from '../../../src-main/engine/device-kv-cache';
import { Generator } from '../../../src-main/engine/generator';
import { DecoderSession } from '../../../src-main/engine/session';
import { argmax, golden, maxAbsDiff } from '../model/golden';
import { convertTiny, greedy, TINY_SPECIAL, tinyRequest, type TinyModel } from './tiny-model';
import { webgpuSkipReason } from '../../helpers/webgpu';

const noAdapter = await webgpuSkipReason();

const bin = fileURLToPath(new URL('../../../bin/tsuzuki.js', import.meta.url));

const special = TINY_SPECIAL;
const request = tinyRequest;

describe('the WebGPU session', () => {
  let model: TinyModel;
  let gpu: DecoderSession;
  beforeEach(({ skip }) => skip(noAdapter !== null, noAdapter ?? undefined));
  beforeAll(async () => {
    if (noAdapter) return;
    model = await convertTiny();
    gpu = await DecoderSession.load(model.dir, { executionProvider: 'webgpu', threads: 1 });
  });
  afterAll(async () => {
    await gpu?.release();
    await model?.dispose();
  });

  it('decodes greedily as the float64 reference does, token for token', async () => {
    const gen = new Generator(gpu, special);
    for (const entry of golden.weights.fp32) {
      const { alternatives } = await gen.generate(request({ promptIds: entry.ids, sampling: greedy, maxNewTokens: entry.greedy.length }));
      expect(alternatives[0]!.ids).toEqual(entry.greedy);
    }
  });

  it('gives the reference logits through `tsuzuki logits --device webgpu`', async () => {
    const entry = golden.weights.fp32[2]!;
    const { stdout } = await promisify(execFile)(process.execPath, [bin, 'logits', '--model', model.dir, '--device', 'webgpu', '--ids', entry.ids.join(',')], { maxBuffer: 64 << 20 });
    const out = JSON.parse(stdout);
    expect(out.executionProvider).toBe('webgpu');
    expect(maxAbsDiff(out.results[0].logits, entry.logits)).toBeLessThan(1e-3);
  });

  it('keeps the keys and values in GPU buffers from step to step', async () => {
    const ids = golden.weights.fp32[1]!.ids;
    const first = await gpu.forward({ ids: [ids], attentionMask: [ids.map(() => 1)], positionIds: [ids.map((_, i) => i)], logitsToKeep: 1 });
    const cache = first.cache as DeviceKvCache;
    expect(cache).toBeInstanceOf(DeviceKvCache);
    expect(cache.tensors!.every((t) => t.location === 'gpu-buffer')).toBe(true);
    const before = cache.tensors!;
    const next = await gpu.forward({ ids: [[5]], attentionMask: [[...ids, 5].map(() => 1)], positionIds: [[ids.length]], cache, logitsToKeep: 1 });
    expect(next.cache).toBe(cache);
    // Every tensor has the whole context's room from the first step on.
    expect(cache.tensors![0]!.dims).toEqual([1, 4, gpu.manifest.architecture.nPositions, 16]);
    expect(cache.tensors![0]).not.toBe(before[0]);
    // The step's logits are the CPU's.
    const cpuFirst = await model.session.forward({ ids: [ids], attentionMask: [ids.map(() => 1)], positionIds: [ids.map((_, i) => i)], logitsToKeep: 1 });
    const cpuNext = await model.session.forward({ ids: [[5]], attentionMask: [[...ids, 5].map(() => 1)], positionIds: [[ids.length]], cache: cpuFirst.cache, logitsToKeep: 1 });
    expect(maxAbsDiff(next.logits, cpuNext.logits)).toBeLessThan(1e-4);
    cache.release();
    expect(cache.tensors).toBeNull();
  });

  it('an edit inside the cached prompt reuses the GPU cache up to the shared prefix', async () => {
    const promptIds = golden.weights.fp32[5]!.ids; // 120 tokens
    const cold = new Generator(gpu, special);
    await cold.prefill(promptIds);
    const coldLogits = cold.cache.reuse(promptIds).logits!;

    const warm = new Generator(gpu, special, { prefillChunk: 32 });
    await warm.prefill(promptIds.slice(0, 50));
    const edited = [...promptIds.slice(0, 40), 999, ...promptIds.slice(41, 50)];
    await warm.prefill(edited);
    const r = await warm.prefill(promptIds);
    expect(r).toMatchObject({ reusedTokens: 40, prefillTokens: 80 });
    expect(maxAbsDiff(warm.cache.reuse(promptIds).logits!, coldLogits)).toBeLessThan(1e-4);
  });

  it('alternatives — the prompt copied into each row on the GPU, stopped rows dropped there — equal the CPU’s', async () => {
    const cpu = new Generator(model.session, special);
    const gen = new Generator(gpu, special);
    const promptIds = golden.weights.fp32[4]!.ids;
    const probe = await cpu.generate(request({ promptIds, seed: 7, n: 3, maxNewTokens: 12 }));
    // A stop string from the second row's third token ends that row mid-way; from its first, before any step.
    for (const at of [2, 0]) {
      const stopStrings = [`<${probe.alternatives[1]!.ids[at]}>`];
      const expected = await cpu.generate(request({ promptIds, seed: 7, n: 3, maxNewTokens: 12, stopStrings }));
      const actual = await gen.generate(request({ promptIds, seed: 7, n: 3, maxNewTokens: 12, stopStrings }));
      expect(actual.alternatives).toEqual(expected.alternatives);
      expect(actual.alternatives[1]).toMatchObject({ finishReason: 'stop' });
      expect(actual.alternatives[1]!.ids.length).toBeLessThanOrEqual(at + 1);
    }
    // The prompt cache still ends where the alternatives' prompt did.
    expect(gen.cache.length).toBe(promptIds.length);
  });

  it('a continuation stays in the GPU cache: generating on from the accepted text prefills only its last token', async () => {
    const gen = new Generator(gpu, special);
    const promptIds = golden.weights.fp32[2]!.ids;
    const first = await gen.generate(request({ promptIds, sampling: greedy, maxNewTokens: 10 }));
    const accepted = [...promptIds, ...first.alternatives[0]!.ids];
    const next = await gen.generate(request({ promptIds: accepted, sampling: greedy, maxNewTokens: 10 }));
    expect(next.stats).toMatchObject({ reusedTokens: accepted.length - 1, prefillTokens: 1 });
    const onCpu = await new Generator(model.session, special).generate(request({ promptIds: accepted, sampling: greedy, maxNewTokens: 10 }));
    expect(next.alternatives[0]!.ids).toEqual(onCpu.alternatives[0]!.ids);
  });

  it('runs an fp16 model (the GPU precision) within 2 % of the reference logits’ scale', async () => {
    const half = await convertTiny('tiny-safetensors-fp16', 'fp16');
    const session = await DecoderSession.load(half.dir, { executionProvider: 'webgpu', threads: 1 });
    try {
      for (const entry of golden.weights.half) {
        const [row] = (await session.sequenceLogits([entry.ids]))[0]!;
        // WebGPU accumulates in fp16 where the CPU graph keeps float32 scores: within 2 % of the logits' scale
        // (the self-test allows a GPU 5 %), and the same most likely token.
        const scale = Math.max(...entry.logits.map(Math.abs));
        expect(maxAbsDiff(row!, entry.logits)).toBeLessThan(0.02 * scale + 0.02);
        expect(argmax(row!)).toBe(argmax(entry.logits));
      }
    } finally {
      await session.release();
      await half.dispose();
    }
  });

  // int4 is the CPU's precision, but a model converted for it runs on a GPU too: its embedding table is read by
  // GatherBlockQuantized, whose WebGPU kernel wants uint4 zero points shaped as the scales (block 32: two blocks a
  // row; block 64: one, the zero points repacked).
  it.each([32, 64])('runs an int4 model of blocks of %i, agreeing with the CPU as the self-test requires', async (blockSize) => {
    const int4 = await convertTiny('tiny-safetensors-fp32', 'int4', blockSize);
    try {
      const loaded = await loadModel(int4.dir, 'webgpu', { threads: 1 });
      await loaded.session.release();
      expect(loaded).toMatchObject({ device: 'webgpu', fallbackReason: null });
    } finally {
      await int4.dispose();
    }
  });

  it('frees every GPU buffer it no longer needs: afterwards only the prompt cache holds one', async () => {
    // Every cache tensor the session hands back, watched (a disposed tensor's location becomes 'none').
    const seen = new Set<Tensor>();
    const forward = gpu.forward.bind(gpu);
    const watched = Object.assign(Object.create(gpu) as DecoderSession, {
      forward: async (input: Parameters<DecoderSession['forward']>[0]) => {
        const out = await forward(input);
        for (const t of (out.cache as DeviceKvCache).tensors ?? []) seen.add(t);
        return out;
      },
    });
    const gen = new Generator(watched, special);
    const promptIds = golden.weights.fp32[4]!.ids;
    const probe = await gen.generate(request({ promptIds, seed: 7, n: 3, maxNewTokens: 8 }));
    await gen.generate(request({ promptIds, seed: 7, n: 3, maxNewTokens: 8, stopStrings: [`<${probe.alternatives[1]!.ids[1]}>`] }));
    await gen.generate(request({ promptIds: [...promptIds.slice(0, 20), 999], maxNewTokens: 8 })); // an edit: a cut
    const controller = new AbortController();
    await gen.generate(request({ promptIds, maxNewTokens: 30, signal: controller.signal, onDelta: () => controller.abort() }));
    const accepted = await gen.generate(request({ promptIds, maxNewTokens: 8 }));
    expect(accepted.alternatives[0]!.ids).toHaveLength(8);
    const live = [...seen].filter((t) => t.location === 'gpu-buffer');
    expect(live).toHaveLength(2 * gpu.manifest.architecture.nLayer);
    gen.cache.clear();
    expect([...seen].filter((t) => t.location === 'gpu-buffer')).toHaveLength(0);
  });

  it('refuses a cache from the host-memory session', async () => {
    await expect(gpu.forward({ ids: [[5]], attentionMask: [[1]], positionIds: [[0]], cache: model.session.newCache(1) })).rejects.toThrow(
      /continues only caches it made/,
    );
  });
});
