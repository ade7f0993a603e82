/**
 * The parameters of one generation: the one schema, its bounds and its defaults, shared by every door (the CLI, the
 * IPC router, the engine's Generator, the Settings form). Each refusal is a `ParamIssue`: which parameter, which
 * rule, and the limits; `describeParamIssue` words it for error messages (English, as every service message), and
 * the renderer shows the same issue from its catalogue (`params.reason.<reason>`). Imports nothing from src-main.
 *
 * The length also has a bound that depends on the model: its positions (the window the context and the continuation
 * share) less one token of context; `checkGenerationParams(p, positions)` adds it. Plain TypeScript, so the renderer
 * runs the same checks; the zod schemas built on it are in generation-params-schema.ts.
 */
export interface GenerationParams {
  /** false: greedy decoding (the warpers and the RNG are not used). */
  doSample: boolean;
  /** Must be above 0 when sampling; unused when not. */
  temperature: number;
  /** 0 disables top-k. */
  topK: number;
  /** 1 disables top-p. */
  topP: number;
  /** 1 disables it; above 1 discourages tokens already in the prompt or output. */
  repetitionPenalty: number;
  /** The length of a continuation, in new tokens (HF `max_new_tokens`). */
  maxNewTokens: number;
  /** EOS cannot end the text before this many new tokens. */
  minNewTokens: number;
  /** How many alternatives one request generates (siblings in the history). */
  numAlternatives: number;
  /** null: a fresh random seed each time (the seed used is stored with each generation). */
  seed: number | null;
}
export type ParamName = keyof GenerationParams;
export type NumericParam = Exclude<ParamName, 'doSample'>;

/** What the token sampler reads (HF `generate()`'s logits processors and warpers). */
export type SamplingParams = Pick<GenerationParams, 'doSample' | 'temperature' | 'topK' | 'topP' | 'repetitionPenalty' | 'minNewTokens'>;

export interface Bound {
  min: number;
  max: number;
  /** The minimum itself is refused (a value must be above it). */
  minExclusive?: boolean;
  integer?: boolean;
  /** The form's step. */
  step: number;
  /** The parameter's name in messages (Hugging Face's, as the CLI's options). */
  label: string;
  /** Said after the bound in messages: what a value at a bound means. */
  hint?: string;
}

export const MAX_SEED = 2 ** 32 - 1;

/**
 * Each bound with its reason: a temperature or a penalty above 10 flattens or crushes the distribution into noise;
 * top-k above 100,000 exceeds any vocabulary the app runs; 1,024 new tokens is pages of prose, far past a proposal
 * read at a glance; eight alternatives already cost eight decodes, more than a writer waits for; a seed is 32 bits.
 */
export const PARAM_BOUNDS: Record<NumericParam, Bound> = {
  temperature: { min: 0, max: 10, step: 0.05, label: 'temperature' },
  topK: { min: 0, max: 100_000, integer: true, step: 1, label: 'top_k', hint: '0 turns it off' },
  topP: { min: 0, max: 1, minExclusive: true, step: 0.01, label: 'top_p', hint: '1 turns it off' },
  repetitionPenalty: { min: 0, max: 10, minExclusive: true, step: 0.05, label: 'repetition_penalty', hint: '1 turns it off' },
  maxNewTokens: { min: 1, max: 1024, integer: true, step: 1, label: 'max_new_tokens' },
  minNewTokens: { min: 0, max: 1024, integer: true, step: 1, label: 'min_new_tokens' },
  numAlternatives: { min: 1, max: 8, integer: true, step: 1, label: 'alternatives' },
  seed: { min: 0, max: MAX_SEED, integer: true, step: 1, label: 'seed' },
};

/**
 * The model card's (rinna/japanese-gpt-1b): sampling with top_k 500, top_p 0.95, temperature 1.0 and no repetition
 * penalty (1.0, generate()'s default). 60 new tokens is about two sentences of Japanese, read at a glance.
 */
export const DEFAULT_GENERATION_PARAMS: GenerationParams = {
  doSample: true,
  temperature: 1,
  topK: 500,
  topP: 0.95,
  repetitionPenalty: 1,
  maxNewTokens: 60,
  minNewTokens: 0,
  numAlternatives: 1,
  seed: null,
};

/**
 * Why a value is refused. `integer`, `range`, `openRange`: outside its bound (`min`, `max`); `boolean`: not true or
 * false; `window`: a length the model's window cannot hold (`max`, `positions`); `sampling`: temperature 0 while
 * sampling; `order`: min_new_tokens above max_new_tokens (`max`).
 */
