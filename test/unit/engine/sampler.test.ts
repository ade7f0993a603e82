import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  applyBannedTokens,
  applyMinNewTokens,
  applyRepetitionPenalty,
  applyTemperature,
  applyTopK,
  applyTopP,
  distribution,
} from '../../../src-main/engine/logits-processors';
import { Rng } from '../../../src-main/engine/rng';
import { resolveSamplingParams, TokenSampler, type SamplingParams } from '../../../src-main/engine/sampler';

const fixtures = new URL('../../fixtures/engine/', import.meta.url);
type Args = Record<string, unknown>;
interface ProcessorCase { name: string; kind: 'processor'; op: string; args: Args; input: string; output: string }
interface PipelineCase {
  name: string; kind: 'pipeline'; vocab: number; params: SamplingParams; promptIds: number[]; eosIds: number[];
  bannedIds: number[]; generated: number; input: string; keptIds: number[]; keptProbs: number[]; greedy: number;
  stages?: Record<string, string>;
}
const { cases } = JSON.parse(readFileSync(new URL('sampling.json', fixtures), 'utf8')) as { cases: (ProcessorCase | PipelineCase)[] };

function f32(base64: string): Float32Array {
  const bytes = Buffer.from(base64, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** Bitwise equality (so -0/+0 and -Infinity count), reported as the first differing index. */
function expectSameFloats(actual: Float32Array, expected: Float32Array, label: string): void {
  expect(actual.length, label).toBe(expected.length);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  const diff = a.findIndex((v, i) => v !== e[i]);
  expect(diff === -1 ? 'same' : `index ${diff}: ${actual[diff]} vs ${expected[diff]}`, label).toBe('same');
}

describe('logits processors equal the HF reference on fixed logits', () => {
  for (const c of cases.filter((c): c is ProcessorCase => c.kind === 'processor')) {
    it(c.name, () => {
      const s = f32(c.input);
      const num = (k: string) => c.args[k] as number;
      const ids = (k: string) => c.args[k] as number[];
      switch (c.op) {
        case 'topK': applyTopK(s, num('k'), num('minKeep')); break;
        case 'topP': applyTopP(s, num('p'), num('minKeep')); break;
        case 'repetition': applyRepetitionPenalty(s, [...new Set(ids('ids'))], num('penalty')); break;
        case 'temperature': applyTemperature(s, num('temperature')); break;
        case 'banned': applyBannedTokens(s, ids('ids')); break;
        case 'minNew': applyMinNewTokens(s, ids('eosIds'), num('generated'), num('minNewTokens')); break;
        default: throw new Error(`unknown op ${c.op}`);
      }
      expectSameFloats(s, f32(c.output), c.name);
    });
  }
});

describe('the sampler pipeline equals HF generate()', () => {
  for (const c of cases.filter((c): c is PipelineCase => c.kind === 'pipeline')) {
    it(c.name, () => {
      const special = { vocabSize: c.vocab, eosIds: c.eosIds, bannedIds: c.bannedIds };
      const params = resolveSamplingParams(c.params);
      const sampler = new TokenSampler(params, special, params.doSample ? new Rng(1) : null, c.promptIds);
      const logits = f32(c.input);
      const processed = sampler.process(logits, c.generated);
      const { ids, probs } = distribution(processed);
      expect([...ids]).toEqual(c.keptIds);
      probs.forEach((p, i) => expect(p).toBeCloseTo(c.keptProbs[i]!, 6));
      if (c.stages) {
        // Stage by stage, through the public processors.
        const s = f32(c.input);
        const distinct = [...new Set(c.promptIds)];
        applyRepetitionPenalty(s, distinct, params.repetitionPenalty);
        expectSameFloats(s, f32(c.stages.repetition!), 'repetition');
        applyBannedTokens(s, c.bannedIds);
        expectSameFloats(s, f32(c.stages.banned!), 'banned');
        applyMinNewTokens(s, c.eosIds, c.generated, params.minNewTokens);
        expectSameFloats(s, f32(c.stages.minNew!), 'minNew');
        if (params.doSample) {
          applyTemperature(s, params.temperature);
          expectSameFloats(s, f32(c.stages.temperature!), 'temperature');
          if (params.topK > 0) applyTopK(s, params.topK);
          expectSameFloats(s, f32(c.stages.topK!), 'topK');
          applyTopP(s, params.topP);
          expectSameFloats(s, f32(c.stages.topP!), 'topP');
        }
      }
      if (!params.doSample) {
        expect(new TokenSampler(params, special, null, c.promptIds).next(logits, c.generated)).toBe(c.greedy);
      }
    });
  }

  it('draws follow the distribution and depend only on the seed', () => {
    const c = cases.find((c): c is PipelineCase => c.kind === 'pipeline' && c.params.topK === 50)!;
    const special = { vocabSize: c.vocab, eosIds: c.eosIds, bannedIds: c.bannedIds };
    const params = resolveSamplingParams(c.params);
    const logits = f32(c.input);
    const draws = (seed: number, n: number) => {
      const rng = new Rng(seed);
      // A fresh sampler per draw keeps the repetition state fixed, so every draw comes from the same distribution.
      return Array.from({ length: n }, () => new TokenSampler(params, special, rng, c.promptIds).next(logits, c.generated));
    };
    expect(draws(7, 50)).toEqual(draws(7, 50));
    expect(draws(7, 50)).not.toEqual(draws(8, 50));
    const n = 4000;
    const counts = new Map<number, number>();
    for (const id of draws(3, n)) counts.set(id, (counts.get(id) ?? 0) + 1);
    const kept = new Set(c.keptIds);
    for (const id of counts.keys()) expect(kept.has(id)).toBe(true);
    // The most probable tokens appear about as often as their probability says (5 sigma).
    const order = c.keptIds.map((id, i) => [id, c.keptProbs[i]!] as const).sort((a, b) => b[1] - a[1]).slice(0, 5);
    for (const [id, p] of order) {
      const sigma = Math.sqrt(n * p * (1 - p));
      expect(Math.abs((counts.get(id) ?? 0) - n * p)).toBeLessThan(5 * sigma + 1);
    }
  });
});

describe('sampling parameters', () => {
  it('defaults follow the model card', () => {
    expect(resolveSamplingParams()).toEqual({ doSample: true, temperature: 1, topK: 500, topP: 0.95, repetitionPenalty: 1, minNewTokens: 0 });
  });
  it.each([
    [{ topP: 0 }, /top_p must be in \(0, 1\]/],
    [{ topP: 1.5 }, /top_p must be in \(0, 1\]/],
    [{ topP: Number.NaN }, /top_p must be in \(0, 1\] \(1 turns it off\), got NaN/],
    [{ temperature: -0.5 }, /temperature must be from 0 to 10, got -0.5/],
    [{ temperature: 0 }, /greater than 0 when sampling/],
    [{ topK: -1 }, /top_k must be an integer from 0 to 100000/],
    [{ topK: 2.5 }, /top_k must be an integer from 0 to 100000/],
    [{ repetitionPenalty: 0 }, /repetition_penalty must be in \(0, 10\]/],
    [{ minNewTokens: -3 }, /min_new_tokens must be an integer from 0 to 1024/],
  ])('%o is rejected', (input, message) => {
    expect(() => resolveSamplingParams(input)).toThrow(message);
  });
  it('temperature 0 is fine when sampling is off', () => {
    expect(resolveSamplingParams({ doSample: false, temperature: 0 }).temperature).toBe(0);
  });
});

describe('rng', () => {
  const { streams } = JSON.parse(readFileSync(new URL('rng.json', fixtures), 'utf8')) as {
    streams: { seed: number; uint32: number[]; floats: number[] }[];
  };
  it.each(streams)('seed $seed equals the reference xoshiro128** stream', ({ seed, uint32, floats }) => {
    const a = new Rng(seed);
    expect(uint32.map(() => a.nextUint32())).toEqual(uint32);
    const b = new Rng(seed);
    expect(floats.map(() => b.nextFloat())).toEqual(floats);
  });
  it('rejects seeds outside 32 bits', () => {
    expect(() => new Rng(-1)).toThrow(/seed must be an integer/);
    expect(() => new Rng(2 ** 32)).toThrow(/seed must be an integer/);
    expect(() => new Rng(1.5)).toThrow(/seed must be an integer/);
  });
});

describe('top-k selection', () => {
  it('the threshold equals the k-th value of a full sort (ties, -Infinity, constant runs, ascending runs)', async () => {
    const fc = await import('fast-check');
    const { kthLargest } = await import('../../../src-main/engine/logits-processors');
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: -3, max: 3 }).map((v) => v / 2), fc.constant(-Infinity), fc.float({ noNaN: true })), { minLength: 1, maxLength: 300 }),
        fc.nat(),
        (values, kSeed) => {
          const a = Float32Array.from(values);
          const k = 1 + (kSeed % a.length);
          const sorted = [...a].sort((x, y) => y - x);
          // == not Object.is: -0 and +0 are the same threshold, and the sort may put either first.
          expect(kthLargest(a, k, new Float32Array(k)) === sorted[k - 1]).toBe(true);
          const ascending = Float32Array.from(sorted).reverse();
          expect(kthLargest(ascending, k, new Float32Array(k)) === sorted[k - 1]).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('top-p ordering', () => {
  /** The plain definition: comparator sort by (score, id), float32-rounded cumulative against 1 - p. */
  function reference(scores: Float32Array, p: number, minKeep: number): Float32Array {
    const s = scores.slice();
    const ids = [...s.keys()].filter((i) => s[i]! > -Infinity).sort((a, b) => s[a]! - s[b]! || a - b);
    const max = Math.max(...ids.map((i) => s[i]!));
    const total = ids.reduce((t, i) => t + Math.exp(s[i]! - max), 0);
    let cum = 0;
    for (let k = 0; k < ids.length - minKeep; k++) {
      cum += Math.exp(s[ids[k]!]! - max) / total;
      if (Math.fround(cum) > Math.fround(1 - p)) break;
      s[ids[k]!] = -Infinity;
    }
    return s;
  }

  it('the packed-key sort removes exactly what the comparator sort removes (ties, -0, -Infinity)', async () => {
    const fc = await import('fast-check');
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: -4, max: 4 }).map((v) => v / 4), fc.constant(-0), fc.constant(-Infinity), fc.float({ min: -20, max: 20, noNaN: true })), { minLength: 1, maxLength: 200 }),
        fc.double({ min: 0.01, max: 0.99, noNaN: true }),
        fc.integer({ min: 1, max: 3 }),
        (values, p, minKeep) => {
          const s = Float32Array.from(values);
          if (!s.some((v) => v > -Infinity)) return;
          const expected = reference(s, p, minKeep);
          applyTopP(s, p, minKeep);
          expect([...s].map((v) => v === -Infinity)).toEqual([...expected].map((v) => v === -Infinity));
        },
      ),
      { numRuns: 500 },
    );
  });
});
