/**
 * The history of every continuation: browsing, search (generations and documents), status changes, deletion, and
 * export as Markdown, plain text or JSONL (a document, search results, or everything).
 */
import type { DocumentSearchHit } from '../store/document-search';
import type { GenerationStatus } from '../contract/store';
import type { BranchNode, GenerationFilter, GenerationRecord, GenerationSearchHit } from '../store/generations';
import type { Store } from '../store/store';
import { documentLine, generationLine, type ImportSummary } from '../store/transfer';
import { TsuzukiError } from '../contract/errors';

export type ExportFormat = 'md' | 'txt' | 'jsonl';

export const STATUS_LABELS: Record<GenerationStatus, string> = {
  proposed: '提案',
  accepted: '採用',
  rejected: '不採用',
  edited: '採用後に編集',
  interrupted: '中断',
};

const MIME: Record<ExportFormat, string> = { md: 'text/markdown', txt: 'text/plain', jsonl: 'application/jsonl' };
/** Search results exported at most; a search matching more is narrowed first. */
const MAX_EXPORTED_RESULTS = 10_000;

function listCursor(cursor: string | null | undefined): { createdAt: number; id: number } | null {
  if (cursor === null || cursor === undefined) return null;
  const match = /^(\d{1,16}):(\d{1,16})$/.exec(cursor);
  if (!match) throw new TsuzukiError('invalid_argument', `Not a page cursor: ${cursor.slice(0, 40)}`);
  return { createdAt: Number(match[1]), id: Number(match[2]) };
}

function searchCursor(cursor: string | null | undefined): number | null {
  if (cursor === null || cursor === undefined) return null;
  if (!/^\d{1,16}$/.test(cursor)) throw new TsuzukiError('invalid_argument', `Not a page cursor: ${cursor.slice(0, 40)}`);
  return Number(cursor);
}

