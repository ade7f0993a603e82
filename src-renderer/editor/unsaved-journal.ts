/**
 * Text the writer typed that the server has not acknowledged yet, kept in the renderer's own storage (per document:
 * the body with its generated ranges, the memo, and the parts of its aids: 脚注, book, 禁止ワード) so that a reload, a
 * closed tab or a dead server loses nothing. A part is dropped once a save of exactly that part is acknowledged; what
 * is left at the next load is restored.
 */
import { z } from 'zod';
import { authorNoteSchema, bookSchema, steeringSchema, type AuthorNote, type Book, type Steering } from '../../src-main/contract/document-aids';
import type { Range } from './schema';

export interface UnsavedAids {
  authorNote?: AuthorNote;
  book?: Book;
  steering?: Steering;
}

export interface UnsavedText {
  body?: { text: string; generated: Range[] };
  memo?: string;
  aids?: UnsavedAids;
}

const AID_PARTS = ['authorNote', 'book', 'steering'] as const;
const unsavedAidsSchema = z.object({ authorNote: authorNoteSchema.optional(), book: bookSchema.optional(), steering: steeringSchema.optional() }).strict();

/** Parts are compared as the contract writes them (its parse fixes the order of keys). */
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function isEmpty(entry: UnsavedText): boolean {
  return entry.body === undefined && entry.memo === undefined && entry.aids === undefined;
}

const PREFIX = 'tsuzuki.unsaved.';

function isRange(value: unknown): value is Range {
  return Array.isArray(value) && (value.length === 2 || value.length === 3) && value.every((n) => Number.isSafeInteger(n));
}

/** Storage can be edited by hand or by another version of the app: anything that is not an entry is ignored. */
function parse(json: string | null): UnsavedText | null {
  if (!json) return null;
  try {
    const value = JSON.parse(json) as Partial<UnsavedText>;
    if (typeof value !== 'object' || value === null || isEmpty(value)) return null;
    const body = value.body;
    const validBody = body === undefined || (typeof body.text === 'string' && Array.isArray(body.generated) && body.generated.every(isRange));
    if (!validBody || (value.memo !== undefined && typeof value.memo !== 'string')) return null;
    const aids = value.aids === undefined ? undefined : unsavedAidsSchema.safeParse(value.aids);
    if (aids && !aids.success) return null;
    return { body, memo: value.memo, aids: aids?.data };
  } catch {
    return null;
  }
}

export class UnsavedJournal {
  constructor(private readonly storage: Storage = localStorage) {}

  read(documentId: number): UnsavedText | null {
    return parse(this.storage.getItem(PREFIX + documentId));
  }

  keepBody(documentId: number, text: string, generated: Range[]): void {
    this.write(documentId, { ...this.read(documentId), body: { text, generated } });
  }

  keepMemo(documentId: number, memo: string): void {
    this.write(documentId, { ...this.read(documentId), memo });
  }

  keepAids(documentId: number, aids: UnsavedAids): void {
    const entry = this.read(documentId);
    this.write(documentId, { ...entry, aids: { ...entry?.aids, ...aids } });
  }

  /** The server saved this text: its part is dropped unless the writer typed something newer meanwhile. */
  acknowledged(documentId: number, saved: { body?: string; memo?: string; aids?: UnsavedAids }): void {
    const entry = this.read(documentId);
    if (!entry) return;
    if (saved.body !== undefined && entry.body?.text === saved.body) delete entry.body;
    if (saved.memo !== undefined && entry.memo === saved.memo) delete entry.memo;
    if (entry.aids && saved.aids) {
      for (const part of AID_PARTS) if (saved.aids[part] !== undefined && same(entry.aids[part], saved.aids[part])) delete entry.aids[part];
      if (AID_PARTS.every((part) => entry.aids?.[part] === undefined)) delete entry.aids;
    }
    if (isEmpty(entry)) this.discard(documentId);
    else this.write(documentId, entry);
  }

  discard(documentId: number): void {
    this.storage.removeItem(PREFIX + documentId);
  }

  private write(documentId: number, entry: UnsavedText): void {
    try {
      this.storage.setItem(PREFIX + documentId, JSON.stringify(entry));
    } catch {
      // Storage full (a few MB per origin): the save to the server still goes on; only this safety copy is missing.
    }
  }
}

/**
 * What of `entry` to restore over the server's version: the parts that differ from it (the server never acknowledged
 * them). Whatever the restore replaces stays in the document's revisions. Null when nothing is to restore.
 */
export function toRestore(entry: UnsavedText | null, server: { body: string; memo: string; aids: Required<UnsavedAids> }): UnsavedText | null {
  if (!entry) return null;
  const body = entry.body && entry.body.text !== server.body ? entry.body : undefined;
  const memo = entry.memo !== undefined && entry.memo !== server.memo ? entry.memo : undefined;
  const aids: UnsavedAids = {};
  for (const part of AID_PARTS) {
    const kept = entry.aids?.[part];
    if (kept !== undefined && !same(kept, server.aids[part])) Object.assign(aids, { [part]: kept });
  }
  const hasAids = Object.keys(aids).length > 0;
  return body || memo !== undefined || hasAids ? { body, memo, aids: hasAids ? aids : undefined } : null;
}
