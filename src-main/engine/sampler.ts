/**
 * Chooses the next token of one sequence with Hugging Face `generate()` semantics: phrase biases, repetition penalty
 * (prompt and output), banned tokens (special tokens) and banned phrases, minimum new tokens (EOS suppressed), then —
 * when sampling — temperature → top-k → top-p and a draw from the seeded RNG; greedy (first argmax) when sampling is off.
 *
 * The draw: u = rng.nextFloat(); walk the possible tokens in ascending id order adding exp(score - max) and take
 * the first whose running sum exceeds u × total. One draw per token, so a (seed, parameters, context) triple
 * always gives the same tokens for the same logits.
 */
import { TsuzukiError } from '../contract/errors';
import { DEFAULT_GENERATION_PARAMS, type SamplingParams } from '../contract/generation-params';
import {
  applyBannedTokens,
  applyMinNewTokens,
  applyRepetitionPenalty,
  applyTemperature,
  applyTopK,
  applyTopP,
  argmax,
} from './logits-processors';
import { assertGenerationParams } from './params';
import type { SteeringRow } from './phrase-steering';
import type { Rng } from './rng';

export type { SamplingParams };

export interface SpecialTokens {
  vocabSize: number;
  eosIds: number[];
  /** Never generated (HF `bad_words_ids` of single tokens): ids the tokenizer cannot decode. */
  bannedIds: number[];
  /** Control, unknown and special user-defined tokens ([SEP], <pad>, <unk>…), EOS excepted: banned unless a request allows them. */
  specialIds?: number[];
}

const { doSample, temperature, topK, topP, repetitionPenalty, minNewTokens } = DEFAULT_GENERATION_PARAMS;
const SAMPLER_DEFAULTS: SamplingParams = { doSample, temperature, topK, topP, repetitionPenalty, minNewTokens };

/** Fills in the model card's defaults and refuses values out of the contract's bounds, naming the parameter. */
export function resolveSamplingParams(input: Partial<SamplingParams> = {}): SamplingParams {
  // Only the sampler's own keys: callers pass wider parameter objects (length, seed, alternatives). A key given as
  // undefined takes the default; anything else given (null, NaN) is checked, never replaced.
  const p = Object.fromEntries(
    (Object.keys(SAMPLER_DEFAULTS) as (keyof SamplingParams)[]).map((k) => [k, input[k] === undefined ? SAMPLER_DEFAULTS[k] : input[k]]),
  ) as unknown as SamplingParams;
  assertGenerationParams(p);
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
    /** The request's banned phrases and phrase biases for this row, if any. */
    private readonly steering: SteeringRow | null = null,
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
    // HF's order: SequenceBias first, NoBadWords after the repetition penalty.
    this.steering?.bias(s);
    applyRepetitionPenalty(s, this.distinct.subarray(0, this.distinctCount), p.repetitionPenalty);
    applyBannedTokens(s, this.bannedIds);
    this.steering?.ban(s);
    applyMinNewTokens(s, this.eosIds, generated, p.minNewTokens);
    if (p.doSample) {
      applyTemperature(s, p.temperature);
      if (p.topK > 0) applyTopK(s, p.topK, 1, this.scratch);
      applyTopP(s, p.topP, 1);
    }
    return s;
  }

  /** The scores of the last `process` (or `next`) call: what the chosen token was drawn from. */
  get processed(): Float32Array {
    return this.scores;
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
