import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { TsuzukiError } from '../util/errors';
import { chunkText } from './chunks';
import { makeSnippet, gramQuery, trigramQuery, usesGrams, type Snippet } from './text-index';

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

export interface DocumentRecord extends DocumentSummary {
  body: string;
  memo: string;
}

export interface RevisionSummary {
  id: number;
  documentId: number;
  createdAt: number;
  reason: string;
  charCount: number;
  preview: string;
}

export interface DocumentSearchHit {
  documentId: number;
  title: string;
  updatedAt: number;
  snippet: Snippet;
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

function preview(text: string): string {
  const head = Array.from(text.slice(0, PREVIEW_CHARS * 2)).slice(0, PREVIEW_CHARS).join('');
  return head.replace(/\s+/g, ' ').trim();
}

function charCount(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff) n++;
  }
  return n;
}

/** How many characters of `before` a save replaced: the length minus the common prefix and suffix. */
function replacedChars(before: string, after: string): number {
  const limit = Math.min(before.length, after.length);
  let prefix = 0;
  while (prefix < limit && before.charCodeAt(prefix) === after.charCodeAt(prefix)) prefix++;
  let suffix = 0;
  while (suffix < limit - prefix && before.charCodeAt(before.length - 1 - suffix) === after.charCodeAt(after.length - 1 - suffix)) suffix++;
  return before.length - prefix - suffix;
}

export interface Cursor {
  updatedAt: number;
  id: number;
}

export class DocumentsRepo {
  private readonly s;

