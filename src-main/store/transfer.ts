/**
 * Moving history between machines: everything as JSONL (one record per line) and back. Records carry uuids, so
 * importing the same file twice adds nothing; an import runs in one transaction, so a failure leaves the
 * database as it was.
 */
import type Database from 'better-sqlite3';
import { z } from 'zod';
import { documentAidsSchema, type DocumentAids } from '../contract/document-aids';
import { TsuzukiError } from '../contract/errors';
import { countChars } from '../manuscript/counts';
import type { DocumentsRepo, TextRange } from './documents';
import { GENERATION_STATUSES } from '../contract/store';
import type { GenerationRecord, GenerationsRepo, JsonValue } from './generations';
import type { SettingsRepo } from './settings';

const EXPORT_FORMAT_VERSION = 1;

const MAX_TEXT = 20_000_000;
const text = (max = MAX_TEXT) => z.string().max(max);
const time = z.number().int().nonnegative();
const json: z.ZodType<JsonValue> = z.lazy(() => z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(json), z.record(z.string(), json)]));

const headerRecord = z.object({ type: z.literal('tsuzuki-export'), version: z.number().int() }).loose();

const documentRecord = z.object({
  type: z.literal('document'),
  uuid: text(100).min(1),
  title: text(10_000),
  body: text(),
  memo: text().default(''),
  writingMode: z.enum(['horizontal', 'vertical']).default('horizontal'),
  createdAt: time,
  updatedAt: time,
  deletedAt: time.nullable().default(null),
  revisions: z.array(z.object({ body: text(), createdAt: time, reason: text(100) })).default([]),
  /** [from, to) (and the generation) of the text that came from the model. */
  generatedRanges: z
    .array(z.union([z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]), z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative(), z.number().int()])]))
    .max(100_000)
    .default([]),
  /** Steering, author's note and character book (exports before schema 9 have none: the defaults). */
  aids: documentAidsSchema.prefault({}),
});

const generationRecord = z.object({
  type: z.literal('generation'),
  uuid: text(100).min(1),
  documentUuid: text(100).nullable(),
  groupId: text(100),
  altIndex: z.number().int().nonnegative(),
  contextBefore: text(),
  contextAfter: text(),
  text: text(),
  tokenIds: z.array(z.number().int()),
  params: z.record(z.string(), json),
  seed: z.number().int().nullable(),
  modelId: text(1000),
  precision: text(100),
  device: text(100),
  timings: z.record(z.string(), z.number()),
  finishReason: text(100).nullable().default(null),
  status: z.enum(GENERATION_STATUSES),
  statusChangedAt: time.nullable().default(null),
  createdAt: time,
});

const settingRecord = z.object({ type: z.literal('setting'), key: text(200), value: json });

const record = z.discriminatedUnion('type', [headerRecord, documentRecord, generationRecord, settingRecord]);

export type TransferRecord = z.infer<typeof record>;

/** Validates one record (from a file, or salvaged from a damaged database): the record, or what is wrong with it. */
export function parseRecord(value: unknown): { record: TransferRecord } | { problem: string } {
  const result = record.safeParse(value);
  if (result.success) return { record: result.data };
  const issue = result.error.issues[0]!;
  return { problem: `${issue.path.join('.') || 'record'}: ${issue.message}` };
}

export interface ImportSummary {
  documents: { added: number; updated: number; unchanged: number };
  generations: { added: number; updated: number; unchanged: number };
  settings: { added: number; unchanged: number };
}

export function documentLine(
  doc: {
    uuid: string; title: string; body: string; memo: string; writingMode: string; createdAt: number; updatedAt: number; deletedAt: number | null;
    generatedRanges?: TextRange[]; aids: DocumentAids;
  },
  revisions: Array<{ body: string; createdAt: number; reason: string }> = [],
): string {
  const { uuid, title, body, memo, writingMode, createdAt, updatedAt, deletedAt, generatedRanges = [], aids } = doc;
  return JSON.stringify({ type: 'document', uuid, title, body, memo, writingMode, createdAt, updatedAt, deletedAt, revisions, generatedRanges, aids });
}

export function generationLine(g: GenerationRecord, documentUuid: string | null): string {
  const { id: _id, documentId: _documentId, uuid, ...rest } = g;
  return JSON.stringify({ type: 'generation', uuid, documentUuid, ...rest });
}

function headerLine(schemaVersion: number): string {
  return JSON.stringify({ type: 'tsuzuki-export', version: EXPORT_FORMAT_VERSION, schema: schemaVersion, exportedAt: new Date().toISOString() });
}

export interface Repos {
  db: Database.Database;
  documents: DocumentsRepo;
  generations: GenerationsRepo;
  settings: SettingsRepo;
}

