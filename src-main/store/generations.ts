import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { TsuzukiError } from '../contract/errors';
import type { GenerationStatus } from '../contract/store';
import { gramQuery, makeSnippet, trigramQuery, usesGrams, type Snippet } from './text-index';

/** 'interrupted': still proposed when its run ended (a crash, a closed window); set when the database is next opened. */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Everything needed to know how a continuation came to be, and to reproduce it. */
export interface NewGeneration {
  uuid?: string;
  documentId: number | null;
  /** Alternatives generated together share a group id. */
  groupId: string;
  altIndex?: number;
  /** The text before and after the cursor exactly as sent to the model. */
  contextBefore: string;
  contextAfter: string;
  text: string;
  tokenIds: number[];
  /** All sampling parameters, as the generation service used them. */
  params: { [key: string]: JsonValue };
  seed: number | null;
  modelId: string;
  precision: string;
  device: string;
  /** e.g. loadMs, prefillMs, prefillTokens, decodeMs, newTokens, tokensPerSecond. */
  timings: { [key: string]: number };
  finishReason?: string | null;
  status?: GenerationStatus;
  statusChangedAt?: number | null;
  createdAt?: number;
}

export interface GenerationRecord extends Required<Omit<NewGeneration, 'finishReason' | 'statusChangedAt'>> {
  id: number;
  finishReason: string | null;
  statusChangedAt: number | null;
}

export interface GenerationFilter {
  documentId?: number;
  status?: GenerationStatus;
  modelId?: string;
  /** Inclusive lower bound of createdAt (ms since epoch). */
  from?: number;
  /** Exclusive upper bound of createdAt. */
  to?: number;
}

/** Listing is newest first by (createdAt, id); search is newest first by id. */
export interface ListCursor {
  createdAt: number;
  id: number;
}

export interface GenerationSearchHit {
  id: number;
  documentId: number | null;
  createdAt: number;
  status: GenerationStatus;
  modelId: string;
  text: string;
  snippet: Snippet;
}

interface Row {
  id: number;
  uuid: string;
  document_id: number | null;
  group_id: string;
  alt_index: number;
  context_before: string;
  context_after: string;
  text: string;
  token_ids: Buffer;
  params: string;
  seed: number | null;
  model_id: string;
  precision: string;
  device: string;
  timings: string;
  finish_reason: string | null;
  status: GenerationStatus;
  status_changed_at: number | null;
  created_at: number;
}

function encodeTokens(ids: number[]): Buffer {
  const buffer = Buffer.alloc(ids.length * 4);
  ids.forEach((id, i) => buffer.writeInt32LE(id, i * 4));
  return buffer;
}

export function decodeTokens(blob: Buffer): number[] {
  const ids: number[] = [];
  for (let i = 0; i + 4 <= blob.length; i += 4) ids.push(blob.readInt32LE(i));
  return ids;
}

function toRecord(row: Row): GenerationRecord {
  return {
    id: row.id,
    uuid: row.uuid,
    documentId: row.document_id,
    groupId: row.group_id,
    altIndex: row.alt_index,
    contextBefore: row.context_before,
    contextAfter: row.context_after,
    text: row.text,
    tokenIds: decodeTokens(row.token_ids),
    params: JSON.parse(row.params) as GenerationRecord['params'],
    seed: row.seed,
    modelId: row.model_id,
    precision: row.precision,
    device: row.device,
    timings: JSON.parse(row.timings) as GenerationRecord['timings'],
    finishReason: row.finish_reason,
    status: row.status,
    statusChangedAt: row.status_changed_at,
    createdAt: row.created_at,
  };
}

/** One generation in the tree of a point in a document's text (see GenerationsRepo.branches). */
export interface BranchNode {
  id: number;
  /** The generation it continues (made after that one was accepted at the end of its text); null at the point itself. */
  parentId: number | null;
  groupId: string;
  altIndex: number;
  text: string;
  seed: number | null;
  status: GenerationStatus;
  finishReason: string | null;
  createdAt: number;
}

/** At most this many generations in one tree, and this many levels of continuations below the point. */
export const MAX_BRANCH_NODES = 200;
const MAX_BRANCH_DEPTH = 8;

/**
 * The generations of a document whose context ends with the same 32 characters as the text at a point. The expression
 * is migration 10's index's, so the lookup reads that index.
 */
