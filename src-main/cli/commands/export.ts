import { writeFileSync } from 'node:fs';
import { EXPORT_FORMATS, exportOptionsSchema, RUBY_STYLES_OF } from '../../contract/manuscript-files';
import { TsuzukiError } from '../../contract/errors';
import { DocumentsService } from '../../services/documents';
import { ManuscriptsService } from '../../services/manuscripts';
import { defaultDatabasePath } from '../../store/location';
import { Store } from '../../store/store';
import { parseCommandArgs } from '../args';
import type { Command } from '../command';

const usage =
  'tsuzuki export DOC --format txt|md|epub|docx [--ruby aozora|narou|strip] OUT\n' +
  '       [--db FILE] [--bom] [--crlf] [--vertical|--horizontal] [--marks]   (DOC: a document id or title; OUT: a file, or - for stdout)';

function fail(message: string): never {
  throw new TsuzukiError('invalid_argument', `${message}\nUsage: ${usage}`);
}

/** The document named by its id, or by its exact title when that names one document (not in the trash). */
function findDocument(store: Store, doc: string): number {
  const documents = new DocumentsService(store);
  if (/^\d{1,15}$/.test(doc)) return documents.get(Number(doc)).id;
  const matches: number[] = [];
  for (let cursor: string | null | undefined = undefined; cursor !== null; ) {
    const page = documents.list({ cursor, limit: 200 });
    matches.push(...page.items.filter((d) => d.title === doc.trim()).map((d) => d.id));
    cursor = page.nextCursor;
  }
  if (matches.length === 0) throw new TsuzukiError('not_found', `No document is titled "${doc}". Give its id or exact title (tsuzuki history list shows documents' ids).`);
  if (matches.length > 1) fail(`${matches.length} documents are titled "${doc}" (ids ${matches.join(', ')}): give the id instead`);
  return matches[0]!;
}

export const exportCommand: Command = {
  name: 'export',
  summary: 'Write a document as plain text (青空文庫 or なろう/カクヨム ruby, or none), Markdown, EPUB 3 (縦書き) or .docx',
  usage,
  async run(args) {
    const { values, positionals } = parseCommandArgs(usage, args, {
      db: { type: 'string', default: defaultDatabasePath() },
      format: { type: 'string' },
      ruby: { type: 'string' },
      bom: { type: 'boolean', default: false },
      crlf: { type: 'boolean', default: false },
      vertical: { type: 'boolean' },
      horizontal: { type: 'boolean' },
      marks: { type: 'boolean', default: false },
    });
    if (positionals.length !== 2) fail('export takes a document (id or title) and an output file');
    const [doc, out] = positionals as [string, string];
    const format = values.format;
    if (format === undefined || !(EXPORT_FORMATS as readonly string[]).includes(format)) fail(`--format must be ${EXPORT_FORMATS.join(', ')}${format === undefined ? '' : `, got ${format}`}`);
    const styles = RUBY_STYLES_OF[format as (typeof EXPORT_FORMATS)[number]].filter((s) => s !== 'markup');
    if (values.ruby !== undefined && !(styles as readonly string[]).includes(values.ruby)) fail(`--ruby for ${format} must be ${styles.join(' or ')}, got ${values.ruby}`);
    if (values.vertical && values.horizontal) fail('give --vertical or --horizontal, not both');
    const options = exportOptionsSchema.parse({
      format,
      ruby: values.ruby,
      bom: values.bom,
      newline: values.crlf ? 'crlf' : 'lf',
      vertical: values.vertical ? true : values.horizontal ? false : undefined,
      marks: values.marks,
    });

    const store = await Store.open(values.db, { create: false });
    try {
      const { bytes } = await new ManuscriptsService(store).export(findDocument(store, doc), options);
      if (out === '-') process.stdout.write(bytes);
      else writeFileSync(out, bytes);
      return 0;
    } finally {
      store.close();
    }
  },
};
