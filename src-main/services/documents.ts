/** The documents a writer works on: the editor's autosave, the document list, the trash and revisions. */
import type { DocumentRecord, DocumentSummary, RevisionSummary, TextRange, WritingMode } from '../store/documents';
import type { Store } from '../store/store';
import type { DocumentAidsPatch } from '../contract/document-aids';
import { TsuzukiError } from '../contract/errors';

const UNTITLED = '無題';

/** Opaque page cursors: `updatedAt:id` of the last item of the previous page. */
function encodeDocumentCursor(doc: { updatedAt: number; id: number }): string {
  return `${doc.updatedAt}:${doc.id}`;
}

function decodeDocumentCursor(cursor: string | null | undefined): { updatedAt: number; id: number } | null {
  if (cursor === null || cursor === undefined) return null;
  const match = /^(\d{1,16}):(\d{1,16})$/.exec(cursor);
  if (!match) throw new TsuzukiError('invalid_argument', `Not a page cursor: ${cursor.slice(0, 40)}`);
  return { updatedAt: Number(match[1]), id: Number(match[2]) };
}

export class DocumentsService {
  constructor(private readonly store: Store) {}

  list(input: { cursor?: string | null; limit: number }): { items: DocumentSummary[]; nextCursor: string | null } {
    const items = this.store.run((s) => s.documents.list(input.limit, decodeDocumentCursor(input.cursor)));
    const last = items[items.length - 1];
    return { items, nextCursor: items.length === input.limit && last ? encodeDocumentCursor(last) : null };
  }

  create(input: { title?: string; body?: string; memo?: string; writingMode?: WritingMode; aids?: DocumentAidsPatch }): DocumentRecord {
    const title = input.title?.trim() ? input.title.trim() : UNTITLED;
    return this.store.run((s) => s.documents.create({ ...input, title }));
  }

  rename(id: number, title: string): DocumentSummary {
    return this.store.run((s) => s.documents.rename(id, title.trim() || UNTITLED));
  }

  get(id: number): DocumentRecord {
    return this.store.run((s) => s.documents.get(id));
  }

  /** The autosave (debounced by the editor, and on blur and quit): text, memo, writing mode, ranges and aids in one transaction. */
  save(input: { id: number; body?: string; memo?: string; writingMode?: WritingMode; generatedRanges?: TextRange[]; aids?: DocumentAidsPatch }): { id: number; updatedAt: number; revisionId: number | null; changed: boolean } {
    const { id, ...change } = input;
    const saved = this.store.run((s) => s.documents.autosave(id, change));
    // The writing is safe in the database either way; a failed backup is tried again after the interval.
    if (saved.changed) this.store.backupWhileWriting().catch(() => undefined);
    return { id, ...saved };
  }

  /** To the trash, or with `permanent` (only from the trash) gone for good. */
  delete(id: number, permanent: boolean): { id: number; deletedAt: number | null; purged: boolean } {
    return this.store.run((s) => {
      if (permanent) {
        s.documents.purge(id);
        return { id, deletedAt: null, purged: true };
      }
      return { id, deletedAt: s.documents.trash(id).deletedAt, purged: false };
    });
  }

  restore(id: number): DocumentSummary {
    return this.store.run((s) => s.documents.restore(id));
  }

  trash(limit: number, offset: number): { items: DocumentSummary[] } {
    return { items: this.store.run((s) => s.documents.listTrash(limit, offset)) };
  }

  revisions(id: number): { items: RevisionSummary[] } {
    return { items: this.store.run((s) => s.documents.revisions(id)) };
  }

  revision(revisionId: number): RevisionSummary & { body: string } {
    return this.store.run((s) => s.documents.revision(revisionId));
  }

  restoreRevision(id: number, revisionId: number): DocumentRecord {
    return this.store.run((s) => s.documents.restoreRevision(id, revisionId));
  }
}