export type ParamReason = 'integer' | 'range' | 'openRange' | 'boolean' | 'window' | 'sampling' | 'order';

export interface ParamIssue {
  param: ParamName;
  reason: ParamReason;
  min?: number;
  max?: number;
  positions?: number;
  got: unknown;
}

/** The sampler's part of the parameters. */
export function samplingOf(p: GenerationParams): SamplingParams {
  return { doSample: p.doSample, temperature: p.temperature, topK: p.topK, topP: p.topP, repetitionPenalty: p.repetitionPenalty, minNewTokens: p.minNewTokens };
}

/** The longest continuation a model of `positions` can give: the context needs at least one token of the window. */
export function maxLengthFor(positions: number): number {
  return Math.min(PARAM_BOUNDS.maxNewTokens.max, positions - 1);
}

function shown(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 40));
  return `(${typeof value})`;
}

/** The issue in words, for error messages and the CLI; the same issue reads the same at every door. */
export function describeParamIssue(issue: ParamIssue): string {
  const got = `, got ${shown(issue.got)}`;
  switch (issue.reason) {
    case 'boolean':
      return `do_sample must be true or false${got}`;
    case 'window':
      return `max_new_tokens must be at most ${issue.max} for this model: its window holds ${issue.positions} tokens and the text before the cursor needs at least one${got}`;
    case 'sampling':
      return `temperature must be greater than 0 when sampling; turn sampling off (--no-sample) for greedy decoding${got}`;
    case 'order':
      return `min_new_tokens must not be larger than max_new_tokens (${issue.max})${got}`;
    default: {
      const bound = PARAM_BOUNDS[issue.param as NumericParam];
      const range =
        issue.reason === 'openRange'
          ? `in (${bound.min}, ${bound.max}]`
          : `${issue.reason === 'integer' ? 'an integer ' : ''}from ${bound.min} to ${bound.max}`;
      return `${bound.label} must be ${range}${bound.hint ? ` (${bound.hint})` : ''}${got}`;
    }
  }
}

/**
 * The issue of one value against its own bound, null when it is within. Given the model's `positions`, the length's
 * bound is its window when that is the smaller one (a `window` issue, which says why).
 */
export function checkValue(param: ParamName, value: unknown, positions?: number): ParamIssue | null {
  if (param === 'doSample') return typeof value === 'boolean' ? null : { param, reason: 'boolean', got: value };
  if (param === 'seed' && value === null) return null;
  const b = PARAM_BOUNDS[param];
  const window = param === 'maxNewTokens' && positions !== undefined && maxLengthFor(positions) < b.max ? maxLengthFor(positions) : null;
  const within =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (!b.integer || Number.isInteger(value)) &&
    (b.minExclusive ? value > b.min : value >= b.min);
  if (within && window !== null && value > window) return { param, reason: 'window', max: window, positions, got: value };
  if (within && value <= b.max) return null;
  return { param, reason: b.integer ? 'integer' : b.minExclusive ? 'openRange' : 'range', min: b.min, max: b.max, got: value };
}

/** The rules between parameters; only for values that passed their own bounds. */
export function checkTogether(p: Partial<GenerationParams>): ParamIssue[] {
  const issues: ParamIssue[] = [];
  if (p.doSample === true && p.temperature === 0) issues.push({ param: 'temperature', reason: 'sampling', got: 0 });
  if (p.minNewTokens !== undefined && p.maxNewTokens !== undefined && p.minNewTokens > p.maxNewTokens) {
    issues.push({ param: 'minNewTokens', reason: 'order', max: p.maxNewTokens, got: p.minNewTokens });
  }
  return issues;
}

const PARAM_NAMES = Object.keys(DEFAULT_GENERATION_PARAMS) as ParamName[];

/**
 * Every issue of `p` (the parameters given; absent ones are not checked), in a fixed order: each value against its
 * bound (the length, given the model's `positions`, also against its window), then, if all pass, the rules between them.
 */
export function checkGenerationParams(p: Partial<Record<ParamName, unknown>>, positions?: number): ParamIssue[] {
  const own = PARAM_NAMES.flatMap((name) => {
    if (!(name in p) || p[name] === undefined) return [];
    const issue = checkValue(name, p[name], positions);
    return issue ? [issue] : [];
  });
  return own.length > 0 ? own : checkTogether(p as Partial<GenerationParams>);
}

/** All the issues in one message (the message every door gives for the same values); null when there are none. */
export function paramIssuesMessage(issues: ParamIssue[]): string | null {
  return issues.length === 0 ? null : issues.map(describeParamIssue).join('; ');
}
