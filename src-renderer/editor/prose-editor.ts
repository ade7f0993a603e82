/**
 * The prose editor. Built on ProseMirror, chosen against the alternatives for these needs:
 * - IME: ProseMirror leaves composition to the browser's own contenteditable and reads the result afterwards, the
 *   most robust way to support Japanese input methods; we add a guard so no shortcut fires while composing.
 * - 縦書き: it uses the native caret and selection, so `writing-mode: vertical-rl` just works. CodeMirror 6 measures
 *   lines itself and does not support vertical writing (its author has said it will not); a <textarea> cannot
 *   decorate streamed text inline.
 * - Inline decorations: the streaming proposal is a widget decoration, outside the document until accepted.
 * - Undo: prosemirror-history; accepting is one transaction, so one undo restores the text before the continuation.
 * - 200,000 characters: paragraphs are separate nodes, and an edit only re-renders the paragraph it touches.
 */
import { baseKeymap } from 'prosemirror-commands';
import { closeHistory, history, isHistoryTransaction, redo, undo } from 'prosemirror-history';
import { keymap } from 'prosemirror-keymap';
import { EditorState, Plugin, TextSelection, type Selection, type Transaction } from 'prosemirror-state';
import { EditorView } from 'prosemirror-view';
import {
  acceptTransaction,
  isAcceptance,
  proposalActions,
  proposalKey,
  proposalPlugin,
  typedThrough,
  typeThroughTransaction,
  type Proposal,
  type ProposalHead,
} from './proposal';
import type { TokenProbabilities } from '../../src-main/contract/generation';
import { acceptedTokensKey, acceptedTokensOf, acceptedTokensPlugin, type AcceptedTokens } from './accepted-tokens';
import { machineMarksPlugin } from './machine-marks';
import { docToText, editedGenerations, insertLines, offsetToPos, posToOffset, schema, textToDoc, type Range } from './schema';
import { defaultBindings, isImeEvent, matchesShortcut, type Bindings } from './shortcuts';
import { uprightPlugin } from './upright';

export type ProposalOutcome = 'accepted' | 'rejected';

export interface EditorEvents {
  /** The document text changed (typing, accepting, undo). */
  change(): void;
  /** The cursor moved (a click, the arrow keys) and the text did not change. */
  cursorMoved(): void;
  /** The writer asked for a continuation (the continue shortcut, outside any composition). */
  continue(): void;
  /** Retry: reject the proposal and ask again, with a new seed or with the proposal's seed again. */
  retry(seed: 'new' | 'same'): void;
  /**
   * A proposal ended; `text` is what went into the document (empty when rejected), and `key` marks it until
   * `linkGeneration(key, id)` ties it to its history entry.
   */
  proposalEnded(outcome: ProposalOutcome, text: string, alternative: number, key: string): void;
  /** The writer changed text that was accepted from these history entries. */
  generatedEdited(ids: number[]): void;
  /** Another alternative is shown (Alt+↑/↓). */
  alternativeShown(index: number): void;
  /** A composition ended: work postponed during it (autosave) may run now. */
  compositionEnd(): void;
  /** Undo or redo changed the text (it may have taken back or put back a restored branch). */
  undoRedo(): void;
}

/** Marks a transaction that only links accepted text to its history entry. */
const LINK = 'tsuzuki-link-generation';
/** Marks a transaction that restores a branch: the model's texts in place of others, not the writer's edit. */
const BRANCH = 'tsuzuki-restore-branch';

/** The writer's own edit: not undo or redo (they put back what was there), accepting, or linking. */
function isWritersEdit(tr: Transaction): boolean {
  return !isHistoryTransaction(tr) && !isAcceptance(tr) && !tr.getMeta(LINK) && !tr.getMeta(BRANCH);
}

const MODIFIER_KEYS = new Set(['Shift', 'Control', 'Alt', 'Meta', 'CapsLock', 'Fn', 'Hyper', 'Super', 'OS']);

