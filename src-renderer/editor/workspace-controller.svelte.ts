/**
 * The writing workspace's controller: the open document, its autosaves (body and memo), the unsaved-text journal,
 * the counts, the continuation, and the page-lifecycle hooks that keep every keystroke. Workspace.svelte and the
 * views under it only render this state and call these methods.
 */
import { api, connection } from '../lib/api';
import { t } from '../i18n/index.svelte';
import { models } from '../models/models.svelte';
import { prefs } from '../settings/prefs.svelte';
import { sampling } from '../settings/sampling.svelte';
import { Autosaver, type SaveState } from './autosave';
import { Continuation, type SeedChoice } from './continuation.svelte';
import { planRestore, pointAt, type BranchNode, type RestorePlan } from './branches';
import type { GenerationStatus } from '../../src-main/contract/store';
import { DocumentAidsEditor } from './aids.svelte';
import { countChars, countText, type Counts } from '../../src-main/manuscript/counts';
import { EMPTY_DOCUMENT_AIDS, type Steering } from '../../src-main/contract/document-aids';
import type { DocumentItem } from './DocumentList.svelte';
import type { ProposalOutcome, ProseEditor } from './prose-editor';
import type { Range } from './schema';
import { UnsavedJournal, toRestore, type UnsavedText } from './unsaved-journal';

export interface OpenDocument {
  id: number;
  title: string;
  body: string;
  memo: string;
  generated: Range[];
  vertical: boolean;
}

const STATE_RANK: Record<SaveState, number> = { saved: 0, saving: 1, pending: 2, error: 3 };

export class WorkspaceController {
  documents = $state<DocumentItem[]>([]);
  current = $state<OpenDocument | null>(null);
  editor = $state<ProseEditor | null>(null);
  /** The open document's author's note and character book, saved by their own autosaver. */
  private readonly journal = new UnsavedJournal();
  readonly aids = new DocumentAidsEditor(this.journal);
  private bodyState = $state<SaveState>('saved');
  private memoState = $state<SaveState>('saved');
  /** The worst of the body's, the memo's and the aids' save states, for the status bar. */
  saveState = $derived([this.bodyState, this.memoState, this.aids.saveState].reduce((worst, state) => (STATE_RANK[state] > STATE_RANK[worst] ? state : worst)));
  saveError = $state<unknown>(null);
  connectionLost = $state(connection.state === 'lost');
  restoredNotice = $state<string | null>(null);
  counts = $state<Counts>({ chars: 0, machineChars: 0, manuscriptPages: 0 });
  /** An error of an action the writer took (open, create, rename…), shown until dismissed. */
  shownError = $state<unknown>(null);
  /** Grows when the text, the cursor or a branch's statuses change: the branch panel reads its tree again. */
  branchesVersion = $state(0);
  /** The branches restored in the open document, so that undo and redo take their statuses back and forth too. */
  private restores: { plan: RestorePlan; applied: boolean }[] = [];
  /** The open document's banned words and phrase biases, sent with each continuation. */
  steering = $state<Steering>(EMPTY_DOCUMENT_AIDS.steering);

  /** The memo to save: taken when it is typed, so a save that runs after switching documents saves the right one. */
  private memoToSave: { id: number; memo: string } | null = null;
  private journalTimer: ReturnType<typeof setTimeout> | undefined;
  private countTimer: ReturnType<typeof setTimeout> | undefined;
  private restoredBodyWaits = false;
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping only, never rendered
  private readonly editedReported = new Set<number>();

  readonly autosaver = new Autosaver(
    async () => {
      const { current, editor } = this;
      if (!current || !editor) return;
      const { text, generated } = editor.content();
      const id = current.id;
      await api.documents.save({ id, body: text, generatedRanges: generated.map((r) => [...r] as [number, number] | [number, number, number]) });
      this.journal.acknowledged(id, { body: text });
      current.body = text;
      current.generated = generated;
      const item = this.documents.find((d) => d.id === id);
      if (item) {
        item.updatedAt = Date.now();
        item.charCount = countChars(text);
      }
    },
    () => this.editor?.composing ?? false,
    (state, error) => {
      this.bodyState = state;
      this.saveError = error ?? null;
    },
  );

  private readonly memoSaver = new Autosaver(
    async () => {
      const pending = this.memoToSave;
      if (!pending) return;
      await api.documents.save(pending);
      this.journal.acknowledged(pending.id, { memo: pending.memo });
    },
    () => false,
    (state, error) => {
      this.memoState = state;
      this.saveError = error ?? null;
    },
    600,
  );

