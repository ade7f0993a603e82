/**
 * The contract between the main thread and the database worker (workers/store.worker.ts), over the worker-thread
 * transport. The store requests of the app's contract pass through unchanged (the main thread's router has checked
 * them; the worker's checks them again, as every host does); the rest is what only the main thread asks for.
 */
import { z } from 'zod';
import { storeRequests } from '../contract/store';
import { GENERATION_STATUSES } from '../contract/store';
import type { JsonValue } from '../store/generations';

const count = z.number().int().nonnegative();
const jsonValue: z.ZodType<JsonValue, JsonValue> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(jsonValue), z.record(z.string(), jsonValue)]),
);

/** One history entry as the generation service writes it (store/generations.ts's NewGeneration). */
const newGenerationSchema = z
  .object({
    documentId: z.number().int().positive().nullable(),
    groupId: z.string().min(1).max(100),
    altIndex: count,
    contextBefore: z.string(),
    contextAfter: z.string(),
    text: z.string(),
    tokenIds: z.array(count),
    params: z.record(z.string(), jsonValue),
    seed: count.nullable(),
    modelId: z.string(),
    precision: z.string(),
    device: z.string(),
    timings: z.record(z.string(), z.number()),
    finishReason: z.string().nullable(),
    status: z.enum(GENERATION_STATUSES),
  })
  .strict();
export type NewGenerationInput = z.input<typeof newGenerationSchema>;

export const storeWorkerContract = {
  requests: {
    ...storeRequests,
    /**
     * Opens the database the way the app and `tsuzuki serve` do (services/open-store.ts); answers the notices to log
     * (a recovery, a skipped backup). A database that cannot be opened is an error with the reason.
     */
    'store.open': { input: z.object({ path: z.string().min(1) }).strict(), output: z.object({ notices: z.array(z.string()) }) },
    /** Stores the generation's entries in one transaction; answers their ids in order. */
    'generations.record': { input: z.object({ entries: z.array(newGenerationSchema).max(64) }).strict(), output: z.array(z.number().int().positive()) },
    /** Checkpoints and closes the database; the worker may then be ended. */
    'store.close': { input: z.object({}).strict(), output: z.null() },
  },
  events: {},
} as const;

export type StoreWorkerContract = typeof storeWorkerContract;
