import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { documentAidsSchema, type DocumentAids, type DocumentAidsPatch } from '../contract/document-aids';
import { TsuzukiError } from '../contract/errors';
import { countChars } from '../manuscript/counts';
import { chunkHash, chunkRanges, DELETE_GARBAGE } from './chunks';

export type WritingMode = 'horizontal' | 'vertical';

export interface DocumentSummary {
  id: number;
  uuid: string;
  title: string;
  createdAt: number;
  updatedAt: number;
  deletedAt: number | null;
  charCount: number;
  preview: string;
  writingMode: WritingMode;
}

/** [from, to) offsets into the text, and the generation it came from when known. */
export type TextRange = [from: number, to: number] | [from: number, to: number, generationId: number];

export interface DocumentRecord extends DocumentSummary {
  /** Offsets of the text accepted from the model. */
  generatedRanges: TextRange[];
  body: string;
  memo: string;
  /** Steering, author's note and character book (contract/document-aids.ts). */
  aids: DocumentAids;
}

export interface RevisionSummary {
  id: number;
  documentId: number;
  createdAt: number;
  reason: string;
  charCount: number;
  preview: string;
}

/** Revisions kept per document; older ones are dropped. */
export const MAX_REVISIONS = 50;
/** A save snapshots the text it replaces when the last snapshot is older than this… */
export const REVISION_INTERVAL_MS = 5 * 60_000;
/** …or when it replaces this much of the text at once (a paste over everything, a big deletion). */
const LARGE_CHANGE_CHARS = 500;
const PREVIEW_CHARS = 120;

interface Row {
  id: number;
  uuid: string;
  title: string;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
  char_count: number;
  preview: string;
  writing_mode: WritingMode;
}

const SUMMARY = 'id, uuid, title, created_at, updated_at, deleted_at, char_count, preview, writing_mode';

function toSummary(row: Row): DocumentSummary {
  return {
    id: row.id,
    uuid: row.uuid,
    title: row.title,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deletedAt: row.deleted_at,
    charCount: row.char_count,
    preview: row.preview,
    writingMode: row.writing_mode,
  };
}

/** Stored ranges that no longer parse are dropped: they only feed a statistic. */
function parseRanges(json: string): TextRange[] {
  try {
    const value = JSON.parse(json) as unknown;
    if (!Array.isArray(value)) return [];
    return value.filter(
      (r): r is TextRange =>
        Array.isArray(r) && (r.length === 2 || (r.length === 3 && Number.isInteger(r[2]))) && Number.isInteger(r[0]) && Number.isInteger(r[1]) && r[0] < r[1],
    );
  } catch {
    return [];
  }
}

const AIDS_PARTS = ['steering', 'authorNote', 'book'] as const;

/**
 * The stored aids, checked part by part: a part that no longer parses (damaged, or written by a newer version)
 * reads as its defaults and the other parts are kept, so a document always opens.
 */
export function parseAids(json: string): DocumentAids {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    value = {};
  }
  const stored = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  const parts: Record<string, unknown> = {};
  for (const part of AIDS_PARTS) {
    if (documentAidsSchema.shape[part].safeParse(stored[part]).success) parts[part] = stored[part];
  }
  return documentAidsSchema.parse(parts);
}

function preview(text: string): string {
  const head = Array.from(text.slice(0, PREVIEW_CHARS * 2)).slice(0, PREVIEW_CHARS).join('');
  return head.replace(/\s+/g, ' ').trim();
}

/**
 * The 文字数 of an edited text from the old one's: the lines the edit [prefix, length - suffix) touches are counted
 * again, whole, because a ruby notation there may start or end outside the edit (typing 》 completes one).
 */
function recount(old: { body: string; charCount: number }, body: string, prefix: number, suffix: number): number {
  const start = prefix === 0 ? 0 : old.body.lastIndexOf('\n', prefix - 1) + 1;
  const lines = (text: string) => {
    const end = text.indexOf('\n', text.length - suffix);
    return text.slice(start, end === -1 ? text.length : end);
  };
  return old.charCount - countChars(lines(old.body)) + countChars(lines(body));
}

// ES2024 string methods (Node ≥ 20, native and fast); this project's TypeScript lib is ES2023.
const es2024 = String.prototype as unknown as { isWellFormed(this: string): boolean; toWellFormed(this: string): string };

