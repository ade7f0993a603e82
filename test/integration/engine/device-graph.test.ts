/**
 * The device graph (`device.onnx`: a fixed-size KV cache written by GroupQueryAttention) against the runtime graph
 * the CPU runs, on the tiny model: the same logits over a prefill and 40 decode steps, after a prefix cut, with
 * three alternatives and after a cancel. It runs on the CPU provider everywhere and on WebGPU where an adapter
 * exists (on the CI machines Mesa's lavapipe); the WebGPU half is skipped, saying why, where none does.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DeviceKvCache } from '../../../src-main/engine/device-kv-cache';
import { Generator } from '../../../src-main/engine/generator';
import type { Kv } from '../../../src-main/engine/kv-cache';
import { DecoderSession, type ExecutionProvider } from '../../../src-main/engine/session';
import { argmax, golden, klDivergence, maxAbsDiff } from '../model/golden';
import { MANIFEST_FILE, type Manifest } from '../../../src-main/model/format/manifest';
import { convertTiny, TINY_SPECIAL, tinyRequest, type TinyModel } from './tiny-model';
import { webgpuSkipReason } from '../../helpers/webgpu';

const noAdapter = await webgpuSkipReason();

const special = TINY_SPECIAL;
const request = tinyRequest;
/** fp32 on both sides: the sums differ in order only. */
const TOLERANCE = 1e-4;

/** One step of `session` over `ids` at the end of `cache` (a fresh one when omitted); logits of the last position. */
async function step(session: DecoderSession, ids: number[], cache?: Kv) {
  const before = cache?.length ?? 0;
  const end = before + ids.length;
  return session.forward({
    ids: [ids],
    attentionMask: [Array<number>(end).fill(1)],
    positionIds: [ids.map((_, i) => before + i)],
    logitsToKeep: 1,
    ...(cache ? { cache } : {}),
  });
}