  readonly continuation = new Continuation(
    () => this.editor,
    () => ({
      documentId: this.current?.id ?? null,
      memo: this.current?.memo ?? '',
      params: sampling.active?.params ?? {},
      stopAtSentenceEnd: sampling.stopAtSentenceEnd,
      tokenProbabilities: prefs.tokenProbabilities,
      steering: this.steering,
      ...this.aids.forModel(),
    }),
    () => Boolean(models.list?.inUse) && prefs.readAhead,
  );

  /** What the editor tells the workspace. */
  readonly editorEvents = {
    change: () => {
      this.autosaver.touch();
      clearTimeout(this.journalTimer);
      this.journalTimer = setTimeout(() => this.journalBody(), 250);
      this.scheduleCount();
      this.continuation.schedulePrefill();
      this.branchesVersion++;
    },
    cursorMoved: () => {
      this.branchesVersion++;
      // Where the cursor rests, the writer may ask for a continuation: a cold context there (a document just opened,
      // a jump back to the end) takes seconds to prefill on a CPU, so it starts before the shortcut is pressed.
      this.continuation.schedulePrefill();
    },
    continue: () => void this.continuation.start(),
    retry: (seed: SeedChoice) => void this.continuation.start(seed),
    proposalEnded: (outcome: ProposalOutcome, _text: string, alternative: number, key: string) => {
      this.continuation.ended(outcome, alternative, key);
    },
    generatedEdited: (ids: number[]) => {
      // Once per entry: the history keeps that the writer reworked what the model wrote.
      for (const id of ids.filter((id) => !this.editedReported.has(id))) {
        this.editedReported.add(id);
        void api.history.setStatus({ id, status: 'edited' }).catch(() => undefined);
      }
    },
    alternativeShown: (index: number) => {
      this.continuation.shown = index;
    },
    compositionEnd: () => void this.autosaver.flush(),
    undoRedo: () => {
      if (!this.editor || this.restores.length === 0) return;
      // eslint-disable-next-line svelte/prefer-svelte-reactivity -- looked up once here, never rendered
      const inText = new Set(this.editor.content().generated.map((range) => range[2]));
      for (const record of this.restores) {
        const applied = record.plan.added.every((id) => inText.has(id)) && record.plan.removed.every((id) => !inText.has(id));
        if (applied === record.applied) continue;
        record.applied = applied;
        void this.recordRestore(record.plan, applied).catch((error: unknown) => this.report(error));
      }
    },
  };

  /**
   * Restores a branch from the panel: its path from the point replaces the text's (one undo step), and the history
   * says so: what came into the text is accepted, what left it rejected.
   */
  async restoreBranch(nodes: BranchNode[], id: number): Promise<void> {
    const { editor } = this;
    if (!editor) return;
    const { text, generated } = editor.content();
    const plan = planRestore(pointAt(text, editor.context().cursor, generated), nodes, generated, id);
    if (!plan) return;
    editor.replaceWithGenerations(plan.from, plan.to, plan.parts);
    this.restores.push({ plan, applied: true });
    // Bounded: an undo reaches back only so far (prosemirror-history keeps 100 steps by default).
    if (this.restores.length > 100) this.restores.shift();
    await this.recordRestore(plan, true);
  }

  /** The statuses of a restore (applied), or those from before it (taken back by undo). */
  private async recordRestore(plan: RestorePlan, applied: boolean): Promise<void> {
    const set = (id: number, status: GenerationStatus) => api.history.setStatus({ id, status });
    await Promise.all([
      ...plan.removed.map((id) => set(id, applied ? 'rejected' : (plan.prior.get(id) ?? 'accepted'))),
      ...plan.added.map((id) => set(id, applied ? 'accepted' : (plan.prior.get(id) ?? 'rejected'))),
    ]);
    this.branchesVersion++;
  }

  /** The generation bar's 同じシードで再生成: the editor keeps the focus, so the proposal's keys go on working. */
  retrySameSeed(): void {
    this.editor?.focus();
    void this.continuation.start('same');
  }

  report(error: unknown): void {
    this.shownError = error;
  }

  /** The editor is mounted (once the first document is open). */
  editorReady(editor: ProseEditor): void {
    this.editor = editor;
    this.placeCursor();
    this.scheduleCount();
    if (this.restoredBodyWaits) {
      this.restoredBodyWaits = false;
      this.saveBodyNow();
    }
  }