/** Every document (with its revisions), generation and setting, one JSON record per line. */
export function* exportAll({ db, documents, generations, settings }: Repos): Generator<string> {
  yield headerLine(db.pragma('user_version', { simple: true }) as number);
  const ids = db.prepare('SELECT id FROM documents ORDER BY id').pluck().all() as number[];
  for (const id of ids) {
    const revisions = documents.revisions(id).reverse().map((r) => {
      const { body, createdAt, reason } = documents.revision(r.id);
      return { body, createdAt, reason };
    });
    yield documentLine(documents.get(id), revisions);
  }
  const uuids = new Map(db.prepare('SELECT id, uuid FROM documents').all().map((r) => [(r as { id: number }).id, (r as { uuid: string }).uuid]));
  for (let after = 0; ;) {
    const page = db.prepare('SELECT id FROM generations WHERE id > ? ORDER BY id LIMIT 1000').pluck().all(after) as number[];
    if (page.length === 0) break;
    for (const id of page) {
      const g = generations.get(id);
      yield generationLine(g, g.documentId === null ? null : uuids.get(g.documentId) ?? null);
    }
    after = page[page.length - 1]!;
  }
  for (const { key, value } of settings.all()) yield `{"type":"setting","key":${JSON.stringify(key)},"value":${value}}`;
}

/** Parses and validates every line first, then applies them all in one transaction. */
export function importJsonl(repos: Repos, content: string, source: string): ImportSummary {
  const records: TransferRecord[] = [];
  content.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      throw new TsuzukiError('invalid_argument', `${source}, line ${i + 1}: not JSON. Nothing was imported.`);
    }
    const result = parseRecord(parsed);
    if ('problem' in result) throw new TsuzukiError('invalid_argument', `${source}, line ${i + 1}: ${result.problem}. Nothing was imported.`);
    if (result.record.type === 'tsuzuki-export' && result.record.version > EXPORT_FORMAT_VERSION) {
      throw new TsuzukiError('unsupported', `${source} was exported by a newer Tsuzuki (format ${result.record.version}). Update Tsuzuki to import it.`);
    }
    records.push(result.record);
  });
  return applyRecords(repos, records, 'before-import');
}

/**
 * Merges records into the database in one transaction, by uuid: a document newer than ours replaces our text (ours
 * stays reachable as a revision named `reason`, and the newer revisions come along); missing documents and
 * generations are added; a newer generation status wins.
 */
export function applyRecords(repos: Repos, records: TransferRecord[], reason: string): ImportSummary {
  const summary: ImportSummary = {
    documents: { added: 0, updated: 0, unchanged: 0 },
    generations: { added: 0, updated: 0, unchanged: 0 },
    settings: { added: 0, unchanged: 0 },
  };
  const { db, documents, generations, settings } = repos;
  const setStatus = db.prepare('UPDATE generations SET status = ?, status_changed_at = ? WHERE id = ?');
  const insertRevision = db.prepare(`INSERT INTO document_revisions (document_id, body, created_at, reason, char_count, preview)
    VALUES (@id, @body, @createdAt, @reason, @charCount, substr(@body, 1, 240))`);
  const updateDocument = db.prepare('UPDATE documents SET title = ?, memo = ?, writing_mode = ?, deleted_at = ? WHERE id = ?');
  db.transaction(() => {
    for (const r of records) {
      if (r.type !== 'document') continue;
      const local = documents.findByUuid(r.uuid);
      if (!local) {
        const { id } = documents.create(r);
        for (const rev of r.revisions) insertRevision.run({ id, body: rev.body, createdAt: rev.createdAt, reason: rev.reason, charCount: countChars(rev.body) });
        documents.setGeneratedRanges(id, r.generatedRanges);
        summary.documents.added++;
      } else if (r.updatedAt > local.updatedAt) {
        // The other text is newer; ours stays reachable as a revision, followed by the other's newer ones.
        documents.save(local.id, r.body, r.updatedAt, reason);
        for (const rev of r.revisions) {
          if (rev.createdAt > local.updatedAt) insertRevision.run({ id: local.id, body: rev.body, createdAt: rev.createdAt, reason: rev.reason, charCount: countChars(rev.body) });
        }
        updateDocument.run(r.title, r.memo, r.writingMode, r.deletedAt, local.id);
        documents.setGeneratedRanges(local.id, r.generatedRanges);
        documents.setAids(local.id, r.aids, r.updatedAt);
        summary.documents.updated++;
      } else summary.documents.unchanged++;
    }
    for (const r of records) {
      if (r.type === 'generation') {
        const local = generations.findByUuid(r.uuid);
        if (!local) {
          const documentId = r.documentUuid === null ? null : documents.findByUuid(r.documentUuid)?.id ?? null;
          generations.insert({ ...r, documentId });
          summary.generations.added++;
        } else if ((r.statusChangedAt ?? 0) > (local.statusChangedAt ?? 0) && r.status !== local.status) {
          setStatus.run(r.status, r.statusChangedAt, local.id);
          summary.generations.updated++;
        } else summary.generations.unchanged++;
      } else if (r.type === 'setting') {
        if (settings.setIfMissing(r.key, JSON.stringify(r.value))) summary.settings.added++;
        else summary.settings.unchanged++;
      }
    }
  })();
  return summary;
}