describe.each<ExecutionProvider>(['cpu', 'webgpu'])('the device graph on the %s provider', (provider) => {
  let model: TinyModel;
  let device: DecoderSession;
  const skipped = provider === 'webgpu' ? noAdapter : null;
  beforeEach(({ skip }) => skip(skipped !== null, skipped ?? undefined));
  beforeAll(async () => {
    if (skipped) return;
    model = await convertTiny();
    device = await DecoderSession.load(model.dir, { executionProvider: provider, graph: 'device', threads: 1 });
  });
  afterAll(async () => {
    await device?.release();
    await model?.dispose();
  });

  it('gives the runtime graph’s logits over a prefill of 120 tokens and 40 decode steps', async () => {
    const prompt = golden.weights.fp32[5]!.ids;
    let ours = await step(device, prompt);
    let theirs = await step(model.session, prompt);
    expect(maxAbsDiff(ours.logits, theirs.logits)).toBeLessThan(TOLERANCE);
    const cache = ours.cache as DeviceKvCache;
    const first = cache.tensors![0]!;
    const size = first.dims;
    expect(size).toEqual([1, 4, device.manifest.architecture.nPositions, 16]);
    for (let i = 0; i < 40; i++) {
      const next = argmax(theirs.logits);
      ours = await step(device, [next], ours.cache);
      theirs = await step(model.session, [next], theirs.cache);
      expect(maxAbsDiff(ours.logits, theirs.logits)).toBeLessThan(TOLERANCE);
    }
    // The tensors never change size; in host memory they are even the same tensors, written in place.
    expect(cache.length).toBe(prompt.length + 40);
    expect(cache.tensors!.every((t) => t.dims.join() === size.join())).toBe(true);
    if (provider === 'cpu') expect(cache.tensors![0]).toBe(first);
    cache.release();
    theirs.cache.release();
  });

  it('refuses padding and positions that do not follow the cache, which it cannot place', async () => {
    await expect(device.forward({ ids: [[5, 6]], attentionMask: [[0, 1]], positionIds: [[0, 1]] })).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(device.forward({ ids: [[5, 6]], attentionMask: [[1, 1]], positionIds: [[1, 2]] })).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(device.forward({ ids: [[5], [6]], attentionMask: [[1]], positionIds: [[0], [0]] })).rejects.toMatchObject({ code: 'invalid_argument' });
  });

  it('continues a cut cache as a fresh prefill of the same text does', async () => {
    const promptIds = golden.weights.fp32[5]!.ids;
    const cold = await step(model.session, promptIds);
    const warm = new Generator(device, special, { prefillChunk: 24 });
    await warm.prefill(promptIds.slice(0, 60));
    await warm.prefill([...promptIds.slice(0, 40), 999, ...promptIds.slice(41, 60)]);
    const r = await warm.prefill(promptIds);
    expect(r).toMatchObject({ reusedTokens: 40, prefillTokens: 80 });
    expect(maxAbsDiff(warm.cache.reuse(promptIds).logits!, cold.logits)).toBeLessThan(TOLERANCE);
    warm.cache.clear();
  });

  it('samples three alternatives as the runtime graph does, rows dropped as they stop', async () => {
    const promptIds = golden.weights.fp32[4]!.ids;
    const cpu = new Generator(model.session, special);
    const gen = new Generator(device, special);
    const probe = await cpu.generate(request({ promptIds, seed: 7, n: 3, maxNewTokens: 12 }));
    const stopStrings = [`<${probe.alternatives[1]!.ids[2]}>`];
    const expected = await cpu.generate(request({ promptIds, seed: 7, n: 3, maxNewTokens: 12, stopStrings }));
    const actual = await gen.generate(request({ promptIds, seed: 7, n: 3, maxNewTokens: 12, stopStrings }));
    expect(actual.alternatives).toEqual(expected.alternatives);
    expect(actual.alternatives[1]).toMatchObject({ finishReason: 'stop' });
    gen.cache.clear();
  });

  it('in fp16, stays close to the fp32 runtime graph’s distributions over 64 positions (mean KL)', async () => {
    // The same half-precision weights, computed in fp16 on the device graph and in fp32 on the runtime graph.
    const half = await convertTiny('tiny-safetensors-fp16', 'fp16');
    const full = await convertTiny('tiny-safetensors-fp16', 'fp32');
    const session = await DecoderSession.load(half.dir, { executionProvider: provider, graph: 'device', threads: 1 });
    try {
      const ids = [...golden.weights.fp32[5]!.ids.slice(0, 60), ...golden.weights.fp32[3]!.ids.slice(0, 4)];
      const [ours] = await session.sequenceLogits([ids], { allPositions: true });
      const [reference] = await full.session.sequenceLogits([ids], { allPositions: true });
      const kl = ours!.reduce((sum, row, t) => sum + klDivergence(reference![t]!, row), 0) / ids.length;
      // Measured: 8.5e-6 nats on the CPU; 2.5e-4 on lavapipe, whose fp16 kernels round more (the Optimum graph that
      // WebGPU ran before gave 2.7e-4 there). The 2e-4 is a real GPU's target on rinna's shapes.
      expect(kl).toBeLessThan(provider === 'cpu' ? 2e-5 : 3e-4);
    } finally {
      await session.release();
      await Promise.all([half.dispose(), full.dispose()]);
    }
  });

  it('generates after a cancelled generation as it would have without it', async () => {
    const promptIds = golden.weights.fp32[3]!.ids;
    const gen = new Generator(device, special);
    const controller = new AbortController();
    let deltas = 0;
    const cancelled = await gen.generate(
      request({ promptIds, maxNewTokens: 30, signal: controller.signal, onDelta: () => ++deltas === 5 && controller.abort() }),
    );
    expect(cancelled.alternatives[0]).toMatchObject({ finishReason: 'cancelled' });
    expect(cancelled.alternatives[0]!.ids.length).toBeLessThan(30);
    const after = await gen.generate(request({ promptIds, seed: 3, maxNewTokens: 20 }));
    const fresh = await new Generator(model.session, special).generate(request({ promptIds, seed: 3, maxNewTokens: 20 }));
    expect(after.alternatives).toEqual(fresh.alternatives);
    gen.cache.clear();
  });
});

describe('a model folder without the device graph', () => {
  it('is refused for the device graph with what to do, and still runs on the CPU', async () => {
    const model = await convertTiny();
    try {
      const file = join(model.dir, MANIFEST_FILE);
      const { deviceGraph: _, ...older } = JSON.parse(await readFile(file, 'utf8')) as Manifest;
      await writeFile(file, JSON.stringify(older));
      await expect(DecoderSession.load(model.dir, { graph: 'device', threads: 1 })).rejects.toMatchObject({
        code: 'unsupported',
        message: expect.stringContaining('Convert it again to run it on a GPU'),
      });
      const cpu = await DecoderSession.load(model.dir, { threads: 1 });
      await cpu.release();
    } finally {
      await model.dispose();
    }
  });
});