  // The body goes into the journal once typing pauses briefly (reading 200,000 characters out of the editor on every
  // keystroke would slow typing), and at once whenever the page may go away (keepUnsaved).
  private journalBody(): void {
    clearTimeout(this.journalTimer);
    const { current, editor } = this;
    if (!current || !editor || this.bodyState === 'saved') return;
    const { text, generated } = editor.content();
    this.journal.keepBody(current.id, text, generated);
  }

  /** The page may be going away (reload, closed tab or window, hidden): keep what is unsaved and send it now. */
  keepUnsaved(): Promise<unknown> {
    this.rememberCursor();
    this.journalBody();
    return Promise.all([this.autosaver.flush(), this.memoSaver.flush(), this.aids.flush()]);
  }

  // Counting 200,000 characters takes milliseconds: do it once typing pauses, when the browser is idle — never
  // between two keystrokes, where it would delay the next one.
  private scheduleCount(): void {
    clearTimeout(this.countTimer);
    this.countTimer = setTimeout(() => {
      requestIdleCallback(
        () => {
          if (!this.editor) return;
          const { text, generated } = this.editor.content();
          this.counts = countText(text, generated);
        },
        { timeout: 1000 },
      );
    }, 400);
  }

  private async refreshList(): Promise<void> {
    const page = await api.documents.list({ limit: 200 });
    this.documents = page.items.map((d) => ({ id: d.id, title: d.title, updatedAt: d.updatedAt, charCount: d.charCount }));
  }

  private rememberCursor(): void {
    if (this.current && this.editor) prefs.rememberCursor(this.current.id, this.editor.context().cursor);
  }

  /**
   * Puts the cursor where the writer left it in this document, or at its end, where writing goes on. Moving it there
   * also starts the read-ahead, so the first continuation after opening does not wait for a cold prefill.
   */
  private placeCursor(): void {
    const { current, editor } = this;
    if (!current || !editor) return;
    const end = current.body.length;
    editor.setCursor(Math.min(prefs.cursorOf(current.id) ?? end, end));
  }

  /** Opens a document; `reload` re-reads the open one (after restoring a revision). */
  async open(id: number, reload = false): Promise<void> {
    if (!reload) {
      this.journalBody();
      await Promise.all([this.autosaver.flush(), this.memoSaver.flush()]);
      this.rememberCursor();
    }
    const doc = await api.documents.get({ id });
    const first = this.current === null;
    this.restores = [];
    const restored = toRestore(this.journal.read(id), doc);
    const body = restored?.body?.text ?? doc.body;
    const generated = restored?.body?.generated ?? doc.generatedRanges;
    // Before the document shows: once it does, the writer may type, and the cursor is placed with no wait between
    // (an await there let typing run first, and the cursor then jumped back to where the document was opened).
    await this.aids.load(doc.id, doc.aids, restored?.aids);
    this.current = { id: doc.id, title: doc.title, body, memo: restored?.memo ?? doc.memo, generated, vertical: doc.writingMode === 'vertical' };
    this.steering = restored?.aids?.steering ?? doc.aids.steering;
    if (!first) this.editor?.load(body, generated);
    this.placeCursor();
    if (restored) this.saveRestored(id, restored);
    prefs.lastDocumentId = id;
    this.scheduleCount();
  }

  /** Opens a document made elsewhere (an import): the list is read again first, so it shows there too. */
  async openNew(id: number): Promise<void> {
    await this.refreshList();
    await this.open(id);
  }

  async create(): Promise<void> {
    const doc = await api.documents.create({ title: t('documents.untitled') });
    await this.refreshList();
    await this.open(doc.id);
  }

  async rename(id: number, title: string): Promise<void> {
    await api.documents.rename({ id, title });
    if (this.current?.id === id) this.current.title = title;
    await this.refreshList();
  }

  async remove(id: number): Promise<void> {
    await api.documents.delete({ id });
    await this.refreshList();
    if (this.current?.id === id) {
      const next = this.documents[0];
      if (next) await this.open(next.id);
      else await this.create();
    }
  }

  async loadTrash(): Promise<DocumentItem[]> {
    return (await api.documents.trash({ limit: 200 })).items.map((d) => ({ id: d.id, title: d.title, updatedAt: d.updatedAt, charCount: d.charCount }));
  }

  async restore(id: number): Promise<void> {
    await api.documents.restore({ id });
    await this.refreshList();
  }

