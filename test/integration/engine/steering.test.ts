/** Banned phrases, phrase biases and special tokens on the real tiny model (random weights, its real tokenizer). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Steering } from '../../../src-main/contract/document-aids';
import { resolveSamplingParams } from '../../../src-main/engine/sampler';
import { GenerationRuntime } from '../../../src-main/services/generation-runtime';
import { convertTiny, type TinyModel } from './tiny-model';

let model: TinyModel;
let runtime: GenerationRuntime;
beforeAll(async () => {
  model = await convertTiny();
  runtime = await GenerationRuntime.open(model.dir, { device: 'cpu', threads: 1 });
});
afterAll(async () => {
  await runtime?.close();
  await model?.dispose();
});

const PROMPT = 'ファイルの内容を';
// Every token possible (no top-k, no top-p), so that rare tokens show up within a few hundred draws.
const sampling = resolveSamplingParams({ topK: 0, topP: 1 });

async function generate(seed: number, steering: Steering = { bannedPhrases: [], phraseBiases: [] }, allowSpecialTokens = false) {
  const context = runtime.context({ before: PROMPT, maxNewTokens: 40 });
  const result = await runtime.generator.generate({
    promptIds: context.ids,
    maxNewTokens: 40,
    sampling,
    seed,
    n: 1,
    createDecoder: () => runtime.decoder(context.text),
    steering: runtime.steering(steering, context.text),
    allowSpecialTokens,
  });
  return result.alternatives[0]!;
}

describe('banned phrases and phrase biases on the tiny model', () => {
  it('a phrase the model writes with a seed is never written once banned, across token boundaries too', async () => {
    let crossing = 0;
    for (let seed = 1; seed <= 12; seed++) {
      const free = await generate(seed);
      // Three characters from the middle of the text, where a token boundary usually falls inside them.
      const chars = Array.from(free.text.replace(/\s/gu, ''));
      if (chars.length < 6) continue;
      const phrase = chars.slice(2, 5).join('');
      if (!runtime.tokenizer.decodeOutput(free.ids).includes(phrase)) continue;
      const pieces = free.ids.map((id) => runtime.tokenizer.outputText(id) ?? '');
      if (!pieces.some((p) => p.includes(phrase))) crossing++;
      const banned = await generate(seed, { bannedPhrases: [phrase], phraseBiases: [] });
      expect(banned.text, `seed ${seed}, ${JSON.stringify(phrase)}`).not.toContain(phrase);
      expect(PROMPT + banned.text).not.toContain(phrase);
    }
    expect(crossing).toBeGreaterThan(0);
  });

  it('a strong positive bias makes a phrase appear', async () => {
    const phrase = 'ファイル';
    let plain = 0;
    let raised = 0;
    for (let seed = 1; seed <= 6; seed++) {
      plain += (await generate(seed)).text.split(phrase).length - 1;
      const up = await generate(seed, { bannedPhrases: [], phraseBiases: [{ phrase, bias: 30 }] });
      expect(up.text, `seed ${seed}`).toContain(phrase);
      raised += up.text.split(phrase).length - 1;
    }
    expect(raised).toBeGreaterThan(plain);
  });
});

describe('special tokens', () => {
  const specialTexts = ['[SEP]', '[CLS]', '[MASK]', '\u2047'];
  const specialIds = () => runtime.generator.special.specialIds ?? [];

  it('are never sampled unless the request allows them; EOS is not one of them', async () => {
    const pieces = specialIds().map((id) => runtime.tokenizer.idToPiece(id));
    // </s> (EOS) is missing on purpose: it ends a generation.
    expect(pieces).toEqual(['[PAD]', '<unk>', '<s>', '[CLS]', '[SEP]', '[MASK]']);
    expect(runtime.generator.special.eosIds.map((id) => runtime.tokenizer.idToPiece(id))).toEqual(['</s>']);
    let allowedSeen = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const strict = await generate(seed);
      expect(strict.ids.filter((id) => specialIds().includes(id)), `seed ${seed}`).toEqual([]);
      for (const t of specialTexts) expect(strict.text).not.toContain(t);
      const allowed = await generate(seed, undefined, true);
      allowedSeen += allowed.ids.filter((id) => specialIds().includes(id)).length;
    }
    // The same draws with the special tokens allowed do write them: the ban is what keeps them out.
    expect(allowedSeen).toBeGreaterThan(0);
  });
});
