/**
 * Requests of the documents, history, settings and database services (see contract.ts for the conventions).
 * Every payload is bounded: ids are positive integers, titles and queries are short, texts are at most a few MB,
 * and strings with lone surrogates are refused (short fields) or repaired to U+FFFD (long texts), never corrupted.
 */
import { z } from 'zod';
import { documentAidsPatchSchema, documentAidsSchema } from './document-aids';
import { exportOptionsSchema, MAX_IMPORT_BASE64 } from './manuscript-files';
import { settingsSchema } from './settings';

/** Where a continuation stands: offered, taken, refused, taken and then changed, or cut off by the end of its run. */
export const GENERATION_STATUSES = ['proposed', 'accepted', 'rejected', 'edited', 'interrupted'] as const;
export type GenerationStatus = (typeof GENERATION_STATUSES)[number];

const MAX_TITLE = 500;
/** ~5 million characters: a long novel, with room to spare. */
const MAX_TEXT = 5_000_000;

// In a `u` regex, surrogate code units only match when unpaired.
const LONE_SURROGATE = /[\ud800-\udfff]/u;
const id = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const wellFormed = (max: number) => z.string().max(max).refine((s) => !LONE_SURROGATE.test(s), 'contains a lone surrogate (broken UTF-16)');
/** Long editor texts: a lone surrogate (half an emoji) is replaced, not a reason to refuse an autosave. */
const text = (max: number) => z.string().max(max).transform((s) => s.replace(new RegExp(LONE_SURROGATE.source, 'gu'), '\ufffd'));
const time = z.number().int().nonnegative().max(8_640_000_000_000_000);
const writingMode = z.enum(['horizontal', 'vertical']);
const status = z.enum(GENERATION_STATUSES);
const cursor = z.string().max(100).nullable().optional();
const limit = (max: number, fallback: number) => z.number().int().min(1).max(max).default(fallback);

const documentSummary = z.object({
  id,
  uuid: z.string(),
  title: z.string(),
  createdAt: time,
  updatedAt: time,
  deletedAt: time.nullable(),
  charCount: z.number().int().nonnegative(),
  preview: z.string(),
  writingMode,
});
const offset = z.number().int().nonnegative();
/** [from, to) offsets, and the history entry the text came from when known. */
const textRange = z
  .union([z.tuple([offset, offset]), z.tuple([offset, offset, id])])
  .refine(([from, to]) => from < to, 'from must be before to');
const documentRecord = documentSummary.extend({ body: z.string(), memo: z.string(), generatedRanges: z.array(textRange), aids: documentAidsSchema });
const revisionSummary = z.object({ id, documentId: id, createdAt: time, reason: z.string(), charCount: z.number().int(), preview: z.string() });
const snippet = z.object({ text: z.string(), highlights: z.array(z.tuple([z.number().int(), z.number().int()])) });

const json: z.ZodType<unknown> = z.lazy(() => z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(json), z.record(z.string(), json)]));
const generationRecord = z.object({
  id,
  uuid: z.string(),
  documentId: id.nullable(),
  groupId: z.string(),
  altIndex: z.number().int(),
  contextBefore: z.string(),
  contextAfter: z.string(),
  text: z.string(),
  tokenIds: z.array(z.number().int()),
  params: z.record(z.string(), json),
  seed: z.number().int().nullable(),
  modelId: z.string(),
  precision: z.string(),
  device: z.string(),
  timings: z.record(z.string(), z.number()),
  finishReason: z.string().nullable(),
  status,
  statusChangedAt: time.nullable(),
  createdAt: time,
});
const generationHit = z.object({ id, documentId: id.nullable(), createdAt: time, status, modelId: z.string(), text: z.string(), snippet });
/** One generation in the tree of a point; `parentId`: the one it continues (null at the point itself). */
const branchNode = z.object({
  id,
  parentId: id.nullable(),
  groupId: z.string(),
  altIndex: z.number().int(),
  text: z.string(),
  seed: z.number().int().nullable(),
  status,
  finishReason: z.string().nullable(),
  createdAt: time,
});
/** The tail of the text before a point that a branch request carries: longer than any context the model reads. */
export const MAX_BRANCH_POINT = 20_000;
const documentHit = z.object({ documentId: id, title: z.string(), updatedAt: time, snippet });

