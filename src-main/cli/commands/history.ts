import { readFileSync, writeFileSync } from 'node:fs';
import { GENERATION_STATUSES, type GenerationStatus } from '../../contract/store';
import type { GenerationFilter } from '../../store/generations';
import { defaultDatabasePath } from '../../store/location';
import { Store } from '../../store/store';
import { formatGenerations, HistoryService, STATUS_LABELS, type ExportFormat } from '../../services/history';
import { TsuzukiError } from '../../contract/errors';
import { parseCommandArgs } from '../args';
import type { Command } from '../command';

const usage =
  'tsuzuki history list|search <query>|export|import <file> [--db FILE] [--format md|txt|jsonl] [--json]\n' +
  '       [--document ID] [--status proposed|accepted|rejected|edited|interrupted] [--model ID] [--since DATE] [--until DATE] [--limit N] [--out FILE]';

const FORMATS = ['md', 'txt', 'jsonl'] as const;

function fail(message: string): never {
  throw new TsuzukiError('invalid_argument', `${message}\nUsage: ${usage}`);
}

function positiveInt(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) fail(`--${name} must be a positive integer, got ${value}`);
  return n;
}

/** A date as ms since epoch: digits are taken as ms, anything else is parsed as an ISO date. */
function date(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) fail(`--${name} must be a date like 2026-01-31 or 2026-01-31T12:00, got ${value}`);
  return ms;
}

function oneLine(text: string, max = 60): string {
  const chars = Array.from(text.replace(/\n/g, '⏎'));
  return chars.length > max ? `${chars.slice(0, max).join('')}…` : chars.join('');
}

function write(content: string, out: string | undefined): void {
  if (out) writeFileSync(out, content);
  else process.stdout.write(content);
}

export const history: Command = {
  name: 'history',
  summary: 'List, search, export and import the generation history (and documents) of a Tsuzuki database',
  usage,
  async run(args) {
    const { values, positionals } = parseCommandArgs(usage, args, {
      db: { type: 'string', default: defaultDatabasePath() },
      format: { type: 'string' },
      json: { type: 'boolean', default: false },
      document: { type: 'string' },
      status: { type: 'string' },
      model: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      limit: { type: 'string' },
      out: { type: 'string' },
    });
    const [action, ...rest] = positionals;
    if (values.format !== undefined && !(FORMATS as readonly string[]).includes(values.format)) fail(`--format must be md, txt or jsonl, got ${values.format}`);
    if (values.status !== undefined && !(GENERATION_STATUSES as readonly string[]).includes(values.status)) fail(`--status must be one of ${GENERATION_STATUSES.join(', ')}`);
    const format = values.format as ExportFormat | undefined;
    const filter: GenerationFilter = {
      documentId: positiveInt(values.document, 'document'),
      status: values.status as GenerationStatus | undefined,
      modelId: values.model,
      from: date(values.since, 'since'),
      to: date(values.until, 'until'),
    };
    const limit = positiveInt(values.limit, 'limit') ?? 50;

    const expect = (n: number, what: string) => {
      if (rest.length !== n) fail(`history ${action} takes ${what}`);
    };
    if (action === 'list') expect(0, 'no arguments');
    else if (action === 'search') expect(1, 'one query (quote it if it has spaces)');
    else if (action === 'import') expect(1, 'one JSONL file');
    else if (action === 'export') expect(0, 'no arguments');
    else fail(action === undefined ? 'missing action' : `unknown action "${action}"`);

    const store = await Store.open(values.db, { create: action === 'import' });
    try {
      const service = new HistoryService(store);
      if (action === 'list') {
        const { items } = service.list({ ...filter, limit });
        if (values.json) process.stdout.write(JSON.stringify(items, null, 2) + '\n');
        else if (format) write(formatGenerations(items, format, 'Tsuzuki 生成履歴', documentUuids(store)), values.out);
        else for (const g of items) process.stdout.write(`#${g.id}\t${new Date(g.createdAt).toISOString()}\t${STATUS_LABELS[g.status]}\t${g.modelId}\t${oneLine(g.text)}\n`);
      } else if (action === 'search') {
        const query = rest[0]!;
        if (query.trim() === '') fail('the query is empty');
        if (format) {
          write(service.export({ ...filter, format, query }).content, values.out);
        } else {
          const { generations } = service.search({ ...filter, query, target: 'generations', limit });
          if (values.json) {
            const hits = generations.map(({ id, text, documentId, status, createdAt, snippet }) => ({ id, text, documentId, status, createdAt, snippet }));
            process.stdout.write(JSON.stringify(hits, null, 2) + '\n');
          } else {
            for (const hit of generations) {
              let shown = hit.snippet.text;
              for (const [start, end] of [...hit.snippet.highlights].reverse()) shown = `${shown.slice(0, start)}【${shown.slice(start, end)}】${shown.slice(end)}`;
              process.stdout.write(`#${hit.id}\t${new Date(hit.createdAt).toISOString()}\t${STATUS_LABELS[hit.status]}\t${oneLine(shown, 200)}\n`);
            }
          }
        }
      } else if (action === 'export') {
        write(service.export({ ...filter, format: format ?? 'jsonl' }).content, values.out);
      } else {
        const file = rest[0]!;
        let content: string;
        try {
          content = readFileSync(file, 'utf8');
        } catch (error) {
          throw new TsuzukiError('not_found', `Cannot read ${file}: ${(error as Error).message}`);
        }
        process.stdout.write(JSON.stringify(service.import(content, file), null, 2) + '\n');
      }
      return 0;
    } finally {
      store.close();
    }
  },
};

function documentUuids(store: Store): Map<number, string> {
  const rows = store.db.prepare('SELECT id, uuid FROM documents').all() as Array<{ id: number; uuid: string }>;
  return new Map(rows.map((r) => [r.id, r.uuid]));
}
