/** Documents out as manuscript files (plain text, Markdown, EPUB, .docx) and manuscript files in as new documents. */
import type { ExportOptions } from '../contract/manuscript-files';
import { exportManuscript } from '../manuscript-io/export';
import { importManuscript } from '../manuscript-io/import';
import type { DocumentRecord } from '../store/documents';
import type { Store } from '../store/store';
import { DocumentsService } from './documents';
import { safeName } from './history';

export class ManuscriptsService {
  constructor(private readonly store: Store) {}

  async export(id: number, options: ExportOptions): Promise<{ filename: string; mimeType: string; bytes: Uint8Array }> {
    const doc = this.store.run((s) => s.documents.get(id));
    const { bytes, mimeType } = await exportManuscript(doc, options);
    return { filename: `${safeName(doc.title)}.${options.format}`, mimeType, bytes };
  }

  /** A new document with the file's text, titled by its Title paragraph (.docx) or its name, in its writing mode. */
  async import(name: string, bytes: Uint8Array): Promise<DocumentRecord> {
    return new DocumentsService(this.store).create(await importManuscript(name, bytes));
  }
}