/** The character a key types by itself ('' for named keys such as ArrowLeft, and for chords with Ctrl, Alt or ⌘). */
function typedCharacter(event: KeyboardEvent): string {
  return !event.ctrlKey && !event.metaKey && !event.altKey && [...event.key].length === 1 ? event.key : '';
}

export class ProseEditor {
  readonly view: EditorView;
  private bindings: Bindings = defaultBindings;
  private acceptances = 0;

  constructor(
    mount: HTMLElement,
    text: string,
    generated: readonly Range[],
    private readonly events: EditorEvents,
  ) {
    const guard = new Plugin({
      props: {
        handleKeyDown: (view, event) => this.onKeyDown(view, event),
        // A click that moves the cursor dismisses a proposal as any cursor move does; one on the cursor (or on the
        // proposal) does too, and leaves the cursor where the click was.
        handleClick: (view, pos) => {
          if (!this.proposal) return false;
          this.reject(TextSelection.near(view.state.doc.resolve(pos)));
          return true;
        },
        handleDOMEvents: {
          // ProseMirror leaves keys alone during a composition (the IME owns them, keyCode 229). A key that reaches
          // the page anyway while composing (an Enter without 229) must not split the paragraph or run a command.
          keydown: (view, event) => {
            if ((view.composing || event.isComposing) && event.keyCode !== 229) {
              event.preventDefault();
              return true;
            }
            return false;
          },
          // Composed text is the writer's own: a proposal goes before the IME writes anything (usually already on the
          // keydown that starts the composition, see onKeyDown).
          compositionstart: (view) => {
            if (this.proposal && !view.composing) this.reject();
            return false;
          },
          compositionend: () => {
            // Deferred: ProseMirror applies the composed text after this event.
            queueMicrotask(() => this.events.compositionEnd());
            return false;
          },
        },
      },
    });
    this.view = new EditorView(mount, {
      state: this.createState(text, generated, [guard]),
      attributes: { class: 'prose', spellcheck: 'false', role: 'textbox', 'aria-multiline': 'true', 'data-testid': 'editor' },
      dispatchTransaction: (tr) => {
        const before = this.view.state.doc;
        const proposal = this.proposal;
        const state = this.view.state.apply(tr);
        this.view.updateState(state);
        // Dismissed by another change of the text or move of the cursor (see the proposal plugin).
        if (proposal && !this.proposal && !tr.getMeta(proposalKey)) this.events.proposalEnded('rejected', '', proposal.index, '');
        if (!tr.docChanged) {
          if (tr.selectionSet) this.events.cursorMoved();
          return;
        }
        this.events.change();
        if (isHistoryTransaction(tr)) this.events.undoRedo();
        // Undo and redo put back what was there; only the writer's own edits of accepted text count.
        if (isWritersEdit(tr)) {
          const changes: [number, number][] = [];
          tr.mapping.maps.forEach((map, i) => map.forEach((from, to) => changes.push([tr.mapping.slice(0, i).invert().map(from), tr.mapping.slice(0, i).invert().map(to)])));
          const edited = editedGenerations(before, changes);
          if (edited.size > 0) this.events.generatedEdited([...edited]);
        }
      },
    });
  }

  private createState(text: string, generated: readonly Range[], extra: Plugin[]): EditorState {
    return EditorState.create({
      doc: textToDoc(text, generated),
      plugins: [
        ...extra,
        proposalPlugin,
        acceptedTokensPlugin,
        machineMarksPlugin(isWritersEdit),
        uprightPlugin,
        history(),
        keymap({ 'Mod-z': undo, 'Mod-y': redo, 'Mod-Shift-z': redo }),
        keymap(baseKeymap),
      ],
    });
  }

  setBindings(bindings: Bindings): void {
    this.bindings = bindings;
  }