  constructor(private readonly db: Database.Database) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      insert: p('INSERT INTO documents (uuid, title, created_at, updated_at, deleted_at, char_count, preview, memo, writing_mode) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'),
      insertBody: p('INSERT INTO document_bodies (document_id, body) VALUES (?, ?)'),
      summary: p(`SELECT ${SUMMARY} FROM documents WHERE id = ?`),
      full: p(`SELECT ${SUMMARY}, memo, (SELECT body FROM document_bodies WHERE document_id = documents.id) AS body FROM documents WHERE id = ?`),
      byUuid: p(`SELECT ${SUMMARY}, memo FROM documents WHERE uuid = ?`),
      body: p('SELECT body FROM document_bodies WHERE document_id = ?'),
      setBody: p('UPDATE document_bodies SET body = ? WHERE document_id = ?'),
      touch: p('UPDATE documents SET updated_at = ?, char_count = ?, preview = ? WHERE id = ?'),
      rename: p('UPDATE documents SET title = ?, updated_at = ? WHERE id = ?'),
      setMeta: p(`UPDATE documents SET memo = coalesce(@memo, memo), writing_mode = coalesce(@mode, writing_mode), updated_at = @now
        WHERE id = @id AND (memo != coalesce(@memo, memo) OR writing_mode != coalesce(@mode, writing_mode))`),
      setDeleted: p('UPDATE documents SET deleted_at = ? WHERE id = ?'),
      purge: p('DELETE FROM documents WHERE id = ?'),
      listActive: p(`SELECT ${SUMMARY} FROM documents WHERE deleted_at IS NULL AND (updated_at, id) < (?, ?) ORDER BY updated_at DESC, id DESC LIMIT ?`),
      listTrash: p(`SELECT ${SUMMARY} FROM documents WHERE deleted_at IS NOT NULL ORDER BY deleted_at DESC, id DESC LIMIT ? OFFSET ?`),
      lastRevision: p('SELECT created_at FROM document_revisions WHERE document_id = ? ORDER BY id DESC LIMIT 1'),
      insertRevision: p('INSERT INTO document_revisions (document_id, body, created_at, reason) VALUES (?, ?, ?, ?)'),
      pruneRevisions: p('DELETE FROM document_revisions WHERE document_id = ? AND id <= (SELECT id FROM document_revisions WHERE document_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)'),
      revisions: p('SELECT id, document_id, created_at, reason, length(body) AS length, substr(body, 1, ?) AS head FROM document_revisions WHERE document_id = ? ORDER BY id DESC'),
      revision: p('SELECT id, document_id, created_at, reason, body FROM document_revisions WHERE id = ?'),
      chunkHashes: p('SELECT id, hash FROM document_chunks WHERE document_id = ?'),
      insertChunk: p('INSERT INTO document_chunks (document_id, hash, body) VALUES (?, ?, ?)'),
      deleteChunk: p('DELETE FROM document_chunks WHERE id = ?'),
      searchTrigram: p(`SELECT d.id AS id, d.title AS title, d.updated_at AS updated_at, min(c.id) AS chunk_id FROM document_chunks_fts f
        JOIN document_chunks c ON c.id = f.rowid JOIN documents d ON d.id = c.document_id
        WHERE document_chunks_fts MATCH ? AND d.deleted_at IS NULL GROUP BY d.id ORDER BY d.updated_at DESC, d.id DESC LIMIT ?`),
      searchGrams: p(`SELECT d.id AS id, d.title AS title, d.updated_at AS updated_at, min(c.id) AS chunk_id FROM document_chunks_grams f
        JOIN document_chunks c ON c.id = f.rowid JOIN documents d ON d.id = c.document_id
        WHERE document_chunks_grams MATCH ? AND d.deleted_at IS NULL GROUP BY d.id ORDER BY d.updated_at DESC, d.id DESC LIMIT ?`),
      searchTitles: p(`SELECT id, title, updated_at, NULL AS chunk_id FROM documents WHERE deleted_at IS NULL AND instr(lower(title), lower(?)) > 0
        ORDER BY updated_at DESC, id DESC LIMIT ?`),
      chunkBody: p('SELECT body FROM document_chunks WHERE id = ?'),
    };
  }

  create(input: { title: string; body?: string; memo?: string; writingMode?: WritingMode; uuid?: string; createdAt?: number; updatedAt?: number; deletedAt?: number | null }): DocumentRecord {
    const body = input.body ?? '';
    const now = Date.now();
    const id = this.db.transaction(() => {
      const created = input.createdAt ?? now;
      const result = this.s.insert.run(
        input.uuid ?? randomUUID(), input.title, created, input.updatedAt ?? created, input.deletedAt ?? null,
        charCount(body), preview(body), input.memo ?? '', input.writingMode ?? 'horizontal',
      );
      const id = Number(result.lastInsertRowid);
      this.s.insertBody.run(id, body);
      this.reindex(id, body);
      return id;
    })();
    return this.get(id);
  }

  get(id: number): DocumentRecord {
    const row = this.s.full.get(id) as (Row & { memo: string; body: string }) | undefined;
    if (!row) throw new TsuzukiError('not_found', `Document ${id} does not exist.`);
    return { ...toSummary(row), memo: row.memo, body: row.body };
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
    this.s.rename.run(title, Date.now(), id);
    return this.summary(id);
  }

  /** Saves the memo and writing mode; returns whether anything changed (an unchanged save writes nothing). */
  setMeta(id: number, meta: { memo?: string; writingMode?: WritingMode }, now = Date.now()): boolean {
    this.summary(id);
    return this.durably(() => this.s.setMeta.run({ memo: meta.memo ?? null, mode: meta.writingMode ?? null, now, id }).changes > 0);
  }

  /**
   * The autosave: writes the text durably (synchronous=FULL, one transaction with the search index) and snapshots
   * the text it replaces when the last revision is old, the change is large, or the caller gives a reason (an import).
   * A save of unchanged text writes nothing.
   */
  save(id: number, body: string, now = Date.now(), snapshotReason?: string): { updatedAt: number; revisionId: number | null; changed: boolean } {
    const current = this.summary(id);
    const old = (this.s.body.get(id) as { body: string }).body;
    if (old === body) return { updatedAt: current.updatedAt, revisionId: null, changed: false };
    return this.durably(() =>
      this.db.transaction(() => {
        let revisionId: number | null = null;
        const last = this.s.lastRevision.get(id) as { created_at: number } | undefined;
        const large = replacedChars(old, body) >= Math.max(LARGE_CHANGE_CHARS, old.length / 4);
        if (snapshotReason) revisionId = this.snapshot(id, old, current.updatedAt, snapshotReason);
        else if (old.length > 0 && (large || !last || now - last.created_at >= REVISION_INTERVAL_MS)) {
          revisionId = this.snapshot(id, old, current.updatedAt, large ? 'large-change' : 'periodic');
        }
        this.s.setBody.run(body, id);
        this.s.touch.run(now, charCount(body), preview(body), id);
        this.reindex(id, body);
        return { updatedAt: now, revisionId, changed: true };
      })(),
    );
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

  private snapshot(id: number, body: string, createdAt: number, reason: string): number {
    const revisionId = Number(this.s.insertRevision.run(id, body, createdAt, reason).lastInsertRowid);
    this.s.pruneRevisions.run(id, id, MAX_REVISIONS);
    return revisionId;
  }

  /** Keeps the search chunks in step with the text: only chunks whose hash changed are rewritten. */
  private reindex(id: number, body: string): void {
    const stored = new Map<string, number[]>();
    for (const row of this.s.chunkHashes.all(id) as Array<{ id: number; hash: string }>) {
      const ids = stored.get(row.hash);
      if (ids) ids.push(row.id);
      else stored.set(row.hash, [row.id]);
    }
    for (const chunk of chunkText(body)) {
      const ids = stored.get(chunk.hash);
      if (ids && ids.length > 0) ids.pop();
      else this.s.insertChunk.run(id, chunk.hash, chunk.body);
    }
    for (const ids of stored.values()) for (const chunkId of ids) this.s.deleteChunk.run(chunkId);
  }

  trash(id: number, now = Date.now()): DocumentSummary {
    this.summary(id);
    this.s.setDeleted.run(now, id);
    return this.summary(id);
  }

  restore(id: number): DocumentSummary {
    this.summary(id);
    this.s.setDeleted.run(null, id);
    return this.summary(id);
  }

  /** Removes a document for good, with its revisions; only from the trash. Its generations stay in the history. */
  purge(id: number): void {
    const doc = this.summary(id);
    if (doc.deletedAt === null) throw new TsuzukiError('invalid_argument', `Document ${id} is not in the trash; move it there first.`);
    this.s.purge.run(id);
  }

  revisions(id: number): RevisionSummary[] {
    this.summary(id);
    const rows = this.s.revisions.all(PREVIEW_CHARS * 2, id) as Array<{ id: number; document_id: number; created_at: number; reason: string; length: number; head: string }>;
    return rows.map((r) => ({ id: r.id, documentId: r.document_id, createdAt: r.created_at, reason: r.reason, charCount: r.length, preview: preview(r.head) }));
  }

  revision(revisionId: number): RevisionSummary & { body: string } {
    const r = this.s.revision.get(revisionId) as { id: number; document_id: number; created_at: number; reason: string; body: string } | undefined;
    if (!r) throw new TsuzukiError('not_found', `Revision ${revisionId} does not exist.`);
    return { id: r.id, documentId: r.document_id, createdAt: r.created_at, reason: r.reason, charCount: charCount(r.body), preview: preview(r.body), body: r.body };
  }

  /** Puts a revision's text back; the text it replaces becomes a revision first, so a restore can be undone too. */
  restoreRevision(documentId: number, revisionId: number, now = Date.now()): DocumentRecord {
    const revision = this.revision(revisionId);
    if (revision.documentId !== documentId) throw new TsuzukiError('not_found', `Revision ${revisionId} does not belong to document ${documentId}.`);
    const current = this.summary(documentId);
    const old = (this.s.body.get(documentId) as { body: string }).body;
    this.durably(() =>
      this.db.transaction(() => {
        if (old !== revision.body) this.snapshot(documentId, old, current.updatedAt, 'before-restore');
        this.s.setBody.run(revision.body, documentId);
        this.s.touch.run(now, charCount(revision.body), preview(revision.body), documentId);
        this.reindex(documentId, revision.body);
      })(),
    );
    return this.get(documentId);
  }

  /** Documents (not in the trash) whose title or text contains `query`, recently edited first. */
  search(query: string, limit: number): DocumentSearchHit[] {
    type Hit = { id: number; title: string; updated_at: number; chunk_id: number | null };
    const inText = (usesGrams(query) ? this.s.searchGrams.all(gramQuery(query), limit) : this.s.searchTrigram.all(trigramQuery(query), limit)) as Hit[];
    const byId = new Map(inText.map((hit) => [hit.id, hit]));
    for (const hit of this.s.searchTitles.all(query, limit) as Hit[]) if (!byId.has(hit.id)) byId.set(hit.id, hit);
    return [...byId.values()]
      .sort((a, b) => b.updated_at - a.updated_at || b.id - a.id)
      .slice(0, limit)
      .map((hit) => {
        const text = hit.chunk_id === null ? hit.title : (this.s.chunkBody.get(hit.chunk_id) as { body: string }).body;
        return { documentId: hit.id, title: hit.title, updatedAt: hit.updated_at, snippet: makeSnippet(text, query) };
      });
  }
}
