import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TokenProbabilities } from '../../../src-main/contract/generation';
import { Generator, type GenerationRequest } from '../../../src-main/engine/generator';
import { distribution } from '../../../src-main/engine/logits-processors';
import { alternativeSeed, Rng } from '../../../src-main/engine/rng';
import { resolveSamplingParams, TokenSampler, type SamplingParams } from '../../../src-main/engine/sampler';
import type { DecoderSession } from '../../../src-main/engine/session';
import { loadTokenizer } from '../../../src-main/tokenizer';
import { golden } from '../model/golden';
import { convertTiny, tagDecoder, TINY_SPECIAL, type TinyModel } from './tiny-model';

const special = TINY_SPECIAL;
/** Every token writes `<id>`, so a candidate's text names its id. */
const createDecoder = tagDecoder;
const tokenText = (id: number) => ({ text: `<${id}>`, special: false });
const idOf = (text: string) => Number(/^<(\d+)>$/.exec(text)![1]);

let model: TinyModel;
beforeAll(async () => {
  model = await convertTiny();
});
afterAll(async () => {
  await model?.dispose();
});

/** The session, recording the logits of every forward pass (copies: the generator reads them in place). */
function recording(session: DecoderSession): { session: DecoderSession; logits: Float32Array[] } {
  const logits: Float32Array[] = [];
  const spy = Object.create(session) as DecoderSession;
  spy.forward = async (input) => {
    const out = await session.forward(input);
    logits.push(out.logits.slice());
    return out;
  };
  return { session: spy, logits };
}

interface Streamed {
  texts: string[];
  tokens: TokenProbabilities[][];
}

async function generateWithProbabilities(session: DecoderSession, sampling: SamplingParams, extra: Partial<GenerationRequest> = {}) {
  const streamed: Streamed = { texts: [], tokens: [] };
  const result = await new Generator(session, special).generate({
    promptIds: golden.weights.fp32[2]!.ids,
    maxNewTokens: 20,
    sampling,
    seed: 5,
    n: 1,
    createDecoder,
    probabilities: { top: 10, tokenText },
    onDelta: (_index, text, tokens) => {
      streamed.texts.push(text);
      streamed.tokens.push(tokens ?? []);
    },
    ...extra,
  });
  return { result, streamed, all: streamed.tokens.flat() };
}

