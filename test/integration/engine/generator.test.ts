import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Generator, type GenerationRequest } from '../../../src-main/engine/generator';
import { resolveSamplingParams } from '../../../src-main/engine/sampler';
import { golden, maxAbsDiff } from '../model/golden';
import { convertTiny, greedy, sampling, tagDecoder, TINY_SPECIAL, type TinyModel } from './tiny-model';

const special = TINY_SPECIAL;
const createDecoder = tagDecoder;

let model: TinyModel;
beforeAll(async () => {
  model = await convertTiny();
});
afterAll(async () => {
  await model?.dispose();
});

function request(partial: Partial<GenerationRequest> & Pick<GenerationRequest, 'promptIds'>): GenerationRequest {
  return { maxNewTokens: 20, sampling, seed: 1, n: 1, createDecoder, ...partial };
}

describe('generator on the tiny model', () => {
  it('greedy decoding equals the float64 reference token for token', async () => {
    const gen = new Generator(model.session, special);
    for (const entry of golden.weights.fp32) {
      const { alternatives } = await gen.generate(request({ promptIds: entry.ids, sampling: greedy }));
      expect(alternatives[0]!.ids).toEqual(entry.greedy);
      expect(alternatives[0]!.finishReason).toBe('length');
      expect(alternatives[0]!.text).toBe(entry.greedy.map((id) => `<${id}>`).join(''));
    }
  });

  it('the same seed gives the same tokens, another seed other tokens', async () => {
    const gen = new Generator(model.session, special);
    const promptIds = golden.weights.fp32[2]!.ids;
    const run = async (seed: number) => (await gen.generate(request({ promptIds, seed, maxNewTokens: 30 }))).alternatives[0]!.ids;
    const a = await run(11);
    // A fresh generator (cold cache) must agree with the warm one.
    const cold = await new Generator(model.session, special).generate(request({ promptIds, seed: 11, maxNewTokens: 30 }));
    expect(cold.alternatives[0]!.ids).toEqual(a);
    expect(await run(11)).toEqual(a);
    expect(await run(12)).not.toEqual(a);
  });

  it('several alternatives need sampling, as HF refuses num_return_sequences > 1 for greedy decoding', async () => {
    const gen = new Generator(model.session, special);
    const promptIds = golden.weights.fp32[2]!.ids;
    expect(() => gen.generate(request({ promptIds, sampling: greedy, n: 2 }))).toThrow(/Greedy decoding .* gives the same text every time: ask for one alternative, not 2/);
    expect(() => gen.generate(request({ promptIds, n: 1.5 }))).toThrow(/alternatives must be an integer from 1 to 8, got 1.5/);
  });

  it('n alternatives in one batch equal n separately seeded runs', async () => {
    const gen = new Generator(model.session, special);
    const promptIds = golden.weights.fp32[4]!.ids;
    const batched = await gen.generate(request({ promptIds, seed: 100, n: 3, maxNewTokens: 25 }));
    expect(batched.alternatives).toHaveLength(3);
    for (let i = 0; i < 3; i++) {
      const single = await gen.generate(request({ promptIds, seed: 100 + i, maxNewTokens: 25 }));
      expect(batched.alternatives[i]!.ids).toEqual(single.alternatives[0]!.ids);
    }
    // Different streams: the alternatives differ from each other.
    expect(new Set(batched.alternatives.map((a) => a.ids.join(','))).size).toBeGreaterThan(1);
  });

  it('alternatives that stop early leave the batch and the rest continue unchanged', async () => {
    const gen = new Generator(model.session, special);
    const promptIds = golden.weights.fp32[4]!.ids;
    // Stop strings built from the decoder's token text make some rows stop at different steps.
    const probe = await gen.generate(request({ promptIds, seed: 7, n: 3, maxNewTokens: 12 }));
    const stopAt = `<${probe.alternatives[1]!.ids[2]}>`;
    const batched = await gen.generate(request({ promptIds, seed: 7, n: 3, maxNewTokens: 12, stopStrings: [stopAt] }));
    for (let i = 0; i < 3; i++) {
      const single = await gen.generate(request({ promptIds, seed: 7 + i, maxNewTokens: 12, stopStrings: [stopAt] }));
      expect(batched.alternatives[i]).toEqual({ ...single.alternatives[0]!, index: i });
    }
    expect(batched.alternatives[1]!.finishReason).toBe('stop');
    expect(batched.alternatives[1]!.text.includes(stopAt)).toBe(false);
  });

  it('prefix reuse gives the same logits as a cold run', async () => {
    const promptIds = golden.weights.fp32[5]!.ids; // 120 tokens
    const cold = new Generator(model.session, special);
    await cold.prefill(promptIds);
    const coldLogits = (await cold.cache.reuse(promptIds)).logits!;

    const warm = new Generator(model.session, special, { prefillChunk: 32 });
    await warm.prefill(promptIds.slice(0, 50));
    // An edit inside the cached part: only the shared prefix (40 tokens) may be reused.
    const edited = [...promptIds.slice(0, 40), 999, ...promptIds.slice(41, 50)];
    await warm.prefill(edited);
    const r = await warm.prefill(promptIds);
    expect(r.reusedTokens).toBe(40);
    expect(r.prefillTokens).toBe(80);
    const warmLogits = (await warm.cache.reuse(promptIds)).logits!;
    // Equal up to float32 summation order: the runtime graph sums attention over the cached and the new positions
    // apart (see GraphLayout), so where the chunks split moves the last bits.
    expect(maxAbsDiff(warmLogits, coldLogits)).toBeLessThan(1e-5);
    // And the continuation from it is the same.
    const a = await cold.generate(request({ promptIds, sampling: greedy }));
    const b = await warm.generate(request({ promptIds, sampling: greedy }));
    expect(b.stats.prefillTokens).toBe(0);
    expect(b.alternatives[0]!.ids).toEqual(a.alternatives[0]!.ids);
    // Generating from a prefix of the cache reuses all but its last token.
    const c = await warm.generate(request({ promptIds: promptIds.slice(0, 60), sampling: greedy }));
    expect(c.stats.reusedTokens).toBe(59);
  });

  it('a continuation stays in the cache: generating on from the accepted text prefills nothing new but the last token', async () => {
    const gen = new Generator(model.session, special);
    const promptIds = golden.weights.fp32[2]!.ids;
    const first = await gen.generate(request({ promptIds, sampling: greedy, maxNewTokens: 10 }));
    const accepted = [...promptIds, ...first.alternatives[0]!.ids];
    // The last new token was sampled but never run through the model: it is all there is to prefill.
    const next = await gen.generate(request({ promptIds: accepted, sampling: greedy, maxNewTokens: 10 }));
    expect(next.stats.reusedTokens).toBe(accepted.length - 1);
    expect(next.stats.prefillTokens).toBe(1);
    const cold = await new Generator(model.session, special).generate(request({ promptIds: accepted, sampling: greedy, maxNewTokens: 10 }));
    expect(next.alternatives[0]!.ids).toEqual(cold.alternatives[0]!.ids);
    // Alternatives decode in copies: the prompt cache still ends where their prompt did.
    await gen.generate(request({ promptIds: accepted, n: 2, maxNewTokens: 5 }));
    expect(gen.cache.length).toBe(accepted.length);
  });

  it('cancellation takes effect within one decode step', async () => {
    const gen = new Generator(model.session, special);
    const controller = new AbortController();
    let deltas = 0;
    const result = await gen.generate(
      request({
        promptIds: golden.weights.fp32[3]!.ids,
        maxNewTokens: 200,
        signal: controller.signal,
        onDelta: () => {
          if (++deltas === 3) controller.abort();
        },
      }),
    );
    const alt = result.alternatives[0]!;
    expect(alt.finishReason).toBe('cancelled');
    expect(alt.ids.length).toBe(3);
  });

  it('a cancel that arrives during a prefill pass stops the prefill before the next pass', async () => {
    const promptIds = golden.weights.fp32[3]!.ids;
    expect(promptIds.length).toBeGreaterThan(6);
    const gen = new Generator(model.session, special, { prefillChunk: 2 });
    const controller = new AbortController();
    const forward = model.session.forward.bind(model.session);
    let passes = 0;
    // The second pass holds the event loop a little longer, as a long CPU pass does, while the cancel (a timer here,
    // a message from the main thread in the app) falls due.
    const spy = vi.spyOn(model.session, 'forward').mockImplementation(async (input) => {
      const out = await forward(input);
      if (++passes === 2) {
        setTimeout(() => controller.abort(), 0);
        const until = performance.now() + 5;
        while (performance.now() < until);
      }
      return out;
    });
    try {
      const result = await gen.generate(request({ promptIds, signal: controller.signal }));
      expect(result.alternatives[0]!.finishReason).toBe('cancelled');
      expect(passes).toBe(2);
      expect(gen.cache.length).toBe(4); // the passes' work stays for the next request
    } finally {
      spy.mockRestore();
    }
  });

  it('a new request cancels the running one', async () => {
    const gen = new Generator(model.session, special);
    const promptIds = golden.weights.fp32[3]!.ids;
    let first = 0;
    const running = gen.generate(request({ promptIds, maxNewTokens: 200, onDelta: () => void first++ }));
    while (first < 2) await new Promise((r) => setTimeout(r, 1));
    const second = await gen.generate(request({ promptIds, maxNewTokens: 5 }));
    const firstResult = await running;
    expect(firstResult.alternatives[0]!.finishReason).toBe('cancelled');
    expect(firstResult.alternatives[0]!.ids.length).toBeLessThan(200);
    expect(second.alternatives[0]!.ids).toHaveLength(5);
  });

  it('stops at EOS when min_new_tokens allows it, never before', async () => {
    const gen = new Generator(model.session, { ...special, eosIds: [golden.weights.fp32[2]!.greedy[3]!] });
    const promptIds = golden.weights.fp32[2]!.ids;
    const free = await gen.generate(request({ promptIds, sampling: greedy }));
    expect(free.alternatives[0]!.finishReason).toBe('eos');
    expect(free.alternatives[0]!.ids).toEqual(golden.weights.fp32[2]!.greedy.slice(0, 3));
    const forced = await gen.generate(request({ promptIds, sampling: resolveSamplingParams({ doSample: false, minNewTokens: 10 }) }));
    expect(forced.alternatives[0]!.ids.length).toBeGreaterThanOrEqual(10);
  });

  it('rejects prompts that do not fit', async () => {
    const gen = new Generator(model.session, special);
    expect(() => gen.generate(request({ promptIds: new Array(250).fill(5), maxNewTokens: 10 }))).toThrow(/exceeds the model's 256 positions/);
    expect(() => gen.generate(request({ promptIds: [] }))).toThrow(/no tokens/);
  });

  it('1,000 rapid start/cancel cycles: no crash, bounded memory', async () => {
    const gen = new Generator(model.session, special);
    const promptIds = golden.weights.fp32[4]!.ids;
    // Cancelled before it starts, during the prefill, or after a few decode steps.
    const cycle = async (i: number) => {
      const controller = new AbortController();
      let deltas = 0;
      const p = gen.generate(
        request({
          promptIds: [...promptIds, i % 50],
          seed: i,
          maxNewTokens: 50,
          signal: controller.signal,
          onDelta: () => void (++deltas === i % 4 && controller.abort()),
        }),
      );
      if (i % 4 === 0) controller.abort();
      else if (i % 8 === 1) setImmediate(() => controller.abort());
      return p;
    };
    for (let i = 0; i < 100; i++) await cycle(i);
    global.gc?.();
    const before = process.memoryUsage().rss;
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < 1000; i++) {
      // Half are cancelled explicitly, half by the next request.
      if (i % 2) pending.push(cycle(i));
      else pending.push(gen.generate(request({ promptIds: [...promptIds, i % 50], seed: i, maxNewTokens: 3 })));
    }
    const results = (await Promise.all(pending)) as Awaited<ReturnType<Generator['generate']>>[];
    expect(results.filter((r) => r.alternatives[0]!.finishReason === 'cancelled').length).toBeGreaterThanOrEqual(999);
    global.gc?.();
    const growth = process.memoryUsage().rss - before;
    expect(growth).toBeLessThan(200 * 1024 * 1024);
    // Still works afterwards.
    const after = await gen.generate(request({ promptIds, sampling: greedy }));
    expect(after.alternatives[0]!.ids).toEqual(golden.weights.fp32[4]!.greedy);
  });
});

describe('generator on the tiny model quantized to int4 (MatMulNBits)', () => {
  let int4: TinyModel;
  beforeAll(async () => {
    int4 = await convertTiny('tiny-safetensors-fp32', 'int4');
  });
  afterAll(async () => {
    await int4?.dispose();
  });

  it('batched alternatives still equal separately seeded runs', async () => {
    const gen = new Generator(int4.session, special);
    const promptIds = golden.weights.fp32[3]!.ids;
    for (const seed of [0, 10, 20]) {
      const batched = await gen.generate(request({ promptIds, seed, n: 3, maxNewTokens: 30 }));
      for (let i = 0; i < 3; i++) {
        const single = await gen.generate(request({ promptIds, seed: seed + i, maxNewTokens: 30 }));
        expect(batched.alternatives[i]!.ids).toEqual(single.alternatives[0]!.ids);
      }
    }
  });
});