function localTime(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A file name without characters that Windows, macOS or Linux refuse. */
export function safeName(name: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what file systems refuse
  const cleaned = Array.from(name.replace(/[\\/:*?"<>|\u0000-\u001f]/g, '_').trim()).slice(0, 60).join('');
  return cleaned || 'tsuzuki';
}

function quote(text: string): string {
  return text.split('\n').map((line) => `> ${line}`).join('\n');
}

/** The last `n` characters of the context, for the reader to see what was continued. */
function tail(text: string, n = 80): string {
  const chars = Array.from(text);
  return (chars.length > n ? '…' : '') + chars.slice(-n).join('');
}

export function formatGenerations(items: GenerationRecord[], format: ExportFormat, title: string, documentUuids: Map<number, string>): string {
  if (format === 'jsonl') {
    return items.map((g) => generationLine(g, g.documentId === null ? null : documentUuids.get(g.documentId) ?? null) + '\n').join('');
  }
  const header = (g: GenerationRecord) => `${localTime(g.createdAt)} · ${STATUS_LABELS[g.status]} · ${g.modelId} (${g.precision}, ${g.device}) · #${g.id}`;
  if (format === 'txt') return items.map((g) => `[${header(g)}]\n${g.text}\n`).join('\n');
  const sections = items.map((g) => {
    const context = g.contextBefore ? `${quote(tail(g.contextBefore))}\n\n` : '';
    return `## ${header(g)}\n\n${context}${g.text}\n`;
  });
  return `# ${title}\n\n${sections.join('\n')}`;
}

function formatDocument(doc: { title: string; body: string }, format: Exclude<ExportFormat, 'jsonl'>): string {
  const body = doc.body.endsWith('\n') ? doc.body : `${doc.body}\n`;
  return format === 'md' ? `# ${doc.title}\n\n${body}` : `${doc.title}\n\n${body}`;
}

export interface SearchInput extends GenerationFilter {
  query: string;
  target: 'all' | 'generations' | 'documents';
  cursor?: string | null;
  limit: number;
}

export class HistoryService {
  constructor(private readonly store: Store) {}

  list(input: GenerationFilter & { cursor?: string | null; limit: number }): { items: GenerationRecord[]; nextCursor: string | null } {
    const { cursor, limit, ...filter } = input;
    const items = this.store.run((s) => s.generations.list(filter, limit, listCursor(cursor)));
    const last = items[items.length - 1];
    return { items, nextCursor: items.length === limit && last ? `${last.createdAt}:${last.id}` : null };
  }

  search(input: SearchInput): { generations: GenerationSearchHit[]; documents: DocumentSearchHit[]; nextCursor: string | null } {
    const { query, target, cursor, limit, ...filter } = input;
    if (query.trim() === '') throw new TsuzukiError('invalid_argument', 'The search query is empty.');
    return this.store.run((s) => {
      const generations = target === 'documents' ? [] : s.generations.search(query, filter, limit, searchCursor(cursor));
      // Documents come in one page, on the first page of generations only.
      const documents =
        target === 'generations' || cursor ? [] : s.documentSearch.search(query, filter.documentId === undefined ? limit : Number.MAX_SAFE_INTEGER).filter((d) => filter.documentId === undefined || d.documentId === filter.documentId).slice(0, limit);
      const last = generations[generations.length - 1];
      return { generations, documents, nextCursor: generations.length === limit && last ? String(last.id) : null };
    });
  }

  get(id: number): { generation: GenerationRecord; siblings: GenerationRecord[] } {
    return this.store.run((s) => {
      const generation = s.generations.get(id);
      return { generation, siblings: s.generations.group(generation.groupId).filter((g) => g.id !== id) };
    });
  }

  setStatus(id: number, status: GenerationStatus): GenerationRecord {
    return this.store.run((s) => s.generations.setStatus(id, status));
  }

  branches(documentId: number, before: string): { nodes: BranchNode[]; truncated: boolean } {
    return this.store.run((s) => s.generations.branches(documentId, before));
  }

  delete(ids: number[]): { deleted: number } {
    return { deleted: this.store.run((s) => s.generations.delete(ids)) };
  }

  private documentUuids(): Map<number, string> {
    const rows = this.store.db.prepare('SELECT id, uuid FROM documents').all() as Array<{ id: number; uuid: string }>;
    return new Map(rows.map((r) => [r.id, r.uuid]));
  }

  /** Every generation matching the search, newest first (at most MAX_EXPORTED_RESULTS). */
  private searchAll(query: string, filter: GenerationFilter): GenerationRecord[] {
    const found: GenerationRecord[] = [];
    for (let before: number | null = null; found.length < MAX_EXPORTED_RESULTS; ) {
      const page = this.store.generations.search(query, filter, 1000, before);
      for (const hit of page) found.push(this.store.generations.get(hit.id));
      if (page.length < 1000) break;
      before = page[page.length - 1]!.id;
    }
    return found.slice(0, MAX_EXPORTED_RESULTS);
  }

  /**
   * What to export: with `query`, the matching generations (and the filters); else with `documentId`, that document
   * (JSONL adds its generations); else every generation (JSONL: everything, importable on another machine).
   */
  export(input: GenerationFilter & { format: ExportFormat; query?: string }): { filename: string; mimeType: string; content: string } {
    const { format, query, ...filter } = input;
    const mimeType = MIME[format];
    return this.store.run((s) => {
      if (query !== undefined && query.trim() !== '') {
        const items = this.searchAll(query, filter);
        return { filename: `${safeName(`tsuzuki-検索-${query}`)}.${format}`, mimeType, content: formatGenerations(items, format, `「${query}」の検索結果（${items.length}件）`, this.documentUuids()) };
      }
      if (filter.documentId !== undefined) {
        const doc = s.documents.get(filter.documentId);
        const filename = `${safeName(doc.title)}.${format}`;
        if (format !== 'jsonl') return { filename, mimeType, content: formatDocument(doc, format) };
        const generations = this.collect({ documentId: doc.id });
        return { filename, mimeType, content: documentLine(doc) + '\n' + formatGenerations(generations, 'jsonl', doc.title, new Map([[doc.id, doc.uuid]])) };
      }
      const date = new Date().toISOString().slice(0, 10);
      if (format === 'jsonl' && Object.values(filter).every((v) => v === undefined)) {
        return { filename: `tsuzuki-${date}.jsonl`, mimeType, content: [...s.exportAll()].map((l) => l + '\n').join('') };
      }
      return { filename: `tsuzuki-history-${date}.${format}`, mimeType, content: formatGenerations(this.collect(filter), format, 'Tsuzuki 生成履歴', this.documentUuids()) };
    });
  }

  /** All generations matching the filter, newest first. */
  private collect(filter: GenerationFilter): GenerationRecord[] {
    const all: GenerationRecord[] = [];
    for (let cursor: { createdAt: number; id: number } | null = null; ; ) {
      const page = this.store.generations.list(filter, 1000, cursor);
      all.push(...page);
      if (page.length < 1000) return all;
      const last = page[page.length - 1]!;
      cursor = { createdAt: last.createdAt, id: last.id };
    }
  }

  import(content: string, source: string): ImportSummary {
    return this.store.importJsonl(content, source);
  }
}
