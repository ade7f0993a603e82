/**
 * Drives one continuation at a time: sends the text before the cursor (ruby notation stripped: the model never saw
 * it) to the generation service, streams the deltas into the editor's proposal, and records in the history what the
 * writer did with it (accepted, rejected).
 */
import type { EventPayload, InputOf, OutputOf } from '../../src-main/contract/contract';
import type { AuthorNote, Book, Steering } from '../../src-main/contract/document-aids';
import { api, ApiError } from '../lib/api';
import type { ProseEditor, ProposalOutcome } from './prose-editor';
import type { ProposalHead } from './proposal';
import { splitAtCursor, stripRuby, textBeforeCursor } from '../../src-main/manuscript/ruby';

type Done = EventPayload<'generation.done'>;
type StreamEvent =
  | { kind: 'delta'; payload: EventPayload<'generation.delta'> }
  | { kind: 'done'; payload: Done }
  | { kind: 'error'; payload: EventPayload<'generation.error'> };

/**
 * The seed a continuation samples with: the preset's (a fixed one reproduces the first continuation), a new one (a
 * retry, so that it writes something else), or the shown proposal's again (to reproduce it on purpose).
 */
export type SeedChoice = 'preset' | 'new' | 'same';

export interface ContinuationRequest {
  documentId: number | null;
  memo: string;
  params: InputOf<'generation.start'>['params'];
  stopAtSentenceEnd: boolean;
  /** Ask for each token's candidates (the token view). */
  tokenProbabilities: boolean;
  /** The document's banned words and phrase biases (the service adds the settings' global ones). */
  steering: Steering;
  /** The document's author's note and character book, as the model reads them (ruby notation stripped). */
  authorNote: AuthorNote;
  book: Book;
}

const NO_HEAD: ProposalHead = { text: '', tokens: [] };

export class Continuation {
  status = $state<'idle' | 'streaming' | 'proposed'>('idle');
  last = $state<Done | null>(null);
  error = $state<ApiError | null>(null);
  alternatives = $state(1);
  /** The alternative the editor shows. */
  shown = $state(0);
  private requestId: string | null = null;
  /** Events that arrive while `generation.start` has not answered yet (their request id is not known). */
  private early: StreamEvent[] | null = null;
  private outcome: { outcome: ProposalOutcome; alternative: number; key: string } | null = null;
  private done: Done | null = null;
  /** What the next start's proposal begins with (see startFrom), and the length of the running one's. */
  private head = NO_HEAD;
  private headLength = 0;
  private readonly off: (() => void)[];

  constructor(
    private readonly editor: () => ProseEditor | null,
    private readonly request: () => ContinuationRequest,
    /** Whether to prefill where the writer pauses (a model is in use and the read-ahead setting is on). */
    private readonly readAhead: () => boolean,
  ) {
    this.off = [
      api.on('generation.delta', (payload) => this.receive({ kind: 'delta', payload })),
      api.on('generation.done', (payload) => this.receive({ kind: 'done', payload })),
      api.on('generation.error', (payload) => this.receive({ kind: 'error', payload })),
    ];
  }

  private receive(event: StreamEvent): void {
    if (this.early) this.early.push(event);
    else if (event.payload.requestId === this.requestId) this.apply(event);
  }

  private apply(event: StreamEvent): void {
    const editor = this.editor();
    if (event.kind === 'delta') {
      // The engine's offsets count from the text it generated, which follows the head.
      const tokens = event.payload.tokens?.map((t) => ({ ...t, at: t.at + this.headLength }));
      editor?.appendProposal(event.payload.index, event.payload.text, tokens);
    } else if (event.kind === 'done') {
      this.done = event.payload;
      this.last = event.payload;
      editor?.finishProposal();
      if (this.status === 'streaming') this.status = 'proposed';
      this.settle();
    } else {
      this.error = new ApiError(event.payload.error.code, event.payload.error.message);
      this.requestId = null;
      this.status = 'idle';
      editor?.reject();
    }
  }