  async purge(id: number): Promise<void> {
    await api.documents.delete({ id, permanent: true });
  }

  /** Saves the open document's banned words and phrase biases (that part of its aids alone). */
  async setSteering(steering: Steering): Promise<void> {
    if (!this.current) return;
    const { id } = this.current;
    // Shown and kept on this device at once: a save that fails (a dead server) is retried from the journal.
    this.journal.keepAids(id, { steering });
    this.steering = steering;
    await api.documents.save({ id, aids: { steering } });
    this.journal.acknowledged(id, { aids: { steering } });
  }

  async setVertical(vertical: boolean): Promise<void> {
    if (!this.current) return;
    this.current.vertical = vertical;
    await api.documents.save({ id: this.current.id, writingMode: vertical ? 'vertical' : 'horizontal' });
  }

  private saveBodyNow(): void {
    this.autosaver.touch();
    void this.autosaver.flush();
  }

  /**
   * Text the server never acknowledged came back from the journal: it is in the editor now; save it and say so.
   * The body is saved by the autosaver once the editor holds it (at once, or when the first editor is ready).
   */
  private saveRestored(id: number, restored: UnsavedText): void {
    const parts = [restored.body && t('journal.body'), restored.memo !== undefined && t('journal.memo'), restored.aids && t('journal.aids')];
    const named = parts.filter((p): p is string => typeof p === 'string');
    this.restoredNotice = t('journal.restored', { parts: named.join(t('journal.join')) });
    if (restored.aids?.steering) void this.setSteering(restored.aids.steering);
    if (restored.memo !== undefined) {
      this.memoToSave = { id, memo: restored.memo };
      this.memoSaver.touch();
      void this.memoSaver.flush();
    }
    if (restored.body && this.editor) this.saveBodyNow();
    else if (restored.body) this.restoredBodyWaits = true;
  }

  memoChanged(memo: string): void {
    if (!this.current) return;
    this.current.memo = memo;
    this.memoToSave = { id: this.current.id, memo };
    this.journal.keepMemo(this.current.id, memo);
    this.memoSaver.touch();
  }

  /** Opens a document with the cursor where a generation was made: after its text if accepted, else after its context. */
  async openAt(id: number, contextBefore: string, generated: string): Promise<void> {
    if (this.current?.id !== id) await this.open(id);
    const { editor } = this;
    if (!editor) return;
    const { text } = editor.content();
    const accepted = generated ? text.indexOf(generated) : -1;
    if (accepted >= 0) {
      editor.setCursor(accepted + generated.length);
      return;
    }
    const tail = contextBefore.slice(-30);
    const at = tail ? text.lastIndexOf(tail) : -1;
    editor.setCursor(at >= 0 ? at + tail.length : text.length);
  }

  /** Loads the documents and opens the last one, and keeps what is typed whenever the page may go away; returns the undo. */
  start(): () => void {
    const keep = () => void this.keepUnsaved();
    const onVisibility = () => {
      if (document.visibilityState === 'hidden') keep();
    };
    window.addEventListener('blur', keep);
    window.addEventListener('pagehide', keep);
    window.addEventListener('beforeunload', keep);
    document.addEventListener('visibilitychange', onVisibility);
    const offClosing = api.on('app.closing', () => {
      void this.keepUnsaved().finally(() => api.app.closeReady({}));
    });
    // Server gone: a stream's end will never come, so what arrived stays proposed instead of 生成中 forever.
    // Back: what failed to save (or was typed meanwhile) is sent again.
    const offConnection = connection.on((state) => {
      this.connectionLost = state === 'lost';
      if (state === 'lost') void this.continuation.stop();
      if (state === 'connected') keep();
    });
    void (async () => {
      try {
        await Promise.all([this.refreshList(), sampling.load()]);
        const last = this.documents.find((d) => d.id === prefs.lastDocumentId) ?? this.documents[0];
        if (last) await this.open(last.id);
        else await this.create();
      } catch (error) {
        this.report(error);
      }
    })();
    return () => {
      offClosing();
      offConnection();
      window.removeEventListener('blur', keep);
      window.removeEventListener('pagehide', keep);
      window.removeEventListener('beforeunload', keep);
      document.removeEventListener('visibilitychange', onVisibility);
      this.continuation.dispose();
      clearTimeout(this.journalTimer);
      clearTimeout(this.countTimer);
      this.autosaver.dispose();
      this.memoSaver.dispose();
      this.aids.dispose();
    };
  }
}
