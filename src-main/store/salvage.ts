/**
 * What can still be read from a damaged database, row by row, to merge into the recovered one. Tables are read by
 * rowid ranges; a range that runs into a damaged page is split until the unreadable rows are isolated, so one bad
 * page costs only the rows on it. A document's text is checked against its chunks' hashes: a damaged overflow page
 * reads as garbage, not as an error. Each document comes back as its newest version that reads whole (its text,
 * else its newest whole revision, else its text with the unreadable parts marked), as an import record: the merge
 * is the import's (transfer.ts), so a version newer than the backup's wins and the backup's stays as a revision.
 */
import type Database from 'better-sqlite3';
import { chunkHash } from './chunks';
import { parseAids } from './documents';
import { decodeTokens } from './generations';
import { LATEST_VERSION } from './migrations';
import { withPrivateCopy } from './private-copy';
import { isCorruption } from './sqlite-errors';
import { applyRecords, parseRecord, type ImportSummary, type Repos, type TransferRecord } from './transfer';

/** Rows read per query; a failing range is bisected. */
const RANGE = 256;
/** When a table's last rowid is unreadable: this many ranges in a row with nothing readable end its scan. */
const TRAILING_RANGES = 64;
/** A bound on the scan of one table (256 million rowids), whatever a damaged page claims its last rowid is. */
const MAX_RANGES = 1_000_000;
/** Stands in for a stretch of text on a damaged page, so the writer sees where something is missing. */
export const UNREADABLE_MARK = '〔この部分は破損のため読めませんでした〕';

export interface Salvaged {
  records: TransferRecord[];
  /** uuid → title and time of the newest text, for documents whose newest text did not read whole. */
  incomplete: Map<string, { title: string; updatedAt: number }>;
  /** uuids of documents salvaged with marked gaps: taken only when the recovered database lacks them. */
  gapped: Set<string>;
  unreadable: Unreadable;
  error: string | null;
}

/** Per table: at most this many rows were lost; null: an unknown number (the table's extent was unreadable). */
interface Unreadable {
  documents: number | null;
  revisions: number | null;
  generations: number | null;
}

export interface SalvageReport {
  documents: { added: number; updated: number; unchanged: number };
  generations: { added: number; unchanged: number };
  /** Titles of documents whose newest text could not be read whole nor found in the backup: they lack their latest changes. */
  incomplete: string[];
  unreadable: Unreadable;
  /** Set when nothing could be read, or the merge failed. */
  error: string | null;
}

type Row = Record<string, unknown>;

function orUndefined<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    if (isCorruption(error)) return undefined;
    throw error;
  }
}

/**
 * Calls `onRow` for every readable row of `table`; returns how many rowids up to the table's last known row sat on
 * unreadable pages or made no sense (at most that many rows were lost), or null when the table's extent could not be
 * read (how many were lost is unknown).
 */
