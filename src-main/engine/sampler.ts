/**
 * Chooses the next token of one sequence with Hugging Face `generate()` semantics: repetition penalty (prompt and
 * output), banned tokens (`<unk>`), minimum new tokens (EOS suppressed), then — when sampling — temperature →
 * top-k → top-p and a draw from the seeded RNG; greedy (first argmax) when sampling is off.
 *
 * The draw: u = rng.nextFloat(); walk the possible tokens in ascending id order adding exp(score - max) and take
 * the first whose running sum exceeds u × total. One draw per token, so a (seed, parameters, context) triple
 * always gives the same tokens for the same logits.
 */
import { TsuzukiError } from '../util/errors';
import {
  applyBannedTokens,
  applyMinNewTokens,
  applyRepetitionPenalty,
  applyTemperature,
  applyTopK,
  applyTopP,
  argmax,
} from './logits-processors';
import type { Rng } from './rng';

export interface SamplingParams {
  /** false: greedy decoding (the warpers and the RNG are not used). */
  doSample: boolean;
  /** > 0 when sampling. */
  temperature: number;
  /** 0 disables top-k. */
  topK: number;
  /** In (0, 1]; 1 disables top-p. */
  topP: number;
  /** > 0; 1 disables it; above 1 discourages tokens already in the prompt or output. */
  repetitionPenalty: number;
  /** EOS cannot end the text before this many new tokens. */
  minNewTokens: number;
}

/** rinna/japanese-gpt-1b's model card: sampling with top_k 500 and top_p 0.95. */
const DEFAULT_SAMPLING: SamplingParams = {
  doSample: true,
  temperature: 1,
  topK: 500,
  topP: 0.95,
  repetitionPenalty: 1,
  minNewTokens: 0,
};

export interface SpecialTokens {
  vocabSize: number;
  eosIds: number[];
  /** Never generated (HF `bad_words_ids` of single tokens); `<unk>` by default. */
  bannedIds: number[];
}

function invalid(message: string): never {
  throw new TsuzukiError('invalid_argument', message);
}

/** Fills in the defaults and rejects values HF would reject (or that would make no sense), naming the parameter. */
export function resolveSamplingParams(input: Partial<SamplingParams> = {}): SamplingParams {
  const p: SamplingParams = { ...DEFAULT_SAMPLING };
  // Only the sampler's own keys: callers pass wider parameter objects (length, seed, alternatives).
  for (const key of Object.keys(DEFAULT_SAMPLING) as (keyof SamplingParams)[]) {
    if (input[key] !== undefined) (p as unknown as Record<string, unknown>)[key] = input[key];
  }
  if (typeof p.doSample !== 'boolean') invalid(`doSample must be true or false, got ${String(p.doSample)}`);
  const finite = (name: string, v: number) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) invalid(`${name} must be a finite number, got ${String(v)}`);
  };
  finite('temperature', p.temperature);
  finite('top_p', p.topP);
  finite('repetition_penalty', p.repetitionPenalty);
  if (p.temperature < 0) invalid(`temperature must not be negative, got ${p.temperature}`);
  if (p.doSample && p.temperature === 0) {
    invalid('temperature must be greater than 0 when sampling; turn sampling off (--no-sample) for greedy decoding');
  }
  if (!Number.isInteger(p.topK) || p.topK < 0) invalid(`top_k must be an integer >= 0 (0 turns it off), got ${p.topK}`);
  if (!(p.topP > 0 && p.topP <= 1)) invalid(`top_p must be in (0, 1] (1 turns it off), got ${p.topP}`);
  if (!(p.repetitionPenalty > 0)) invalid(`repetition_penalty must be greater than 0 (1 turns it off), got ${p.repetitionPenalty}`);
  if (!Number.isInteger(p.minNewTokens) || p.minNewTokens < 0) {
    invalid(`min_new_tokens must be an integer >= 0, got ${p.minNewTokens}`);
  }
  return p;
}

/** The sampler of one sequence: remembers which tokens it has seen (for the repetition penalty). */
export class TokenSampler {
  private readonly seen: Uint8Array;
  private readonly distinct: Int32Array;
  private distinctCount = 0;
  private readonly scores: Float32Array;
  private readonly scratch: Float32Array;
  private readonly possible: Int32Array;
  private readonly eosIds: Int32Array;
  private readonly bannedIds: Int32Array;

  constructor(
    readonly params: SamplingParams,
    special: SpecialTokens,
    private readonly rng: Rng | null,
    promptIds: ArrayLike<number>,
  ) {
    if (params.doSample && !rng) throw new TsuzukiError('internal', 'Sampling needs a random source');
    this.seen = new Uint8Array(special.vocabSize);
    this.distinct = new Int32Array(special.vocabSize);
    this.scores = new Float32Array(special.vocabSize);
    this.scratch = new Float32Array(special.vocabSize);
    this.possible = new Int32Array(special.vocabSize);
    this.eosIds = Int32Array.from(special.eosIds);
    this.bannedIds = Int32Array.from(special.bannedIds);
    for (let i = 0; i < promptIds.length; i++) this.observe(promptIds[i]!);
  }

  private observe(id: number): void {
    if (this.seen[id]) return;
    this.seen[id] = 1;
    this.distinct[this.distinctCount++] = id;
  }

  /**
   * The scores after every processor (what HF samples from); -Infinity marks impossible tokens. The returned
   * array is reused by the next call.
   */
  process(logits: Float32Array, generated: number): Float32Array {
    if (logits.length !== this.scores.length) {
      throw new TsuzukiError('internal', `Logits have ${logits.length} entries but the vocabulary has ${this.scores.length}`);
    }
    const s = this.scores;
    const p = this.params;
    s.set(logits);
    applyRepetitionPenalty(s, this.distinct.subarray(0, this.distinctCount), p.repetitionPenalty);
    applyBannedTokens(s, this.bannedIds);
    applyMinNewTokens(s, this.eosIds, generated, p.minNewTokens);
    if (p.doSample) {
      applyTemperature(s, p.temperature);
      if (p.topK > 0) applyTopK(s, p.topK, 1, this.scratch);
      applyTopP(s, p.topP, 1);
    }
    return s;
  }

  /** Chooses the next token after `generated` new tokens and remembers it. */
  next(logits: Float32Array, generated: number): number {
    const s = this.process(logits, generated);
    const id = this.params.doSample ? this.draw(s) : argmax(s);
    this.observe(id);
    return id;
  }

  private draw(s: Float32Array): number {
    // One pass collects the possible tokens (after top-k, about k of them), so the sums below skip the rest.
    const ids = this.possible;
    let count = 0;
    let max = -Infinity;
    for (let i = 0; i < s.length; i++) {
      const v = s[i]!;
      if (v > -Infinity) {
        ids[count++] = i;
        if (v > max) max = v;
      }
    }
    if (count === 0) throw new TsuzukiError('internal', 'Every token was filtered out; nothing can be sampled');
    let total = 0;
    for (let j = 0; j < count; j++) total += Math.exp(s[ids[j]!]! - max);
    const target = this.rng!.nextFloat() * total;
    let sum = 0;
    for (let j = 0; j < count; j++) {
      sum += Math.exp(s[ids[j]!]! - max);
      if (sum > target) return ids[j]!;
    }
    return ids[count - 1]!;
  }
}
