/**
 * The open document's author's note (脚注) and character/world book as the writer edits them: saved with the
 * document through their own autosaver (a pause after typing, and at once when the page may go away or another
 * document opens), each save sending only these two parts of the document's aids. Until a save is acknowledged each
 * edited part is also kept in the unsaved-text journal, so a closed tab or a dead server loses nothing.
 */
import { authorNoteSchema, bookSchema, EMPTY_DOCUMENT_AIDS, type AuthorNote, type Book, type BookEntry, type DocumentAids } from '../../src-main/contract/document-aids';
import { stripRuby } from '../../src-main/manuscript/ruby';
import { api } from '../lib/api';
import { Autosaver, type SaveState } from './autosave';
import type { UnsavedAids, UnsavedJournal } from './unsaved-journal';

export class DocumentAidsEditor {
  authorNote = $state<AuthorNote>(EMPTY_DOCUMENT_AIDS.authorNote);
  book = $state<Book>(EMPTY_DOCUMENT_AIDS.book);
  saveState = $state<SaveState>('saved');
  saveError = $state<unknown>(null);
  /** What the last edit left that the contract refuses (the writer's field keeps it; nothing is saved until fixed). */
  invalid = $state(false);
  /** Taken when edited, so a save that runs after switching documents saves the right one. */
  private toSave: { id: number; aids: { authorNote?: AuthorNote; book?: Book } } | null = null;
  private documentId: number | null = null;

  private readonly saver = new Autosaver(
    async () => {
      const pending = this.toSave;
      if (!pending) return;
      await api.documents.save(pending);
      this.journal.acknowledged(pending.id, { aids: pending.aids });
      if (this.toSave === pending) this.toSave = null;
    },
    () => false,
    (state, error) => {
      this.saveState = state;
      this.saveError = error ?? null;
    },
    600,
  );

  constructor(private readonly journal: UnsavedJournal) {}

  /**
   * Shows another document's aids; what was edited in the one before is saved first. `restored`: parts the server
   * never acknowledged, back from the journal: shown, and saved again.
   */
  async load(id: number, aids: DocumentAids, restored?: UnsavedAids): Promise<void> {
    await this.saver.flush();
    this.documentId = id;
    this.authorNote = restored?.authorNote ?? aids.authorNote;
    this.book = restored?.book ?? aids.book;
    this.invalid = false;
    if (restored?.authorNote) this.changed('authorNote');
    if (restored?.book) this.changed('book');
  }

  /** The note or the book changed in place (their fields are bound to this state): checks and schedules the save. */
  changed(part: 'authorNote' | 'book'): void {
    if (this.documentId === null) return;
    const parsed = part === 'authorNote' ? authorNoteSchema.safeParse($state.snapshot(this.authorNote)) : bookSchema.safeParse($state.snapshot(this.book));
    this.invalid = !parsed.success;
    if (!parsed.success) return;
    const aids = this.toSave?.id === this.documentId ? { ...this.toSave.aids } : {};
    this.toSave = { id: this.documentId, aids: { ...aids, [part]: parsed.data } };
    this.journal.keepAids(this.documentId, { [part]: parsed.data });
    this.saver.touch();
  }

  addEntry(): void {
    const entry: BookEntry = { id: newEntryId(), name: '', keys: [], regex: false, text: '', enabled: true, priority: 0 };
    this.book.entries.push(entry);
    this.changed('book');
  }

  removeEntry(id: string): void {
    this.book.entries = this.book.entries.filter((e) => e.id !== id);
    this.changed('book');
  }

  flush(): Promise<void> {
    return this.saver.flush();
  }

  dispose(): void {
    this.saver.dispose();
  }

  /** As the model reads them: ruby notation stripped, as from the memo and the text. */
  forModel(): { authorNote: AuthorNote; book: Book } {
    const { authorNote, book } = $state.snapshot({ authorNote: this.authorNote, book: this.book });
    return {
      authorNote: { ...authorNote, text: stripRuby(authorNote.text) },
      book: { ...book, entries: book.entries.map((e) => ({ ...e, text: stripRuby(e.text) })) },
    };
  }
}

function newEntryId(): string {
  return `e${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}