function readRows(db: Database.Database, table: string, columns: string, onRow: (row: Row) => void): number | null {
  const select = db.prepare(`SELECT rowid AS salvage_rowid, ${columns} FROM ${table} WHERE rowid BETWEEN ? AND ? ORDER BY rowid`);
  const next = db.prepare(`SELECT rowid FROM ${table} WHERE rowid > ? ORDER BY rowid LIMIT 1`).pluck();
  const first = orUndefined(() => db.prepare(`SELECT min(rowid) FROM ${table}`).pluck().get() as number | null);
  const last = orUndefined(() => db.prepare(`SELECT max(rowid) FROM ${table}`).pluck().get() as number | null);
  if (first === null && last === null) return 0;
  /** Unreadable rowids, as ascending [from, to] runs. */
  const lost: Array<[number, number]> = [];
  let senseless = 0;
  let highest = 0;
  const read = (from: number, to: number): boolean => {
    let rows: Row[];
    try {
      rows = select.all(from, to) as Row[];
    } catch (error) {
      if (!isCorruption(error)) throw error;
      if (from === to) {
        const run = lost[lost.length - 1];
        if (run && run[1] === from - 1) run[1] = from;
        else lost.push([from, from]);
        return false;
      }
      const mid = Math.floor((from + to) / 2);
      const low = read(from, mid);
      return read(mid + 1, to) || low;
    }
    for (const row of rows) {
      highest = Math.max(highest, Number(row.salvage_rowid));
      try {
        onRow(row);
      } catch {
        // A row that reads but makes no sense (damaged inside) is lost like an unreadable one.
        senseless++;
      }
    }
    return rows.length > 0;
  };
  let from = first ?? 1;
  for (let idle = 0, ranges = 0; (typeof last === 'number' ? from <= last : idle < TRAILING_RANGES) && ranges < MAX_RANGES; ranges++) {
    const to = from + RANGE - 1;
    idle = read(from, to) ? 0 : idle + 1;
    // Jump over gaps (deleted rows) to the next rowid when the way there reads; else step on.
    let after: number | undefined | null;
    try {
      after = next.get(to) as number | undefined;
    } catch (error) {
      if (!isCorruption(error)) throw error;
      after = null;
    }
    if (after === undefined && typeof last !== 'number') break;
    from = typeof after === 'number' ? after : to + 1;
  }
  // Past the last row known to exist, an unreadable rowid is as likely no row at all.
  const bound = typeof last === 'number' ? last : highest;
  if (bound === 0 && lost.length > 0) return null;
  return senseless + lost.reduce((n, [a, b]) => n + Math.max(0, Math.min(b, bound) - a + 1), 0);
}

interface TextPiece {
  text: string;
  /** How many of its chunks were unreadable (each replaced by UNREADABLE_MARK). */
  missing: number;
}

function readSalvageFrom(db: Database.Database): Salvaged {
  const salvaged: Salvaged = { records: [], incomplete: new Map(), gapped: new Set(), unreadable: { documents: 0, revisions: 0, generations: 0 }, error: null };
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version !== LATEST_VERSION) {
    salvaged.error = `the damaged file has schema version ${version}; only version ${LATEST_VERSION} can be salvaged`;
    return salvaged;
  }
  const chunk = db.prepare('SELECT body FROM document_chunk_texts WHERE chunk_id = ?').pluck();
  const hash = db.prepare('SELECT hash FROM document_chunks WHERE id = ?').pluck();
  const textOf = (chunkIds: string): TextPiece => {
    let missing = 0;
    const parts = chunkIds.split(',').filter(Boolean).map((id) => {
      const body = orUndefined(() => chunk.get(Number(id)) as string | undefined);
      // A damaged overflow page reads as garbage, not as an error: the chunk's hash tells (when it reads itself).
      const expected = orUndefined(() => hash.get(Number(id)) as string | undefined);
      if (typeof body === 'string' && (typeof expected !== 'string' || chunkHash(body) === expected)) return body;
      missing++;
      return UNREADABLE_MARK;
    });
    return { text: parts.join(''), missing };
  };

  const revisions = new Map<number, Array<{ body: string; createdAt: number; reason: string }>>();
  const revisionRows = readRows(db, 'document_revisions', 'document_id, body, created_at, reason, chunk_ids', (r) => {
    const text = r.chunk_ids === null ? { text: String(r.body), missing: 0 } : textOf(String(r.chunk_ids));
    // A revision with a hole is no version of the text: readRows counts it lost.
    if (text.missing > 0) throw new Error('a chunk of the revision is unreadable');
    const list = revisions.get(Number(r.document_id)) ?? [];
    list.push({ body: text.text, createdAt: Number(r.created_at), reason: String(r.reason) });
    revisions.set(Number(r.document_id), list);
  });

  const uuids = new Map<number, string>();
  /** A record that does not validate throws: readRows counts its row lost. */
  const add = (value: Record<string, unknown>): void => {
    const parsed = parseRecord(value);
    if ('problem' in parsed) throw new Error(parsed.problem);
    salvaged.records.push(parsed.record);
  };
  const documentColumns = 'id, uuid, title, created_at, updated_at, deleted_at, memo, writing_mode, chunk_ids, generated_ranges, aids';
  const documentRows = readRows(db, 'documents', documentColumns, (d) => {
    const own = (revisions.get(Number(d.id)) ?? []).sort((a, b) => a.createdAt - b.createdAt);
    const text = textOf(String(d.chunk_ids));
    let body = text.text;
    let updatedAt = Number(d.updated_at);
    let ranges: unknown = [];
    if (text.missing === 0) {
      try {
        ranges = JSON.parse(String(d.generated_ranges));
      } catch {
        // Ranges only feed a statistic: the text matters, not them.
      }
    } else {
      salvaged.incomplete.set(String(d.uuid), { title: String(d.title), updatedAt });
      const newest = own.pop();
      if (newest) ({ body, createdAt: updatedAt } = newest);
      else salvaged.gapped.add(String(d.uuid));
    }
    const record = {
      type: 'document', uuid: d.uuid, title: d.title, body, memo: d.memo, writingMode: d.writing_mode,
      createdAt: d.created_at, updatedAt, deletedAt: d.deleted_at, revisions: own, generatedRanges: Array.isArray(ranges) ? ranges : [],
      // Damaged aids read as their defaults: they never cost the document its text.
      aids: parseAids(String(d.aids)),
    };
    add(record);
    uuids.set(Number(d.id), String(d.uuid));
  });

  // JSON that no longer parses throws, and readRows counts the row as lost.
  const generationRows = readRows(db, 'generations', '*', (g) => {
    const params: unknown = JSON.parse(String(g.params));
    const timings: unknown = JSON.parse(String(g.timings));
    add({
      type: 'generation', uuid: g.uuid, documentUuid: g.document_id === null ? null : uuids.get(Number(g.document_id)) ?? null,
      groupId: g.group_id, altIndex: g.alt_index, contextBefore: g.context_before, contextAfter: g.context_after, text: g.text,
      tokenIds: Buffer.isBuffer(g.token_ids) ? decodeTokens(g.token_ids) : [], params, seed: g.seed, modelId: g.model_id,
      precision: g.precision, device: g.device, timings, finishReason: g.finish_reason, status: g.status,
      statusChangedAt: g.status_changed_at, createdAt: g.created_at,
    });
  });
  salvaged.unreadable = { documents: documentRows, revisions: revisionRows, generations: generationRows };
  return salvaged;
}