const historyFilter = z.object({
  documentId: id.optional(),
  status: status.optional(),
  modelId: wellFormed(1000).optional(),
  /** createdAt ≥ from (ms since epoch). */
  from: time.optional(),
  /** createdAt < to. */
  to: time.optional(),
});

const count = z.number().int().nonnegative();
const salvage = z.object({
  documents: z.object({ added: count, updated: count, unchanged: count }),
  generations: z.object({ added: count, unchanged: count }),
  incomplete: z.array(z.string()),
  /** Per table, at most this many rows were lost; null: an unknown number (the table could not be read at all). */
  unreadable: z.object({ documents: count.nullable(), revisions: count.nullable(), generations: count.nullable() }),
  error: z.string().nullable(),
});
const recovery = z
  .object({ damagedPath: z.string(), backupPath: z.string().nullable(), backupCreatedAt: time.nullable(), problem: z.string(), salvage: salvage.nullable() })
  .nullable();
const backupInfo = z.object({ path: z.string(), createdAt: time, reason: z.string(), bytes: z.number().int() });
const exportFormat = z.enum(['md', 'txt', 'jsonl']);

export const storeRequests = {
  'documents.list': {
    input: z.object({ cursor, limit: limit(200, 50) }).strict(),
    output: z.object({ items: z.array(documentSummary), nextCursor: z.string().nullable() }),
  },
  'documents.create': {
    input: z
      .object({ title: wellFormed(MAX_TITLE).optional(), body: text(MAX_TEXT).optional(), memo: text(MAX_TEXT).optional(), writingMode: writingMode.optional(), aids: documentAidsPatchSchema.optional() })
      .strict(),
    output: documentRecord,
  },
  'documents.rename': { input: z.object({ id, title: wellFormed(MAX_TITLE) }).strict(), output: documentSummary },
  'documents.get': { input: z.object({ id }).strict(), output: documentRecord },
  /** The autosave: the editor's text, and/or its memo, writing mode, generated ranges and aids. */
  'documents.save': {
    input: z
      .object({
        id,
        body: text(MAX_TEXT).optional(),
        memo: text(MAX_TEXT).optional(),
        writingMode: writingMode.optional(),
        /** Offsets into `body` of the text accepted from the model (for the model/writer share). */
        generatedRanges: z.array(textRange).max(100_000).optional(),
        /** The parts of the document's aids that changed (steering, author's note, book); the others stay. */
        aids: documentAidsPatchSchema.optional(),
      })
      .strict(),
    output: z.object({ id, updatedAt: time, revisionId: id.nullable(), changed: z.boolean() }),
  },
  /** To the trash; `permanent` removes a document already in the trash for good (its generations stay). */
  'documents.delete': {
    input: z.object({ id, permanent: z.boolean().default(false) }).strict(),
    output: z.object({ id, deletedAt: time.nullable(), purged: z.boolean() }),
  },
  'documents.restore': { input: z.object({ id }).strict(), output: documentSummary },
  'documents.trash': {
    input: z.object({ limit: limit(500, 100), offset: z.number().int().min(0).max(1_000_000).default(0) }).strict(),
    output: z.object({ items: z.array(documentSummary) }),
  },
  'documents.revisions': { input: z.object({ id }).strict(), output: z.object({ items: z.array(revisionSummary) }) },
  'documents.revision': { input: z.object({ revisionId: id }).strict(), output: revisionSummary.extend({ body: z.string() }) },
  'documents.restoreRevision': { input: z.object({ id, revisionId: id }).strict(), output: documentRecord },
  /** A document as a manuscript file (plain text, Markdown, EPUB or .docx); the UI saves `base64`'s bytes as `filename`. */
  'documents.export': {
    input: z.object({ id, options: exportOptionsSchema }).strict(),
    output: z.object({ filename: z.string(), mimeType: z.string(), base64: z.string() }),
  },
  /** A text (UTF-8, UTF-16, Shift_JIS or EUC-JP) or .docx file, as base64, into a new document titled by `name`. */
  'documents.import': {
    input: z.object({ name: wellFormed(500), base64: z.string().max(MAX_IMPORT_BASE64).regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64') }).strict(),
    output: documentRecord,
  },

  'history.list': {
    input: historyFilter.extend({ cursor, limit: limit(200, 50) }).strict(),
    output: z.object({ items: z.array(generationRecord), nextCursor: z.string().nullable() }),
  },
  /** Generations (paged by `cursor`) and documents (first `limit`) containing `query`; 1–2 characters work too. */
  'history.search': {
    input: historyFilter
      .extend({
        query: wellFormed(200).refine((q) => q.trim().length > 0, 'must not be empty'),
        target: z.enum(['all', 'generations', 'documents']).default('all'),
        cursor,
        limit: limit(200, 50),
      })
      .strict(),
    output: z.object({ generations: z.array(generationHit), documents: z.array(documentHit), nextCursor: z.string().nullable() }),
  },
  'history.get': { input: z.object({ id }).strict(), output: z.object({ generation: generationRecord, siblings: z.array(generationRecord) }) },
  /** Accepting one alternative marks its still-proposed siblings rejected. */
  'history.setStatus': { input: z.object({ id, status }).strict(), output: generationRecord },
  /**
   * The generations that continued a document's text at a point (`before`: the model's text before it, or its last
   * MAX_BRANCH_POINT characters), with those made after one of them as its children: at most 200, breadth first.
   */
  'history.branches': {
    input: z.object({ documentId: id, before: text(MAX_BRANCH_POINT) }).strict(),
    output: z.object({ nodes: z.array(branchNode), truncated: z.boolean() }),
  },
  'history.delete': { input: z.object({ ids: z.array(id).min(1).max(10_000) }).strict(), output: z.object({ deleted: z.number().int() }) },
  /** A document (`documentId`), search results (`query` + filters) or the whole history; the UI saves `content`. */
  'history.export': {
    input: historyFilter.extend({ format: exportFormat, query: wellFormed(200).optional() }).strict(),
    output: z.object({ filename: z.string(), mimeType: z.string(), content: z.string() }),
  },

  /** A JSONL export (from `history.export` with format jsonl and no filters, or `tsuzuki history export`), all or nothing. */
  'history.import': {
    input: z.object({ content: z.string().max(100_000_000), name: wellFormed(500).default('import.jsonl') }).strict(),
    output: z.object({
      documents: z.object({ added: z.number().int(), updated: z.number().int(), unchanged: z.number().int() }),
      generations: z.object({ added: z.number().int(), updated: z.number().int(), unchanged: z.number().int() }),
      settings: z.object({ added: z.number().int(), unchanged: z.number().int() }),
    }),
  },

  'settings.get': { input: z.object({}).strict(), output: settingsSchema },
  /** Replaces the given sections; the result is the whole, validated settings. */
  'settings.set': { input: settingsSchema.partial().strict(), output: settingsSchema },

  /**
   * Cheap, for the UI at start: `recovery` is set when the database was damaged: the app restored its newest good
   * backup (none: `backupPath` null) and salvaged what it could read from the damaged file, kept at `damagedPath`
   * (tell the user what was recovered, what was not, and where that file is).
   */
  'db.status': {
    input: z.object({}).strict(),
    output: z.object({
      path: z.string(),
      schemaVersion: z.number().int(),
      created: z.boolean(),
      migratedFrom: z.number().int(),
      recovery,
      backups: z.array(backupInfo),
    }),
  },
  /** Full integrity check (seconds on a large file). */
  'db.check': {
    input: z.object({}).strict(),
    output: z.object({
      path: z.string(),
      ok: z.boolean(),
      integrity: z.array(z.string()),
      schemaVersion: z.number().int(),
      documents: z.number().int(),
      generations: z.number().int(),
      backups: z.array(backupInfo),
      recovery,
    }),
  },
  'db.backup': { input: z.object({}).strict(), output: backupInfo },
} as const;