/**
 * SQLite stores UTF-8, where a lone surrogate (half an emoji) becomes U+FFFD; doing that here keeps the cached
 * layout identical to what the file holds.
 */
function wellFormed(text: string): string {
  return es2024.isWellFormed.call(text) ? text : es2024.toWellFormed.call(text);
}

/**
 * The lengths of the common prefix and (not overlapping it) common suffix of two texts: the edit lies between.
 * Found by bisection on native string comparison, which beats a character loop on 200,000 characters.
 */
function commonEnds(before: string, after: string): { prefix: number; suffix: number } {
  const limit = Math.min(before.length, after.length);
  let lo = 0;
  let hi = limit;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (before.slice(lo, mid) === after.slice(lo, mid)) lo = mid;
    else hi = mid - 1;
  }
  const prefix = lo;
  lo = 0;
  hi = limit - prefix;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (before.slice(before.length - mid, before.length - lo) === after.slice(after.length - mid, after.length - lo)) lo = mid;
    else hi = mid - 1;
  }
  return { prefix, suffix: lo };
}

/** A document's text and how it is cut into stored chunks: chunk k is `body.slice(ends[k - 1] ?? 0, ends[k])`. */
interface Layout {
  body: string;
  ids: number[];
  ends: number[];
  charCount: number;
}

/** Index of the first element of the ascending `ends` greater than `value` (ends.length if none). */
function firstAbove(ends: number[], value: number): number {
  let lo = 0;
  let hi = ends.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ends[mid]! > value) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export interface Cursor {
  updatedAt: number;
  id: number;
}

/** Layouts of the documents used last, so that an autosave need not read 200,000 characters back first. */
const LAYOUT_CACHE_SIZE = 4;

export class DocumentsRepo {
  private readonly s;
  private readonly layouts = new Map<number, Layout>();
  /** Called after a write queues a document for indexing (the Store has DocumentSearch index it in the background). */
  onQueued: () => void = () => {};

