/**
 * The documents' search: the background indexer that brings the full-text indexes (trigram FTS and character
 * grams) up to date with the chunks DocumentsRepo writes and queues, and the search over them and the titles.
 */
import type Database from 'better-sqlite3';
import { DELETE_GARBAGE } from './chunks';
import { gramQuery, gramsOf, makeSnippet, trigramQuery, usesGrams, type Snippet } from './text-index';

export interface DocumentSearchHit {
  documentId: number;
  title: string;
  updatedAt: number;
  snippet: Snippet;
}

/**
 * The indexer's work on one document, valid while the stamp is unchanged: chunks to index, retired chunks to take
 * out of the index, and retired chunks no revision needs any more.
 */
interface IndexPlan {
  documentId: number;
  stamp: number;
  add: Array<{ id: number; body: string }>;
  unindex: number[];
  collect: number[];
}

export class DocumentSearch {
  private readonly s;
  private plan: IndexPlan | null = null;

  constructor(private readonly db: Database.Database) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      deleteGarbage: p(DELETE_GARBAGE),
      toIndex: p('SELECT c.id AS id, t.body AS body FROM document_chunks c JOIN document_chunk_texts t ON t.chunk_id = c.id WHERE c.document_id = ? AND c.live = 1 AND c.indexed = 0'),
      toUnindex: p('SELECT id FROM document_chunks WHERE document_id = ? AND live = 0 AND indexed = 1'),
      toCollect: p('SELECT c.id FROM document_chunks c WHERE c.document_id = ? AND c.live = 0 AND c.indexed = 0 AND NOT EXISTS (SELECT 1 FROM revision_chunks r WHERE r.chunk_id = c.id)'),
      unindexText: p("INSERT INTO document_chunks_fts (document_chunks_fts, rowid, body) SELECT 'delete', chunk_id, body FROM document_chunk_texts WHERE chunk_id = ?"),
      unindexGrams: p('DELETE FROM document_chunks_grams WHERE rowid = ?'),
      markUnindexed: p('UPDATE document_chunks SET indexed = 0 WHERE id = ?'),
      indexText: p('INSERT INTO document_chunks_fts (rowid, body) VALUES (?, ?)'),
      indexGrams: p('INSERT INTO document_chunks_grams (rowid, grams) VALUES (?, ?)'),
      markIndexed: p('UPDATE document_chunks SET indexed = 1 WHERE id = ?'),
      nextQueued: p('SELECT document_id, stamp FROM document_index_queue ORDER BY document_id LIMIT 1'),
      stampOf: p('SELECT stamp FROM document_index_queue WHERE document_id = ?'),
      dequeue: p('DELETE FROM document_index_queue WHERE document_id = ? AND stamp = ?'),
      searchTrigram: p(`SELECT d.id AS id, d.title AS title, d.updated_at AS updated_at, min(f.rowid) AS chunk_id FROM document_chunks_fts f
        JOIN document_chunks c ON c.id = f.rowid JOIN documents d ON d.id = c.document_id
        WHERE document_chunks_fts MATCH ? AND c.live = 1 AND d.deleted_at IS NULL GROUP BY d.id ORDER BY d.updated_at DESC, d.id DESC LIMIT ?`),
      searchGrams: p(`SELECT d.id AS id, d.title AS title, d.updated_at AS updated_at, min(f.rowid) AS chunk_id FROM document_chunks_grams f
        JOIN document_chunks c ON c.id = f.rowid JOIN documents d ON d.id = c.document_id
        WHERE document_chunks_grams MATCH ? AND c.live = 1 AND d.deleted_at IS NULL GROUP BY d.id ORDER BY d.updated_at DESC, d.id DESC LIMIT ?`),
      searchTitles: p(`SELECT id, title, updated_at, NULL AS chunk_id FROM documents WHERE deleted_at IS NULL AND instr(lower(title), lower(?)) > 0
        ORDER BY updated_at DESC, id DESC LIMIT ?`),
      chunkBody: p('SELECT body FROM document_chunk_texts WHERE chunk_id = ?'),
    };
  }

  /**
   * Brings the search index of queued documents up to date for about `budgetMs`, one chunk per step, so that the
   * main process is never blocked for long; returns whether work remains. Only chunks whose hash changed are
   * touched, so after typing in a 200,000-character document this is one or two chunks.
   */
  indexStep(budgetMs: number): boolean {
    const deadline = performance.now() + budgetMs;
    do {
      if (this.plan && (this.s.stampOf.get(this.plan.documentId) as { stamp: number } | undefined)?.stamp !== this.plan.stamp) this.plan = null;
      if (!this.plan) {
        const next = this.s.nextQueued.get() as { document_id: number; stamp: number } | undefined;
        if (!next) return false;
        const add = this.s.toIndex.all(next.document_id) as Array<{ id: number; body: string }>;
        const unindex = (this.s.toUnindex.all(next.document_id) as Array<{ id: number }>).map((r) => r.id);
        const collect = (this.s.toCollect.all(next.document_id) as Array<{ id: number }>).map((r) => r.id);
        this.plan = { documentId: next.document_id, stamp: next.stamp, add, unindex, collect };
      }
      const plan = this.plan;
      // A failed step (disk full) forgets the plan: the next one starts again from what the file holds.
      this.plan = null;
      this.db.transaction(() => {
        const chunk = plan.add.pop();
        if (chunk) {
          this.s.indexText.run(chunk.id, chunk.body);
          this.s.indexGrams.run(chunk.id, gramsOf(chunk.body));
          this.s.markIndexed.run(chunk.id);
        } else if (plan.unindex.length > 0) {
          // Out of the index; then gone too, unless a revision needs it.
          for (const chunkId of plan.unindex.splice(0, 4)) {
            this.s.unindexText.run(chunkId);
            this.s.unindexGrams.run(chunkId);
            this.s.markUnindexed.run(chunkId);
            this.s.deleteGarbage.run({ id: chunkId });
          }
        } else {
          for (const chunkId of plan.collect.splice(0, 64)) this.s.deleteGarbage.run({ id: chunkId });
        }
        if (plan.add.length + plan.unindex.length + plan.collect.length === 0) this.s.dequeue.run(plan.documentId, plan.stamp);
      })();
      if (plan.add.length + plan.unindex.length + plan.collect.length > 0) this.plan = plan;
    } while (performance.now() < deadline);
    return this.s.nextQueued.get() !== undefined;
  }

  /** Indexes everything queued (before a search, so that results are exact). */
  indexAll(): void {
    while (this.indexStep(Number.POSITIVE_INFINITY));
  }

  /** Documents (not in the trash) whose title or text contains `query`, recently edited first. */
  search(query: string, limit: number): DocumentSearchHit[] {
    this.indexAll();
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