  /** Replaces the whole document (opening another one); history starts afresh, and a proposal shown is dismissed. */
  load(text: string, generated: readonly Range[]): void {
    this.reject();
    const guard = this.view.state.plugins[0]!;
    this.view.updateState(this.createState(text, generated, [guard]));
  }

  get composing(): boolean {
    return this.view.composing;
  }

  get proposal(): Proposal | null {
    return proposalKey.getState(this.view.state) ?? null;
  }

  /** The stored form of the document. */
  content(): { text: string; generated: Range[] } {
    return docToText(this.view.state.doc);
  }

  /** The text before and after the cursor, as offsets into the stored text. */
  context(): { text: string; cursor: number } {
    const { text } = docToText(this.view.state.doc);
    return { text, cursor: posToOffset(this.view.state.doc, this.view.state.selection.head) };
  }

  setCursor(offset: number): void {
    const pos = offsetToPos(this.view.state.doc, offset);
    this.view.dispatch(this.view.state.tr.setSelection(TextSelection.create(this.view.state.doc, pos)).scrollIntoView());
    this.view.focus();
  }

  /** Inserts text at the cursor as the writer's own (e.g. from the history panel), undoable. */
  insertText(text: string): void {
    const { from } = this.view.state.selection;
    const tr = this.view.state.tr.deleteSelection();
    const pos = insertLines(tr, from, text);
    this.dispatchOwnStep(tr.setSelection(TextSelection.create(tr.doc, pos)).scrollIntoView());
    this.view.focus();
  }

  /**
   * Dispatches what the app does to the text (accept, restore a branch, insert from the history, cut for a chosen
   * candidate) as an undo step of its own: prosemirror-history merges changes next to each other within 500 ms into
   * one step, so a restore right after an accept, or typing right after one, was undone together with it.
   */
  private dispatchOwnStep(tr: Transaction): void {
    this.view.dispatch(closeHistory(tr));
    this.view.dispatch(closeHistory(this.view.state.tr));
  }

  /** `head`: what the proposal starts with (the text up to a candidate the writer chose, and its tokens). */
  beginProposal(alternatives: number, head?: ProposalHead): void {
    const pos = this.view.state.selection.head;
    this.view.dispatch(proposalActions.start(this.view.state.tr.setSelection(TextSelection.create(this.view.state.doc, pos)), pos, alternatives, head));
  }

  /** `tokens`: the delta's tokens (token view only), their offsets in the alternative's text. */
  appendProposal(alternative: number, text: string, tokens?: TokenProbabilities[]): void {
    if (!this.proposal) return;
    this.view.dispatch(proposalActions.append(this.view.state.tr, alternative, text, tokens));
  }

  finishProposal(): void {
    if (!this.proposal) return;
    this.view.dispatch(proposalActions.finish(this.view.state.tr));
    this.acceptIfTypedThrough();
  }

  cycleProposal(delta: number): void {
    const proposal = this.proposal;
    if (!proposal || proposal.texts.length < 2) return;
    this.view.dispatch(proposalActions.cycle(this.view.state.tr, delta));
    this.events.alternativeShown(this.proposal?.index ?? 0);
  }

  accept(): void {
    const proposal = this.proposal;
    const key = `p${++this.acceptances}`;
    const tr = acceptTransaction(this.view.state, key);
    if (!proposal || !tr) return;
    this.dispatchOwnStep(tr.setMeta(acceptedTokensKey, acceptedTokensOf(proposal)));
    this.events.proposalEnded('accepted', proposal.texts[proposal.index] ?? '', proposal.index, key);
  }

  /** The tokens of the text accepted last, while it is unchanged (the token view). */
  get acceptedTokens(): AcceptedTokens | null {
    return acceptedTokensKey.getState(this.view.state) ?? null;
  }

  /** Deletes `from`–`to` as the writer would (one undo puts it back), the cursor where it was. */
  deleteRange(from: number, to: number): void {
    const tr = this.view.state.tr.delete(from, to);
    this.dispatchOwnStep(tr.setSelection(TextSelection.create(tr.doc, from)).scrollIntoView());
    this.view.focus();
  }

