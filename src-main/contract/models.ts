/**
 * Requests and events of the models service (see contract.ts for the conventions): the installed models, the one
 * in use, and jobs that add a model (download from the hub or import a folder, then convert). Every change of a
 * job is a `models.job` event, sent to every window that listed the models or started a job.
 */
import { z } from 'zod';
import { errorInfoSchema } from './errors';

const precision = z.enum(['fp32', 'fp16', 'int8', 'int4']);
const modelId = z.string().min(1).max(200).regex(/^[\w.-]+$/, 'letters, digits, . _ - only');
const jobId = z.string().min(1).max(100);
const repo = z.string().min(3).max(200).regex(/^[\w.-]+\/[\w.-]+$/, 'a Hugging Face repo id such as rinna/japanese-gpt-1b');
const revision = z.string().min(1).max(200).regex(/^[^\s/][^\s]*$/, 'a branch, tag or commit');
const bytes = z.number().int().nonnegative();

const variant = z.object({ precision, dir: z.string(), bytes, blockSize: z.number().int().nullable(), createdAt: z.string() });
const installedModel = z.object({
  id: z.string(),
  dir: z.string(),
  repo: z.string().nullable(),
  source: z
    .object({ dir: z.string(), repo: z.string().nullable(), revision: z.string().nullable(), commit: z.string().nullable(), bytes, files: z.array(z.string()) })
    .nullable(),
  variants: z.array(variant),
  active: precision.nullable(),
  pending: z.object({ bytes }).nullable(),
});
const activeModel = z.object({ id: z.string(), precision, dir: z.string() });

const modelJobSchema = z.object({
  jobId,
  modelId: z.string(),
  repo: z.string().nullable(),
  precision,
  state: z.enum(['running', 'paused', 'done', 'failed', 'cancelled']),
  stage: z.enum(['download', 'import', 'convert', 'done']),
  download: z
    .object({
      repo: z.string(),
      phase: z.string(),
      file: z.string().nullable(),
      fileBytes: bytes,
      fileTotal: bytes,
      bytes,
      total: bytes,
      speed: z.number(),
      etaSeconds: z.number().nullable(),
      filesDone: z.number().int(),
      filesTotal: z.number().int(),
    })
    .nullable(),
  convert: z.object({ phase: z.string(), done: z.number(), total: z.number(), detail: z.string() }).nullable(),
  error: errorInfoSchema.nullable(),
});

export const modelsRequests = {
  'models.list': {
    input: z.object({}).strict(),
    output: z.object({
      dir: z.string(),
      models: z.array(installedModel),
      active: activeModel.nullable(),
      /** The model generation uses: the active one, or a folder given at start (`tsuzuki serve --model`). */
      inUse: z
        .object({
          id: z.string(),
          dir: z.string(),
          /** Its window (positions): the Settings form bounds the length by it. Null when its manifest cannot be read. */
          positions: z.number().int().positive().nullable(),
        })
        .nullable(),
      jobs: z.array(modelJobSchema),
    }),
  },
  /** What adding a repo would download, the free space there, and the precision recommended on this machine. */
  'models.plan': {
    input: z.object({ repo, revision: revision.default('main') }).strict(),
    output: z.object({
      repo: z.string(),
      commit: z.string(),
      files: z.array(z.object({ path: z.string(), size: bytes.nullable() })),
      downloadBytes: bytes,
      freeBytes: bytes,
      recommendedPrecision: precision,
      gpu: z.boolean(),
    }),
  },
  'models.add': {
    input: z.object({ repo, revision: revision.default('main'), precision: precision.optional(), activate: z.boolean().optional() }).strict(),
    output: z.object({ jobId }),
  },
  /** A local folder: Hugging Face layout (converted afterwards), an HF cache snapshot, or a converted Tsuzuki model. */
  'models.import': {
    input: z.object({ path: z.string().min(1).max(4096), precision: precision.optional(), activate: z.boolean().optional() }).strict(),
    output: z.object({ jobId }),
  },
  'models.pause': { input: z.object({ jobId }).strict(), output: z.null() },
  'models.resume': { input: z.object({ jobId }).strict(), output: z.null() },
  'models.cancel': { input: z.object({ jobId }).strict(), output: z.null() },
  'models.setActive': { input: z.object({ id: modelId, precision: precision.optional() }).strict(), output: activeModel },
  'models.remove': {
    input: z.object({ id: modelId, part: z.enum(['source', 'converted', 'all']).default('all'), precision: precision.optional() }).strict(),
    output: z.null(),
  },
  'models.verify': {
    input: z.object({ id: modelId }).strict(),
    output: z.object({
      id: z.string(),
      ok: z.boolean(),
      files: z.array(z.object({ part: z.string(), path: z.string(), ok: z.boolean(), problem: z.string().nullable() })),
    }),
  },
} as const;

export const modelsEvents = {
  'models.job': modelJobSchema,
} as const;