/** Reads what it can from the damaged file at `path` (through a private copy: the file itself is never touched). */
export function readSalvage(path: string): Salvaged {
  try {
    return withPrivateCopy(path, readSalvageFrom);
  } catch (error) {
    return { records: [], incomplete: new Map(), gapped: new Set(), unreadable: { documents: 0, revisions: 0, generations: 0 }, error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Merges the salvaged rows into the recovered database in one transaction. A document salvaged with marked gaps is
 * taken only when the recovered database lacks it: a whole older text beats one with holes.
 */
export function applySalvage(repos: Repos, salvaged: Salvaged): SalvageReport {
  const records = salvaged.records.filter((r) => r.type !== 'document' || !salvaged.gapped.has(r.uuid) || repos.documents.findByUuid(r.uuid) === null);
  // A document the backup holds as of its newest text is whole, however damaged its pages in the file were.
  const incomplete = [...salvaged.incomplete].filter(([uuid, newest]) => (repos.documents.findByUuid(uuid)?.updatedAt ?? -1) < newest.updatedAt);
  const report: SalvageReport = {
    documents: { added: 0, updated: 0, unchanged: salvaged.records.length - records.length },
    generations: { added: 0, unchanged: 0 },
    incomplete: incomplete.map(([, newest]) => newest.title),
    unreadable: salvaged.unreadable,
    error: salvaged.error,
  };
  let summary: ImportSummary;
  try {
    summary = applyRecords(repos, records, 'before-salvage');
  } catch (error) {
    report.error = `the salvaged rows could not be written: ${error instanceof Error ? error.message : String(error)}`;
    return report;
  }
  report.documents.added = summary.documents.added;
  report.documents.updated = summary.documents.updated;
  report.documents.unchanged += summary.documents.unchanged;
  report.generations = { added: summary.generations.added, unchanged: summary.generations.unchanged + summary.generations.updated };
  return report;
}
