import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slidingPerplexity } from '../../../src-main/engine/perplexity';
import { golden } from '../model/golden';
import { convertTiny, type TinyModel } from './tiny-model';

let model: TinyModel;
beforeAll(async () => {
  model = await convertTiny();
});
afterAll(async () => {
  await model?.dispose();
});

/** -log p(ids[j] | context), from the session's logits for the context alone. */
async function tokenNll(context: number[], next: number): Promise<number> {
  const [[row]] = (await model.session.sequenceLogits([context])) as [[Float32Array]];
  const max = Math.max(...row);
  return Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0)) + max - row[next]!;
}

describe('sliding-window perplexity', () => {
  it("scores each token once, with the context of the first window that reaches it (HF's guide, token by token)", async () => {
    const ids = golden.weights.fp32.flatMap((e) => e.ids).concat(golden.weights.fp32.flatMap((e) => [...e.ids].reverse()));
    const maxLength = 64;
    const stride = 24;
    expect(ids.length).toBeGreaterThan(2 * maxLength);
    const ends: number[] = [];
    const result = await slidingPerplexity(model.session, ids, { maxLength, stride, onWindow: (end) => ends.push(end) });

    let nll = 0;
    for (let j = 1; j < ids.length; j++) {
      // The first window [k·stride, k·stride + maxLength) whose end passes j scores token j.
      let k = 0;
      while (Math.min(k * stride + maxLength, ids.length) <= j) k++;
      nll += await tokenNll(ids.slice(k * stride, j), ids[j]!);
    }
    expect(result.scoredTokens).toBe(ids.length - 1);
    expect(result.windows).toBe(Math.ceil((ids.length - maxLength) / stride) + 1);
    expect(ends.at(-1)).toBe(ids.length);
    expect(result.meanNll).toBeCloseTo(nll / (ids.length - 1), 5);
    expect(result.perplexity).toBeCloseTo(Math.exp(nll / (ids.length - 1)), 4);
  });

  it('refuses a stride outside the window and a text with nothing to score', async () => {
    const ids = golden.weights.fp32[0]!.ids;
    for (const stride of [0, 65, 1.5]) {
      await expect(slidingPerplexity(model.session, ids, { maxLength: 64, stride })).rejects.toThrow(/stride must be from 1 to 64 tokens/);
    }
    await expect(slidingPerplexity(model.session, ids.slice(0, 1), { maxLength: 64, stride: 32 })).rejects.toThrow(/fewer than two tokens/);
  });
});