  constructor(private readonly db: Database.Database) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      insert: p('INSERT INTO documents (uuid, title, created_at, updated_at, deleted_at, char_count, preview, memo, writing_mode, aids) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'),
      summary: p(`SELECT ${SUMMARY} FROM documents WHERE id = ?`),
      full: p(`SELECT ${SUMMARY}, memo, chunk_ids, generated_ranges, aids FROM documents WHERE id = ?`),
      aids: p('SELECT aids FROM documents WHERE id = ?'),
      setAids: p('UPDATE documents SET aids = @aids, updated_at = @now WHERE id = @id AND aids != @aids'),
      setRanges: p('UPDATE documents SET generated_ranges = @ranges WHERE id = @id AND generated_ranges != @ranges'),
      byUuid: p(`SELECT ${SUMMARY}, memo FROM documents WHERE uuid = ?`),
      chunkIds: p('SELECT chunk_ids FROM documents WHERE id = ?'),
      liveTexts: p('SELECT c.id AS id, t.body AS body FROM document_chunks c JOIN document_chunk_texts t ON t.chunk_id = c.id WHERE c.document_id = ? AND c.live = 1'),
      touch: p('UPDATE documents SET updated_at = ?, char_count = ?, preview = ?, chunk_ids = ? WHERE id = ?'),
      rename: p('UPDATE documents SET title = ?, updated_at = ? WHERE id = ?'),
      setMeta: p(`UPDATE documents SET memo = coalesce(@memo, memo), writing_mode = coalesce(@mode, writing_mode), updated_at = @now
        WHERE id = @id AND (memo != coalesce(@memo, memo) OR writing_mode != coalesce(@mode, writing_mode))`),
      setDeleted: p('UPDATE documents SET deleted_at = ? WHERE id = ?'),
      purge: p('DELETE FROM documents WHERE id = ?'),
      listActive: p(`SELECT ${SUMMARY} FROM documents WHERE deleted_at IS NULL AND (updated_at, id) < (?, ?) ORDER BY updated_at DESC, id DESC LIMIT ?`),
      listTrash: p(`SELECT ${SUMMARY} FROM documents WHERE deleted_at IS NOT NULL ORDER BY deleted_at DESC, id DESC LIMIT ? OFFSET ?`),
      lastRevision: p('SELECT created_at FROM document_revisions WHERE document_id = ? ORDER BY id DESC LIMIT 1'),
      insertRevision: p(`INSERT INTO document_revisions (document_id, body, created_at, reason, chunk_ids, char_count, preview)
        VALUES (?, '', ?, ?, ?, ?, ?)`),
      insertRevisionChunk: p('INSERT OR IGNORE INTO revision_chunks (revision_id, chunk_id) VALUES (?, ?)'),
      revisionTexts: p('SELECT t.chunk_id AS id, t.body AS body FROM revision_chunks r JOIN document_chunk_texts t ON t.chunk_id = r.chunk_id WHERE r.revision_id = ?'),
      pruneRevisions: p('DELETE FROM document_revisions WHERE document_id = ? AND id <= (SELECT id FROM document_revisions WHERE document_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)'),
      revisions: p('SELECT id, document_id, created_at, reason, char_count, preview FROM document_revisions WHERE document_id = ? ORDER BY id DESC'),
      revision: p('SELECT id, document_id, created_at, reason, char_count, preview, body, chunk_ids FROM document_revisions WHERE id = ?'),
      deleteGarbage: p(DELETE_GARBAGE),
      insertChunk: p('INSERT INTO document_chunks (document_id, hash) VALUES (?, ?)'),
      insertChunkText: p('INSERT INTO document_chunk_texts (chunk_id, body) VALUES (?, ?)'),
      retireChunk: p('UPDATE document_chunks SET live = 0 WHERE id = ?'),
      enqueue: p('INSERT INTO document_index_queue (document_id, stamp) VALUES (?, 0) ON CONFLICT (document_id) DO UPDATE SET stamp = stamp + 1'),
    };
  }

  create(input: {
    title: string; body?: string; memo?: string; writingMode?: WritingMode; aids?: DocumentAidsPatch;
    uuid?: string; createdAt?: number; updatedAt?: number; deletedAt?: number | null;
  }): DocumentRecord {
    const body = wellFormed(input.body ?? '');
    const now = Date.now();
    const id = this.durably(() => this.db.transaction(() => {
      const created = input.createdAt ?? now;
      const result = this.s.insert.run(
        input.uuid ?? randomUUID(), input.title, created, input.updatedAt ?? created, input.deletedAt ?? null,
        countChars(body), preview(body), input.memo ?? '', input.writingMode ?? 'horizontal', JSON.stringify(documentAidsSchema.parse(input.aids ?? {})),
      );
      const id = Number(result.lastInsertRowid);
      this.writeText(id, { body: '', ids: [], ends: [], charCount: 0 }, body, input.updatedAt ?? created);
      return id;
    })());
    this.onQueued();
    return this.get(id);
  }

  get(id: number): DocumentRecord {
    const row = this.s.full.get(id) as (Row & { memo: string; chunk_ids: string; generated_ranges: string; aids: string }) | undefined;
    if (!row) throw new TsuzukiError('not_found', `Document ${id} does not exist.`);
    return { ...toSummary(row), memo: row.memo, body: this.layoutOf(id).body, generatedRanges: parseRanges(row.generated_ranges), aids: parseAids(row.aids) };
  }

  findByUuid(uuid: string): (DocumentSummary & { memo: string }) | null {
    const row = this.s.byUuid.get(uuid) as (Row & { memo: string }) | undefined;
    return row ? { ...toSummary(row), memo: row.memo } : null;
  }

  summary(id: number): DocumentSummary {
    const row = this.s.summary.get(id) as Row | undefined;
    if (!row) throw new TsuzukiError('not_found', `Document ${id} does not exist.`);
    return toSummary(row);
  }

  /** Recently edited first; pass the last item's `{updatedAt, id}` as the cursor for the next page. */
  list(limit: number, cursor: Cursor | null): DocumentSummary[] {
    const rows = this.s.listActive.all(cursor?.updatedAt ?? Number.MAX_SAFE_INTEGER, cursor?.id ?? Number.MAX_SAFE_INTEGER, limit) as Row[];
    return rows.map(toSummary);
  }

  listTrash(limit: number, offset: number): DocumentSummary[] {
    return (this.s.listTrash.all(limit, offset) as Row[]).map(toSummary);
  }

  rename(id: number, title: string): DocumentSummary {
    this.summary(id);
    this.durably(() => this.s.rename.run(title, Date.now(), id));
    return this.summary(id);
  }

  /** Which text came from the model; returns whether it changed. */
  setGeneratedRanges(id: number, ranges: TextRange[]): boolean {
    return this.s.setRanges.run({ id, ranges: JSON.stringify(ranges) }).changes > 0;
  }

  /** Saves the memo and writing mode; returns whether anything changed (an unchanged save writes nothing). */
  setMeta(id: number, meta: { memo?: string; writingMode?: WritingMode }, now = Date.now()): boolean {
    this.summary(id);
    return this.durably(() => this.s.setMeta.run({ memo: meta.memo ?? null, mode: meta.writingMode ?? null, now, id }).changes > 0);
  }

  /** Replaces the parts of the aids that `patch` gives (the others stay); returns whether anything changed. */
  setAids(id: number, patch: DocumentAidsPatch, now = Date.now()): boolean {
    const row = this.s.aids.get(id) as { aids: string } | undefined;
    if (!row) throw new TsuzukiError('not_found', `Document ${id} does not exist.`);
    const aids = JSON.stringify(documentAidsSchema.parse({ ...parseAids(row.aids), ...patch }));
    return this.durably(() => this.s.setAids.run({ aids, now, id }).changes > 0);
  }

  /**
   * The autosave: writes the text durably (synchronous=FULL; the search index follows in the background) and snapshots
   * the text it replaces when the last revision is old, the change is large, or the caller gives a reason (an import).
   * A save of unchanged text writes nothing.
   */
  save(id: number, text: string, now = Date.now(), snapshotReason?: string): { updatedAt: number; revisionId: number | null; changed: boolean } {
    return this.autosave(id, { body: text }, now, snapshotReason);
  }

  /**
   * The editor's autosave: text, memo, writing mode, generated ranges and aids, each only when given, in one transaction,
   * so that a failure (or a crash) part-way leaves the previous version whole, never new text with an old memo.
   */
  autosave(
    id: number,
    change: { body?: string; memo?: string; writingMode?: WritingMode; generatedRanges?: TextRange[]; aids?: DocumentAidsPatch },
    now = Date.now(),
    snapshotReason?: string,
  ): { updatedAt: number; revisionId: number | null; changed: boolean } {
    const current = this.summary(id);
    const body = change.body === undefined ? null : wellFormed(change.body);
    const layout = body === null ? null : this.layoutOf(id);
    const result = this.durably(() =>
      this.db.transaction(() => {
        const text = layout && body !== null && layout.body !== body ? this.replaceText(id, current, layout, body, now, snapshotReason) : null;
        const meta = change.memo !== undefined || change.writingMode !== undefined ? this.setMeta(id, change, now) : false;
        const ranges = change.generatedRanges === undefined ? false : this.setGeneratedRanges(id, change.generatedRanges);
        const aids = change.aids === undefined ? false : this.setAids(id, change.aids, now);
        return { text, changed: text !== null || meta || ranges || aids };
      })(),
    );
    if (result.text) {
      this.remember(id, result.text.layout);
      this.onQueued();
    }
    return { updatedAt: result.changed ? now : current.updatedAt, revisionId: result.text?.revisionId ?? null, changed: result.changed };
  }

  /** Inside a transaction: snapshots the text `layout` stores when due (or for `snapshotReason`), then writes `body`. */
  private replaceText(id: number, current: DocumentSummary, layout: Layout, body: string, now: number, snapshotReason?: string): { revisionId: number | null; layout: Layout } {
    const old = layout.body;
    let revisionId: number | null = null;
    const last = this.s.lastRevision.get(id) as { created_at: number } | undefined;
    const { prefix, suffix } = commonEnds(old, body);
    const large = old.length - prefix - suffix >= Math.max(LARGE_CHANGE_CHARS, old.length / 4);
    if (snapshotReason) revisionId = this.snapshot(id, layout, current.updatedAt, snapshotReason);
    else if (old.length > 0 && (large || !last || now - last.created_at >= REVISION_INTERVAL_MS)) {
      revisionId = this.snapshot(id, layout, current.updatedAt, large ? 'large-change' : 'periodic');
    }
    return { revisionId, layout: this.writeText(id, layout, body, now) };
  }

  /**
   * Stores `body` as chunks, given how the previous text was stored: only the chunks around the edit are cut
   * again (chunk boundaries depend on their own paragraphs only, so past the edit the old chunks line up again);
   * of those, chunks with unchanged text are kept, new ones written, replaced ones retired (the indexer takes them
   * out of the index). Then queues the document for indexing. Returns the new layout.
   */
  private writeText(id: number, old: Layout, body: string, now: number): Layout {
    const { prefix, suffix } = commonEnds(old.body, body);
    const n = old.ids.length;
    const startOf = (k: number) => (k === 0 ? 0 : old.ends[k - 1]!);
    // First chunk touched by the edit (and the one before, when the edit starts exactly at a boundary).
    let first = Math.min(firstAbove(old.ends, prefix), Math.max(0, n - 1));
    if (first > 0 && startOf(first) === prefix) first -= 1;
    const from = n === 0 ? 0 : startOf(first);
    const delta = body.length - old.body.length;
    const ranges: Array<[number, number]> = [];
    let resume = n;
    for (const [start, end] of chunkRanges(body, from)) {
      ranges.push([start, end]);
      if (end >= body.length - suffix) {
        // Past the edit: if the old text had a chunk boundary here too, the rest is unchanged.
        const k = firstAbove(old.ends, end - delta - 1);
        if (k < n && old.ends[k] === end - delta) {
          resume = k + 1;
          break;
        }
      }
    }
    const replaced = new Map<string, number[]>();
    for (let k = first; k < resume && n > 0; k++) {
      const text = old.body.slice(startOf(k), old.ends[k]);
      const ids = replaced.get(text);
      if (ids) ids.push(old.ids[k]!);
      else replaced.set(text, [old.ids[k]!]);
    }
    const newIds = ranges.map(([start, end]) => {
      const text = body.slice(start, end);
      const kept = replaced.get(text)?.pop();
      if (kept !== undefined) return kept;
      const chunkId = Number(this.s.insertChunk.run(id, chunkHash(text)).lastInsertRowid);
      this.s.insertChunkText.run(chunkId, text);
      return chunkId;
    });
    for (const ids of replaced.values()) {
      for (const chunkId of ids) {
        // An indexed chunk is retired for the indexer to take out of the index; one never indexed can go now.
        this.s.retireChunk.run(chunkId);
        this.s.deleteGarbage.run({ id: chunkId });
      }
    }
    const keep = n === 0 ? 0 : first;
    const layout: Layout = {
      body,
      ids: [...old.ids.slice(0, keep), ...newIds, ...old.ids.slice(resume)],
      ends: [...old.ends.slice(0, keep), ...ranges.map(([, end]) => end), ...old.ends.slice(resume).map((end) => end + delta)],
      charCount: recount(old, body, prefix, suffix),
    };
    this.s.touch.run(now, layout.charCount, preview(body), layout.ids.join(','), id);
    this.s.enqueue.run(id);
    return layout;
  }

  private layoutOf(id: number): Layout {
    const cached = this.layouts.get(id);
    if (cached) return cached;
    const ids = ((this.s.chunkIds.get(id) as { chunk_ids: string } | undefined)?.chunk_ids ?? '').split(',').filter(Boolean).map(Number);
    const texts = new Map((this.s.liveTexts.all(id) as Array<{ id: number; body: string }>).map((r) => [r.id, r.body]));
    const ends: number[] = [];
    let body = '';
    for (const chunkId of ids) {
      body += texts.get(chunkId) ?? '';
      ends.push(body.length);
    }
    const layout = { body, ids, ends, charCount: countChars(body) };
    this.remember(id, layout);
    return layout;
  }

  /** Only outside transactions: a rolled-back write (or read of one) must not be remembered. */
  private remember(id: number, layout: Layout): void {
    this.layouts.delete(id);
    if (this.db.inTransaction) return;
    this.layouts.set(id, layout);
    if (this.layouts.size > LAYOUT_CACHE_SIZE) this.layouts.delete(this.layouts.keys().next().value!);
  }

  /** Runs a write with synchronous=FULL (the WAL is synced at commit), unless inside a caller's transaction. */
  private durably<T>(write: () => T): T {
    if (this.db.inTransaction) return write();
    this.db.pragma('synchronous = FULL');
    try {
      return write();
    } finally {
      this.db.pragma('synchronous = NORMAL');
    }
  }

  /**
   * A revision of the text as `layout` stores it: a list of the document's chunks, not a copy of the text. Those
   * chunks are kept while a revision needs them. Older revisions beyond MAX_REVISIONS go (their chunks are then
   * collected by the indexer).
   */
  private snapshot(id: number, layout: Layout, createdAt: number, reason: string): number {
    const revisionId = Number(this.s.insertRevision.run(id, createdAt, reason, layout.ids.join(','), countChars(layout.body), preview(layout.body)).lastInsertRowid);
    for (const chunkId of layout.ids) this.s.insertRevisionChunk.run(revisionId, chunkId);
    this.s.pruneRevisions.run(id, id, MAX_REVISIONS);
    return revisionId;
  }

  trash(id: number, now = Date.now()): DocumentSummary {
    this.summary(id);
    this.durably(() => this.s.setDeleted.run(now, id));
    return this.summary(id);
  }

  restore(id: number): DocumentSummary {
    this.summary(id);
    this.durably(() => this.s.setDeleted.run(null, id));
    return this.summary(id);
  }

  /** Removes a document for good, with its revisions; only from the trash. Its generations stay in the history. */
  purge(id: number): void {
    const doc = this.summary(id);
    if (doc.deletedAt === null) throw new TsuzukiError('invalid_argument', `Document ${id} is not in the trash; move it there first.`);
    this.s.purge.run(id);
    this.layouts.delete(id);
  }

  revisions(id: number): RevisionSummary[] {
    this.summary(id);
    const rows = this.s.revisions.all(id) as Array<{ id: number; document_id: number; created_at: number; reason: string; char_count: number; preview: string }>;
    return rows.map((r) => ({ id: r.id, documentId: r.document_id, createdAt: r.created_at, reason: r.reason, charCount: r.char_count, preview: preview(r.preview) }));
  }

  revision(revisionId: number): RevisionSummary & { body: string } {
    type RevisionRow = { id: number; document_id: number; created_at: number; reason: string; char_count: number; preview: string; body: string; chunk_ids: string | null };
    const r = this.s.revision.get(revisionId) as RevisionRow | undefined;
    if (!r) throw new TsuzukiError('not_found', `Revision ${revisionId} does not exist.`);
    let body = r.body;
    if (r.chunk_ids !== null) {
      const texts = new Map((this.s.revisionTexts.all(revisionId) as Array<{ id: number; body: string }>).map((t) => [t.id, t.body]));
      body = r.chunk_ids.split(',').filter(Boolean).map((chunkId) => {
        const text = texts.get(Number(chunkId));
        if (text === undefined) throw new TsuzukiError('corrupt_file', `Revision ${revisionId} lost part of its text (chunk ${chunkId}). Run \`tsuzuki db check\`.`);
        return text;
      }).join('');
    }
    return { id: r.id, documentId: r.document_id, createdAt: r.created_at, reason: r.reason, charCount: r.char_count, preview: preview(r.preview), body };
  }

  /** Puts a revision's text back; the text it replaces becomes a revision first, so a restore can be undone too. */
  restoreRevision(documentId: number, revisionId: number, now = Date.now()): DocumentRecord {
    const revision = this.revision(revisionId);
    if (revision.documentId !== documentId) throw new TsuzukiError('not_found', `Revision ${revisionId} does not belong to document ${documentId}.`);
    const current = this.summary(documentId);
    const layout = this.layoutOf(documentId);
    const restored = this.durably(() =>
      this.db.transaction(() => {
        if (layout.body !== revision.body) this.snapshot(documentId, layout, current.updatedAt, 'before-restore');
        // Revisions do not record which of their text came from the model.
        if (layout.body !== revision.body) this.setGeneratedRanges(documentId, []);
        return this.writeText(documentId, layout, revision.body, now);
      })(),
    );
    this.remember(documentId, restored);
    this.onQueued();
    return this.get(documentId);
  }


}