  /** Asks for a continuation of the text before the cursor. */
  async start(seed: SeedChoice = 'preset'): Promise<void> {
    clearTimeout(this.prefillTimer);
    const editor = this.editor();
    if (!editor || editor.composing) return;
    if (editor.proposal) editor.reject();
    const { text, cursor } = editor.context();
    const request = this.request();
    const { documentId, memo, stopAtSentenceEnd } = request;
    // A null seed over the preset's makes the service draw one; the one it used comes back in the done event.
    const params = { ...request.params, ...(seed === 'new' ? { seed: null } : seed === 'same' && this.last ? { seed: this.last.seed } : {}) };
    this.error = null;
    this.done = null;
    this.outcome = null;
    // As the service does: greedy decoding gives one text, whatever the preset's count.
    this.alternatives = params?.doSample === false ? 1 : (params?.numAlternatives ?? 1);
    this.shown = 0;
    const head = this.head;
    this.head = NO_HEAD;
    this.headLength = head.text.length;
    const split = splitAtCursor(text, cursor);
    editor.beginProposal(this.alternatives, head);
    this.status = 'streaming';
    this.early = [];
    try {
      const { requestId } = await api.generation.start({
        documentId,
        ...split,
        before: split.before + head.text,
        tokenProbabilities: this.request().tokenProbabilities,
        steering: request.steering,
        memo: stripRuby(memo),
        authorNote: request.authorNote,
        book: request.book,
        params,
        stopAtSentenceEnd,
      });
      this.requestId = requestId;
      const early = this.early ?? [];
      this.early = null;
      early.filter((e) => e.payload.requestId === requestId).forEach((e) => this.apply(e));
    } catch (error) {
      this.early = null;
      this.status = 'idle';
      this.error = error instanceof ApiError ? error : new ApiError('internal', String(error));
      editor.reject();
    }
  }

  /**
   * Continues from a candidate the writer chose in the token view: the proposal keeps its text up to that token, the
   * candidate in its place, and the model writes on from there (the head goes to the model after the document's text
   * before the cursor; the document itself changes only when the proposal is accepted).
   */
  startFrom(head: ProposalHead): Promise<void> {
    this.head = head;
    return this.start();
  }

  private prefillTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * While the writer pauses (typing, or with the cursor moved), the service prefills the model with the text before
   * the cursor, so that the next continuation starts streaming almost at once. Any keystroke or cursor move
   * postpones it; a start cancels it.
   */
  schedulePrefill(delayMs = 700): void {
    clearTimeout(this.prefillTimer);
    this.prefillTimer = setTimeout(() => {
      const editor = this.editor();
      // Asked when the timer fires, so that turning the read-ahead off also drops one already scheduled.
      if (!editor || editor.composing || editor.proposal || this.status !== 'idle' || !this.readAhead()) return;
      void api.generation.prefill(this.contextAt(editor)).catch(() => undefined); // no model yet, or busy: the start will say so if it matters
    }, delayMs);
  }

  /** The context at the cursor as a prefill and the context viewer send it: what a start would send. */
  private contextAt(editor: ProseEditor): InputOf<'generation.prefill'> {
    const { text, cursor } = editor.context();
    const { documentId, memo, params, authorNote, book } = this.request();
    return { documentId, before: textBeforeCursor(text, cursor), memo: stripRuby(memo), authorNote, book, maxNewTokens: params?.maxNewTokens };
  }

  /** The context the next continuation at the cursor would send, part by part (null: no document is open yet). */
  async nextContext(): Promise<OutputOf<'generation.context'> | null> {
    const editor = this.editor();
    return editor ? api.generation.context(this.contextAt(editor)) : null;
  }

  /** Stops the stream; what has arrived stays proposed. */
  async stop(): Promise<void> {
    const requestId = this.requestId;
    if (!requestId || this.status !== 'streaming') return;
    this.status = 'proposed';
    await api.generation.cancel({ requestId }).catch(() => undefined);
  }

  /** The editor ended the proposal (accept, reject, typing): stop the stream and record the outcome. */
  ended(outcome: ProposalOutcome, alternative: number, key: string): void {
    this.outcome = { outcome, alternative, key };
    void this.stop();
    this.status = 'idle';
    this.settle();
  }

  /** Once both the writer's decision and the stored generations are known, record the decision in the history. */
  private settle(): void {
    if (!this.outcome || !this.done) return;
    const { outcome, alternative, key } = this.outcome;
    const done = this.done;
    this.outcome = null;
    this.done = null;
    this.requestId = null;
    for (const alt of done.alternatives) {
      if (alt.generationId === null) continue;
      const accepted = outcome === 'accepted' && alt.index === alternative;
      void api.history.setStatus({ id: alt.generationId, status: accepted ? 'accepted' : 'rejected' }).catch(() => undefined);
      if (accepted) this.editor()?.linkGeneration(key, alt.generationId);
    }
  }

  dispose(): void {
    clearTimeout(this.prefillTimer);
    this.off.forEach((off) => off());
    void this.stop();
  }
}
