/**
 * The contract between the main thread and the generation worker (workers/generation.worker.ts), served by the same
 * router as the renderer's contract over the worker-thread transport (ipc/transport-port.ts). A call's `cancel` is
 * the transport's cancel frame for its id; `runtime.delta` events name their call.
 *
 * The schemas check shapes; the sampling parameters are checked by the contract's one schema of generation parameters
 * (and again, with the model's window, where the generator starts).
 */
import { z } from 'zod';
import { authorNoteSchema, bookSchema } from '../contract/document-aids';
import { samplingParamsSchema } from '../contract/generation-params-schema';
import { mergedSteeringSchema } from '../contract/document-aids';
import { contextPartSchema, generationEvents } from '../contract/generation';
import { DEVICES } from '../engine/device';

const count = z.number().int().nonnegative();
const finite = z.number().finite();

const promptSource = {
  before: z.string(),
  origin: count.optional(),
  memo: z.string().optional(),
  authorNote: authorNoteSchema.optional(),
  book: bookSchema.optional(),
};

const contextPartsSchema = z.array(contextPartSchema);

const openedSchema = z.object({
  device: z.enum(DEVICES).exclude(['auto']),
  fallbackReason: z.string().nullable(),
  /** What `auto` measured to choose the device, in words (null for a named device). */
  probe: z.string().nullable(),
  loadMs: finite,
  precision: z.string(),
  /** The model's positions: the most tokens its context and a continuation hold together. */
  positions: z.number().int().positive(),
});

const statsSchema = z.object({
  promptTokens: count,
  reusedTokens: count,
  prefillTokens: count,
  prefillMs: finite,
  firstTokenMs: finite,
  decodeMs: finite,
  decodeSteps: count,
  newTokens: count,
  tokensPerSecond: finite,
  totalMs: finite,
});

const generateResultSchema = z.object({
  alternatives: z.array(
    z.object({
      index: count,
      ids: z.array(count),
      text: z.string(),
      finishReason: z.enum(['eos', 'length', 'stop', 'cancelled']),
    }),
  ),
  stats: statsSchema,
  /** The context the model continued: its text (a tail of `before`), prompt ids, the memo's share and every part. */
  context: z.object({ text: z.string(), ids: z.array(count), memoTokens: count, parts: contextPartsSchema }),
});

const prefillResultSchema = z.object({
  promptTokens: count,
  reusedTokens: count,
  prefillTokens: count,
  prefillMs: finite,
  cancelled: z.boolean(),
});

export const generationWorkerContract = {
  requests: {
    /** Loads the model in the worker; one model per worker. */
    'runtime.open': {
      input: z
        .object({
          dir: z.string().min(1),
          options: z
            .object({ device: z.enum(DEVICES).optional(), threads: count.optional(), prefillChunk: count.optional() })
            .strict(),
        })
        .strict(),
      output: openedSchema,
    },
    'runtime.generate': {
      input: z
        .object({
          ...promptSource,
          maxNewTokens: count,
          sampling: samplingParamsSchema,
          seed: count,
          n: count,
          stopStrings: z.array(z.string()).optional(),
          endOfSentence: z.boolean().optional(),
          /** The merged lists (global and the document's); the doubled bound holds both. */
          steering: mergedSteeringSchema.optional(),
          allowSpecialTokens: z.boolean().optional(),
          tokenProbabilities: z.boolean().optional(),
        })
        .strict(),
      output: generateResultSchema,
    },
    'runtime.prefill': {
      input: z.object({ ...promptSource, maxNewTokens: count }).strict(),
      output: prefillResultSchema,
    },
    /** The context a generation of this input would read, part by part (nothing runs). */
    'runtime.context': {
      input: z.object({ ...promptSource, maxNewTokens: count }).strict(),
      output: z.object({ parts: contextPartsSchema, positions: z.number().int().positive() }),
    },
    /** Cancels what runs and releases the model; the worker may then be ended. */
    'runtime.close': { input: z.object({}).strict(), output: z.null() },
  },
  events: {
    'runtime.delta': generationEvents['generation.delta'].omit({ requestId: true }),
  },
} as const;

export type GenerationWorkerContract = typeof generationWorkerContract;
export type OpenedInfo = z.output<typeof openedSchema>;
export type PromptSource = Omit<z.input<GenerationWorkerContract['requests']['runtime.prefill']['input']>, 'maxNewTokens'>;
export type RemoteGenerateInput = z.input<GenerationWorkerContract['requests']['runtime.generate']['input']>;
export type RemoteGenerateResult = z.output<typeof generateResultSchema>;
/** A delta as the worker streams it: the service adds its request id. */
export type RemoteDelta = z.output<GenerationWorkerContract['events']['runtime.delta']>;