export const AT_POINT_SQL = `SELECT id, group_id, alt_index, context_before, text, seed, status, finish_reason, created_at FROM generations
  WHERE document_id = ? AND substr(context_before, -32) = substr(?, -32) ORDER BY id LIMIT ?`;

/**
 * Whether a generation's context continues the text `point` ends with: one is the other's tail (a context is a tail
 * of the text before the cursor, and the caller sends only the tail of a long text).
 */
function continues(point: string, context: string): boolean {
  return point.endsWith(context) || context.endsWith(point);
}

/** WHERE clause and parameters of a filter; every value is bound, never spliced into SQL. */
function where(filter: GenerationFilter, alias = ''): { sql: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  const add = (condition: string, value: unknown) => {
    if (value === undefined) return;
    parts.push(`${alias}${condition}`);
    params.push(value);
  };
  add('document_id = ?', filter.documentId);
  add('status = ?', filter.status);
  add('model_id = ?', filter.modelId);
  add('created_at >= ?', filter.from);
  add('created_at < ?', filter.to);
  return { sql: parts.join(' AND '), params };
}

export class GenerationsRepo {
  private readonly s;
  private readonly cache = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      insert: p(`INSERT INTO generations (uuid, document_id, group_id, alt_index, context_before, context_after, text, token_ids, params, seed,
        model_id, precision, device, timings, finish_reason, status, status_changed_at, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      get: p('SELECT * FROM generations WHERE id = ?'),
      byUuid: p('SELECT id, status, status_changed_at FROM generations WHERE uuid = ?'),
      group: p('SELECT * FROM generations WHERE group_id = ? ORDER BY alt_index, id'),
      setStatus: p('UPDATE generations SET status = ?, status_changed_at = ? WHERE id = ?'),
      rejectSiblings: p("UPDATE generations SET status = 'rejected', status_changed_at = ? WHERE group_id = ? AND id != ? AND status = 'proposed'"),
      interruptProposed: p("UPDATE generations SET status = 'interrupted', status_changed_at = ? WHERE status = 'proposed'"),
      delete: p('DELETE FROM generations WHERE id = ?'),
      count: p('SELECT count(*) AS n FROM generations'),
      documentExists: p('SELECT 1 FROM documents WHERE id = ?'),
      atPoint: p(AT_POINT_SQL),
    };
  }

  private prepared(sql: string): Database.Statement {
    let statement = this.cache.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.cache.set(sql, statement);
    }
    return statement;
  }

  insert(input: NewGeneration): GenerationRecord {
    const createdAt = input.createdAt ?? Date.now();
    const status = input.status ?? 'proposed';
    if (input.documentId !== null && this.s.documentExists.get(input.documentId) === undefined) {
      throw new TsuzukiError('not_found', `Document ${input.documentId} does not exist; the generation was not stored.`);
    }
    const result = this.s.insert.run(
      input.uuid ?? randomUUID(), input.documentId, input.groupId, input.altIndex ?? 0, input.contextBefore, input.contextAfter,
      input.text, encodeTokens(input.tokenIds), JSON.stringify(input.params), input.seed, input.modelId, input.precision, input.device,
      JSON.stringify(input.timings), input.finishReason ?? null, status, input.statusChangedAt ?? null, createdAt,
    );
    return this.get(Number(result.lastInsertRowid));
  }

  get(id: number): GenerationRecord {
    const row = this.s.get.get(id) as Row | undefined;
    if (!row) throw new TsuzukiError('not_found', `Generation ${id} does not exist.`);
    return toRecord(row);
  }

  findByUuid(uuid: string): { id: number; status: GenerationStatus; statusChangedAt: number | null } | null {
    const row = this.s.byUuid.get(uuid) as { id: number; status: GenerationStatus; status_changed_at: number | null } | undefined;
    return row ? { id: row.id, status: row.status, statusChangedAt: row.status_changed_at } : null;
  }

  /** The alternatives generated together with (and including) this one. */
  group(groupId: string): GenerationRecord[] {
    return (this.s.group.all(groupId) as Row[]).map(toRecord);
  }

  /** Accepting one alternative rejects its still-proposed siblings: the user chose among them. */
  setStatus(id: number, status: GenerationStatus, now = Date.now()): GenerationRecord {
    const current = this.get(id);
    this.db.transaction(() => {
      this.s.setStatus.run(status, now, id);
      if (status === 'accepted') this.s.rejectSiblings.run(now, current.groupId, id);
    })();
    return this.get(id);
  }

  /**
   * The tree of a point in a document's text: the generations that continued the text ending with `before` (a retry
   * or an alternative each), then as their children those that continued one of them after it was accepted, and so
   * on, breadth first, oldest first among siblings. Derived from the stored contexts: each level is one indexed
   * lookup per node above it, and the tree holds at most MAX_BRANCH_NODES nodes (`truncated` says when more exist).
   */
  branches(documentId: number, before: string): { nodes: BranchNode[]; truncated: boolean } {
    type PointRow = Pick<Row, 'id' | 'group_id' | 'alt_index' | 'context_before' | 'text' | 'seed' | 'status' | 'finish_reason' | 'created_at'>;
    const nodes: BranchNode[] = [];
    let level: { parentId: number | null; point: string }[] = [{ parentId: null, point: before }];
    for (let depth = 0; depth < MAX_BRANCH_DEPTH && level.length > 0; depth++) {
      const next: typeof level = [];
      for (const { parentId, point } of level) {
        const rows = this.s.atPoint.all(documentId, point, MAX_BRANCH_NODES + 1) as PointRow[];
        // A continuation is made after what it continues (which also keeps a text repeating itself from looping).
        for (const row of rows.filter((r) => (parentId === null || r.id > parentId) && continues(point, r.context_before))) {
          if (nodes.length === MAX_BRANCH_NODES) return { nodes, truncated: true };
          nodes.push({
            id: row.id,
            parentId,
            groupId: row.group_id,
            altIndex: row.alt_index,
            text: row.text,
            seed: row.seed,
            status: row.status,
            finishReason: row.finish_reason,
            createdAt: row.created_at,
          });
          next.push({ parentId: row.id, point: row.context_before + row.text });
        }
      }
      level = next;
    }
    // Continuations below the deepest level shown may exist.
    return { nodes, truncated: level.length > 0 };
  }

  /**
   * Marks every still-proposed continuation interrupted, in one statement; returns how many. Only for the moment the
   * database is opened: the instance lock means no other process is running, so none of them can still be accepted.
   */
  interruptProposed(now = Date.now()): number {
    return this.s.interruptProposed.run(now).changes;
  }

  delete(ids: number[]): number {
    let n = 0;
    this.db.transaction(() => {
      for (const id of ids) n += this.s.delete.run(id).changes;
    })();
    return n;
  }

  count(): number {
    return (this.s.count.get() as { n: number }).n;
  }

  list(filter: GenerationFilter, limit: number, cursor: ListCursor | null): GenerationRecord[] {
    const w = where(filter);
    const conditions = [w.sql, cursor ? '(created_at, id) < (?, ?)' : ''].filter(Boolean);
    const params = [...w.params, ...(cursor ? [cursor.createdAt, cursor.id] : []), limit];
    const sql = `SELECT * FROM generations ${conditions.length ? `WHERE ${conditions.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT ?`;
    return (this.prepared(sql).all(...params) as Row[]).map(toRecord);
  }

  /**
   * Generations whose text contains `query`: the trigram index for 3+ characters, the grams index for 1–2.
   * Newest (highest id) first; pass the last hit's id as `beforeId` for the next page.
   */
  search(query: string, filter: GenerationFilter, limit: number, beforeId: number | null): GenerationSearchHit[] {
    const grams = usesGrams(query);
    const table = grams ? 'generations_grams' : 'generations_fts';
    const w = where(filter, 'g.');
    const conditions = [`${table} MATCH ?`, w.sql, beforeId !== null ? 'f.rowid < ?' : ''].filter(Boolean);
    const sql = `SELECT g.id, g.document_id, g.created_at, g.status, g.model_id, g.text FROM ${table} f JOIN generations g ON g.id = f.rowid
      WHERE ${conditions.join(' AND ')} ORDER BY f.rowid DESC LIMIT ?`;
    const params = [grams ? gramQuery(query) : trigramQuery(query), ...w.params, ...(beforeId !== null ? [beforeId] : []), limit];
    const rows = this.prepared(sql).all(...params) as Array<Pick<Row, 'id' | 'document_id' | 'created_at' | 'status' | 'model_id' | 'text'>>;
    return rows.map((r) => ({
      id: r.id,
      documentId: r.document_id,
      createdAt: r.created_at,
      status: r.status,
      modelId: r.model_id,
      text: r.text,
      snippet: makeSnippet(r.text, query),
    }));
  }
}
