/**
 * Requests and events of the generation service (see contract.ts for the conventions). `generation.start` answers
 * at once with a `requestId`; the text then streams as `generation.delta` events and ends with one
 * `generation.done` (also after a cancel) or one `generation.error`.
 */
import { z } from 'zod';
import { authorNoteSchema, bookSchema, steeringSchema } from './document-aids';
import { errorInfoSchema } from './errors';
import { PARAM_BOUNDS } from './generation-params';
import { generationParamsPatchSchema, maxNewTokensSchema } from './generation-params-schema';

/** The text before the cursor may be a whole novel; the engine reads only its tail. */
const MAX_BEFORE = 5_000_000;
const MAX_SIDE = 200_000;
const LONE_SURROGATE = /[\ud800-\udfff]/u;
const text = (max: number) => z.string().max(max).transform((s) => s.replace(new RegExp(LONE_SURROGATE.source, 'gu'), '\ufffd'));
const requestId = z.string().min(1).max(100);
const documentId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER).nullable();
const count = z.number().int().nonnegative();

const contextInput = {
  documentId: documentId.default(null),
  /** The document's text before the cursor: all of it, or a tail together with `beforeOffset`. */
  before: text(MAX_BEFORE),
  /** Where `before` starts in the document, when only a tail is sent (keeps the context's cut stable). */
  beforeOffset: count.default(0),
  /** The document memo, placed before the text. */
  memo: text(MAX_SIDE).default(''),
  /** The document's author's note (脚注), inserted near the cursor in what the model reads. */
  authorNote: authorNoteSchema.prefault({}),
  /** The document's character/world book: entries whose keys are in the recent text come after the memo. */
  book: bookSchema.prefault({}),
};

/** One part of the context the model reads, in order (memo, book entries, text with the author's note inside). */
export const contextPartSchema = z.object({
  kind: z.enum(['memo', 'book', 'text', 'authorNote']),
  /** Exactly what the model reads of this part. */
  text: z.string(),
  tokens: count,
  /** A book entry's name. */
  name: z.string().optional(),
});
export type ContextPart = z.output<typeof contextPartSchema>;

const finishReasonSchema = z.enum(['eos', 'length', 'stop', 'cancelled']);

/** How many candidates a generated token comes with when token probabilities are asked for. */
export const TOKEN_CANDIDATES = 10;
const probability = z.number().min(0).max(1);
const tokenCandidateSchema = z.object({
  /** What the token writes; with `special`, only a label (a control token, a byte of a longer character). */
  text: z.string(),
  special: z.boolean(),
  /** After the sampling settings' filters (repetition penalty, temperature, top-k, top-p): what was drawn from. */
  p: probability,
  /** The model's own softmax, before any filter. */
  raw: probability,
});
export type TokenCandidate = z.output<typeof tokenCandidateSchema>;
/**
 * One shown token: it starts at `at` (UTF-16 offset into its alternative's text) and runs to the next one's start;
 * several model tokens that make up one character are one shown token, with the first one's candidates.
 */
const tokenProbabilitiesSchema = z.object({
  at: count,
  /** The candidate that was generated. */
  chosen: count.max(TOKEN_CANDIDATES),
  /** Most probable first; the chosen one is always there (last when it is not among the first TOKEN_CANDIDATES). */
  candidates: z.array(tokenCandidateSchema).min(1).max(TOKEN_CANDIDATES + 1),
});
export type TokenProbabilities = z.output<typeof tokenProbabilitiesSchema>;

const generationStartSchema = z
  .object({
    ...contextInput,
    /** The text after the cursor, stored with the generation (the model does not see it). */
    after: text(MAX_SIDE).default(''),
    /** Any parameter left out comes from the active sampling preset. */
    params: generationParamsPatchSchema.default({}),
    /** Stop at the end of the first sentence (。！？」 and the closing marks right after). */
    stopAtSentenceEnd: z.boolean().default(false),
    /** Stop before any of these strings (they are not part of the text). */
    stopStrings: z.array(z.string().min(1).max(100)).max(8).default([]),
    /** The document's banned phrases and phrase biases (the settings' global lists are added to them). */
    steering: steeringSchema.prefault({}),
    /** Let the tokenizer's special tokens ([SEP], <pad>, <unk>…) be written; EOS ends a generation either way. */
    allowSpecialTokens: z.boolean().default(false),
    /** Each delta carries its tokens' top candidates (`tokens`); off, the engine does no extra work. */
    tokenProbabilities: z.boolean().default(false),
  })
  .strict();
export type GenerationStartInput = z.output<typeof generationStartSchema>;

const generationPrefillSchema = z
  .object({ ...contextInput, maxNewTokens: maxNewTokensSchema.optional() })
  .strict();
export type GenerationPrefillInput = z.output<typeof generationPrefillSchema>;

const statsSchema = z.object({
  promptTokens: count,
  reusedTokens: count,
  prefillTokens: count,
  prefillMs: z.number(),
  firstTokenMs: z.number(),
  decodeMs: z.number(),
  decodeSteps: count,
  newTokens: count,
  tokensPerSecond: z.number(),
  totalMs: z.number(),
  loadMs: z.number(),
});

const generationDoneSchema = z.object({
  requestId,
  alternatives: z.array(
    z.object({
      index: count,
      text: z.string(),
      tokenCount: count,
      finishReason: finishReasonSchema,
      /** The history entry (null when nothing was stored: no database, or cancelled before any text). */
      generationId: z.number().int().positive().nullable(),
    }),
  ),
  seed: z.number().int().nullable(),
  device: z.string(),
  /** Why the model does not run on the requested or preferred device. */
  fallbackReason: z.string().nullable(),
  /** The converted model's precision (fp32, fp16, int8, int4). */
  precision: z.string(),
  /** The model's positions: the most tokens the context and the continuation hold together. */
  positions: z.number().int().positive(),
  stats: statsSchema,
  /** What the model read, part by part: the context viewer shows the last generation's from here. */
  context: z.array(contextPartSchema),
});

export const generationRequests = {
  'generation.start': { input: generationStartSchema, output: z.object({ requestId }) },
  /** Stops a running generation within one decode step; false when it had already ended. */
  'generation.cancel': { input: z.object({ requestId }).strict(), output: z.object({ cancelled: z.boolean() }) },
  /**
   * Prefills the context while the writer pauses, so that the next start streams at once. A start (or another
   * prefill) cancels it.
   */
  'generation.prefill': {
    input: generationPrefillSchema,
    output: z.object({ promptTokens: count, reusedTokens: count, prefillTokens: count, prefillMs: z.number(), cancelled: z.boolean() }),
  },
  /**
   * The context the next generation would send for this input, part by part (the context viewer): built as a start
   * builds it, without running the model (the model is loaded for its tokenizer when it is not yet).
   */
  'generation.context': {
    input: generationPrefillSchema,
    output: z.object({ parts: z.array(contextPartSchema), positions: z.number().int().positive(), maxNewTokens: count }),
  },
} as const;

export const generationEvents = {
  'generation.delta': z.object({
    requestId,
    index: count,
    text: z.string(),
    /** Only when the start asked for token probabilities: the tokens that begin in this delta's text. */
    tokens: z.array(tokenProbabilitiesSchema).max(PARAM_BOUNDS.maxNewTokens.max).optional(),
  }),
  'generation.done': generationDoneSchema,
  'generation.error': z.object({ requestId, error: errorInfoSchema }),
} as const;