describe('token probabilities on the tiny model', () => {
  it('the candidates carry the distribution the sampler drew from, and the raw softmax', async () => {
    const sampling = resolveSamplingParams({ doSample: true, temperature: 1.3, topK: 20, topP: 0.9, repetitionPenalty: 1.2 });
    const { session, logits } = recording(model.session);
    const { result, all } = await generateWithProbabilities(session, sampling);
    const ids = result.alternatives[0]!.ids;
    expect(ids).toHaveLength(20);
    expect(all).toHaveLength(20);
    // Step 0 samples from the prefill's logits (one pass: the prompt is shorter than a chunk), step t from pass t.
    expect(logits).toHaveLength(20);
    const replay = new TokenSampler(sampling, special, new Rng(alternativeSeed(5, 0)), golden.weights.fp32[2]!.ids);
    let filteredOut = 0;
    all.forEach((token, step) => {
      const raw = logits[step]!;
      const kept = distribution(replay.process(raw, step));
      const keptP = new Map([...kept.ids].map((id, i) => [id, kept.probs[i]!]));
      expect(replay.next(raw, step)).toBe(ids[step]);
      const max = Math.max(...raw);
      const total = raw.reduce((sum, v) => sum + Math.exp(v - max), 0);

      expect(idOf(token.candidates[token.chosen]!.text)).toBe(ids[step]);
      expect(token.candidates.length).toBeGreaterThanOrEqual(10);
      for (const c of token.candidates) {
        const id = idOf(c.text);
        expect(c.p, `step ${step}, token ${id}`).toBeCloseTo(keptP.get(id) ?? 0, 12);
        expect(c.raw).toBeCloseTo(Math.exp(raw[id]! - max) / total, 12);
        expect(c.raw).toBeGreaterThanOrEqual(0);
        if (c.p === 0) filteredOut++;
      }
      expect(token.candidates.reduce((sum, c) => sum + c.p, 0)).toBeLessThanOrEqual(1 + 1e-12);
      // Most probable first: the first ten are the distribution's top ten.
      const topTen = [...keptP.values()].sort((a, b) => b - a).slice(0, 10);
      token.candidates.slice(0, topTen.length).forEach((c, i) => expect(c.p).toBeCloseTo(topTen[i]!, 12));
    });
    // top-k 20 with top-p 0.9 leaves fewer than ten tokens at some steps: the rest are shown as filtered out.
    expect(filteredOut).toBeGreaterThan(0);
  });

  it('with greedy decoding the chosen token is the top candidate', async () => {
    const { result, all } = await generateWithProbabilities(model.session, resolveSamplingParams({ doSample: false }));
    expect(all).toHaveLength(result.alternatives[0]!.ids.length);
    for (const token of all) {
      expect(token.chosen).toBe(0);
      expect(token.candidates).toHaveLength(10);
      const ps = token.candidates.map((c) => c.p);
      expect(ps).toEqual([...ps].sort((a, b) => b - a));
    }
  });

  it('the tokens map onto the streamed text: one per token, at its offset, in the delta that streams its first character', async () => {
    const { result, streamed } = await generateWithProbabilities(model.session, resolveSamplingParams({ doSample: false }));
    let offset = 0;
    const ids = result.alternatives[0]!.ids;
    streamed.texts.forEach((text, i) => {
      for (const token of streamed.tokens[i]!) {
        expect(token.at).toBeGreaterThanOrEqual(offset);
        expect(token.at).toBeLessThan(offset + text.length);
      }
      offset += text.length;
    });
    const all = streamed.tokens.flat();
    const text = streamed.texts.join('');
    expect(text).toBe(result.alternatives[0]!.text);
    all.forEach((token, i) => expect(text.slice(token.at, all[i + 1]?.at ?? text.length)).toBe(`<${ids[i]}>`));
  });

  it('a stop string cuts the tokens with the text: none is shown beyond it', async () => {
    const greedy = resolveSamplingParams({ doSample: false });
    const probe = await generateWithProbabilities(model.session, greedy);
    const stopAt = `<${probe.result.alternatives[0]!.ids[5]}>`;
    const { result, all } = await generateWithProbabilities(model.session, greedy, { stopStrings: [stopAt] });
    const text = result.alternatives[0]!.text;
    expect(result.alternatives[0]!.finishReason).toBe('stop');
    expect(all.length).toBe(text.length === 0 ? 0 : text.split('<').length - 1);
    for (const token of all) expect(token.at).toBeLessThan(text.length);
  });

  it('with the real tokenizer every shown token is whole characters of the text, and without the option nothing is computed', async () => {
    const tokenizer = await loadTokenizer(join(fileURLToPath(new URL('../../fixtures/model/tiny-safetensors-fp32/', import.meta.url)), 'spiece.model'));
    const sampling = resolveSamplingParams({ doSample: true, temperature: 1.5, topK: 0, topP: 1 });
    const withTokens = await generateWithProbabilities(model.session, sampling, {
      maxNewTokens: 40,
      createDecoder: () => tokenizer.createStreamDecoder({ afterText: '今日は' }),
      probabilities: { top: 10, tokenText: (id) => tokenizer.tokenText(id) },
    });
    const text = withTokens.streamed.texts.join('');
    expect(text).toBe(withTokens.result.alternatives[0]!.text);
    const starts = withTokens.all.map((t) => t.at);
    expect(starts[0]).toBe(0);
    expect(starts).toEqual([...new Set(starts)].sort((a, b) => a - b));
    for (const at of starts) expect(text.codePointAt(at)! < 0xdc00 || text.codePointAt(at)! > 0xdfff).toBe(true);

    const without = await generateWithProbabilities(model.session, sampling, {
      maxNewTokens: 40,
      createDecoder: () => tokenizer.createStreamDecoder({ afterText: '今日は' }),
      probabilities: undefined,
    });
    expect(without.streamed.texts.join('')).toBe(text);
    expect(without.all).toEqual([]);
  });
});