  /** Dismisses the proposal, leaving the document as it is; `selection`: where the cursor goes meanwhile. */
  reject(selection?: Selection): void {
    const proposal = this.proposal;
    if (!proposal) return;
    const tr = proposalActions.clear(this.view.state.tr);
    this.view.dispatch(selection ? tr.setSelection(selection) : tr);
    this.events.proposalEnded('rejected', '', proposal.index, '');
  }

  private acceptIfTypedThrough(): void {
    if (this.proposal && typedThrough(this.proposal)) this.accept();
  }

  /**
   * Replaces [from, to) (offsets of the stored text) with generations' texts, each marked as coming from its history
   * entry, the cursor after them: one undo step, which brings back what was there.
   */
  replaceWithGenerations(from: number, to: number, parts: readonly { id: number; text: string }[]): void {
    this.reject();
    const { doc } = this.view.state;
    const tr = this.view.state.tr.delete(offsetToPos(doc, from), offsetToPos(doc, to)).setMeta(BRANCH, true);
    let pos = tr.mapping.map(offsetToPos(doc, from), -1);
    for (const { id, text } of parts) pos = insertLines(tr, pos, text, [schema.marks.generated!.create({ id })]);
    this.dispatchOwnStep(tr.setSelection(TextSelection.create(tr.doc, pos)).scrollIntoView());
    this.view.focus();
  }

  /** Ties accepted text (marked with `key`) to its history entry, so later edits of it can be recorded there. */
  linkGeneration(key: string, id: number): void {
    const type = schema.marks.generated!;
    const tr = this.view.state.tr;
    this.view.state.doc.descendants((node, pos) => {
      const mark = node.marks.find((m) => m.type === type && m.attrs.key === key);
      if (mark) tr.removeMark(pos, pos + node.nodeSize, mark).addMark(pos, pos + node.nodeSize, type.create({ id }));
    });
    if (tr.docChanged) this.view.dispatch(tr.setMeta('addToHistory', false).setMeta(LINK, true));
  }

  focus(): void {
    this.view.focus();
  }

  destroy(): void {
    this.view.destroy();
  }

  private onKeyDown(view: EditorView, event: KeyboardEvent): boolean {
    // Never act during an IME composition, nor on the key that starts or commits one; starting one dismisses a
    // proposal, and what is composed is then typed as usual.
    if (isImeEvent(event, view.composing)) {
      if (this.proposal && !view.composing) this.reject();
      return false;
    }
    const b = this.bindings;
    if (this.proposal) {
      if (matchesShortcut(event, b['generation.accept'])) {
        this.accept();
        return true;
      }
      if (matchesShortcut(event, b['generation.reject'])) {
        this.reject();
        return true;
      }
      if (matchesShortcut(event, b['generation.regenerate'])) {
        this.reject();
        this.events.retry('new');
        return true;
      }
      if (matchesShortcut(event, b['generation.regenerateSameSeed'])) {
        this.reject();
        this.events.retry('same');
        return true;
      }
      if (matchesShortcut(event, b['generation.previous'])) {
        this.cycleProposal(-1);
        return true;
      }
      if (matchesShortcut(event, b['generation.next'])) {
        this.cycleProposal(1);
        return true;
      }
      if (matchesShortcut(event, b['generation.start'])) return true;
      if (MODIFIER_KEYS.has(event.key)) return false;
      // The proposal's next character is typed through; any other key dismisses it, then does its usual work.
      const typed = typeThroughTransaction(view.state, typedCharacter(event));
      if (typed) {
        view.dispatch(typed);
        this.acceptIfTypedThrough();
        return true;
      }
      this.reject();
      return false;
    }
    if (matchesShortcut(event, b['generation.start'])) {
      this.events.continue();
      return true;
    }
    return false;
  }
}
