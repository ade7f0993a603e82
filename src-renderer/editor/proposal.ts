/**
 * A continuation being proposed: shown at the cursor as an inline widget (so it flows correctly in horizontal and
 * vertical writing) and kept out of the document until accepted. Accepting inserts it in one transaction, so one
 * undo restores the text as it was before the continuation.
 *
 * As in editors with inline suggestions, the writer may type through it: a typed character equal to the proposal's
 * next one goes into the text as ordinary typing and the proposal shrinks by it. Any other change of the text or move
 * of the cursor dismisses it, leaving nothing of it behind.
 */
import { Plugin, PluginKey, TextSelection, type EditorState, type Transaction } from 'prosemirror-state';
import { Decoration, DecorationSet } from 'prosemirror-view';
import type { TokenProbabilities } from '../../src-main/contract/generation';
import { insertLines, schema } from './schema';

export interface Proposal {
  /** Where the rest of the continuation goes (a document position): the cursor, after what was typed through. */
  pos: number;
  /** One text per alternative; they grow as deltas arrive. */
  texts: string[];
  /** The alternative being shown. */
  index: number;
  streaming: boolean;
  /** What the writer has typed through: the start of the shown alternative, already in the document before `pos`. */
  typed: string;
  /** Per alternative, its tokens with their candidates (only when token probabilities were asked for). */
  tokens: TokenProbabilities[][];
}

/** Where a proposal starts: empty, or (after a candidate was chosen) with the text up to it and its tokens. */
export interface ProposalHead {
  text: string;
  tokens: TokenProbabilities[];
}

type Action =
  | { type: 'start'; pos: number; count: number; head: ProposalHead }
  | { type: 'append'; alternative: number; text: string; tokens: TokenProbabilities[] }
  | { type: 'cycle'; delta: number }
  | { type: 'typed'; text: string }
  | { type: 'finish' }
  | { type: 'clear' };

export const proposalKey = new PluginKey<Proposal | null>('proposal');

/** The part of the shown alternative not typed through yet. */
export function remaining(proposal: Proposal): string {
  return (proposal.texts[proposal.index] ?? '').slice(proposal.typed.length);
}

/** The character the writer would type through next (a whole code point), or '' when none has arrived. */
export function nextCharacter(proposal: Proposal): string {
  const code = remaining(proposal).codePointAt(0);
  return code === undefined ? '' : String.fromCodePoint(code);
}

/** Typed through to its end, with nothing more to come: that counts as accepting it. */
export function typedThrough(proposal: Proposal): boolean {
  return !proposal.streaming && proposal.typed.length > 0 && remaining(proposal) === '';
}

/**
 * The shown alternative's tokens not typed through, as ranges of `remaining(proposal)`; `index` is the token's place
 * in `proposal.tokens[proposal.index]`. A token partly typed through is plain text.
 */
export function shownTokens(proposal: Proposal): { index: number; from: number; to: number }[] {
  const tokens = proposal.tokens[proposal.index] ?? [];
  const text = proposal.texts[proposal.index] ?? '';
  const typed = proposal.typed.length;
  return tokens
    .map((t, index) => ({ index, from: t.at - typed, to: (tokens[index + 1]?.at ?? text.length) - typed }))
    .filter((r) => r.from >= 0 && r.to > r.from);
}

function render(proposal: Proposal): HTMLElement {
  const span = document.createElement('span');
  span.className = 'proposal';
  span.dataset.testid = 'proposal';
  span.setAttribute('aria-live', 'polite');
  const rest = remaining(proposal);
  const tokens = shownTokens(proposal);
  // Token boundaries, when the token view asked for them: each token its own span, found by its index.
  let done = 0;
  for (const { index, from, to } of tokens) {
    if (from > done) span.append(rest.slice(done, from));
    const token = document.createElement('span');
    token.className = index % 2 ? 'token odd' : 'token';
    token.dataset.token = String(index);
    token.textContent = rest.slice(from, to);
    span.append(token);
    done = to;
  }
  span.append(rest.slice(done));
  if (proposal.streaming) span.classList.add('streaming');
  return span;
}

/** The next alternative in `delta`'s direction that begins with what the writer has typed through (others cannot follow it). */
function cycle(proposal: Proposal, delta: number): number {
  const count = proposal.texts.length;
  for (let step = 1; step <= count; step++) {
    const index = (((proposal.index + delta * step) % count) + count) % count;
    if (proposal.texts[index]!.startsWith(proposal.typed)) return index;
  }
  return proposal.index;
}

export const proposalPlugin = new Plugin<Proposal | null>({
  key: proposalKey,
  state: {
    init: () => null,
    apply(tr, value, before, after): Proposal | null {
      const action = tr.getMeta(proposalKey) as Action | undefined;
      if (!action) {
        // The writer changed the text or moved the cursor some other way (a click, a paste, a drop): dismissed.
        return value && (tr.docChanged || !after.selection.eq(before.selection)) ? null : value;
      }
      const next = value && tr.docChanged ? { ...value, pos: tr.mapping.map(value.pos, 1) } : value;
      switch (action.type) {
        case 'start': {
          const { head } = action;
          const each = <T>(value: T) => Array.from({ length: action.count }, () => value);
          return { pos: action.pos, texts: each(head.text), index: 0, streaming: true, typed: '', tokens: each(head.tokens) };
        }
        case 'append': {
          if (!next) return next;
          const at = (i: number) => i === action.alternative;
          return {
            ...next,
            tokens: action.tokens.length ? next.tokens.map((t, i) => (at(i) ? [...t, ...action.tokens] : t)) : next.tokens,
            texts: next.texts.map((t, i) => (at(i) ? t + action.text : t)),
          };
        }
        case 'cycle':
          return next && { ...next, index: cycle(next, action.delta) };
        case 'typed':
          return next && { ...next, typed: next.typed + action.text };
        case 'finish':
          return next && { ...next, streaming: false };
        case 'clear':
          return null;
      }
    },
  },
  props: {
    decorations(state) {
      const proposal = proposalKey.getState(state);
      if (!proposal) return null;
      // A new key per content, so the widget is redrawn as text streams in or is typed through.
      const key = `p${proposal.index}:${proposal.texts[proposal.index]?.length ?? 0}:${proposal.tokens[proposal.index]?.length ?? 0}:${proposal.typed.length}:${proposal.streaming}`;
      return DecorationSet.create(state.doc, [Decoration.widget(proposal.pos, () => render(proposal), { side: 1, key })]);
    },
  },
});

export const proposalActions = {
  start: (tr: Transaction, pos: number, count: number, head: ProposalHead = { text: '', tokens: [] }) =>
    tr.setMeta(proposalKey, { type: 'start', pos, count, head } satisfies Action),
  append: (tr: Transaction, alternative: number, text: string, tokens: TokenProbabilities[] = []) =>
    tr.setMeta(proposalKey, { type: 'append', alternative, text, tokens } satisfies Action),
  cycle: (tr: Transaction, delta: number) => tr.setMeta(proposalKey, { type: 'cycle', delta } satisfies Action),
  finish: (tr: Transaction) => tr.setMeta(proposalKey, { type: 'finish' } satisfies Action),
  clear: (tr: Transaction) => tr.setMeta(proposalKey, { type: 'clear' } satisfies Action),
};

/**
 * The transaction that types `char` through the proposal: inserted at the cursor as the writer's typing would be,
 * the proposal after it. Null when `char` is not the proposal's next character (or the cursor is elsewhere); a line
 * break is never typed through (it is Enter's, which makes a paragraph).
 */
export function typeThroughTransaction(state: EditorState, char: string): Transaction | null {
  const proposal = proposalKey.getState(state);
  if (!proposal || !char || char === '\n' || char !== nextCharacter(proposal)) return null;
  if (!state.selection.empty || state.selection.head !== proposal.pos) return null;
  return state.tr.insertText(char).scrollIntoView().setMeta(proposalKey, { type: 'typed', text: char } satisfies Action);
}

/** Whether a transaction puts an accepted proposal into the text (the writer's edits are the others). */
export function isAcceptance(tr: Transaction): boolean {
  return tr.docChanged && (tr.getMeta(proposalKey) as Action | undefined)?.type === 'clear';
}

/**
 * The transaction that accepts the shown alternative: the rest of the text goes in, and with what was typed through
 * it is marked as generated (with `key` until the history entry's id is known), the cursor after it.
 */
export function acceptTransaction(state: EditorState, key: string): Transaction | null {
  const proposal = proposalKey.getState(state);
  if (!proposal) return null;
  const tr = proposalActions.clear(state.tr);
  const mark = schema.marks.generated!.create({ key });
  if (proposal.typed) tr.addMark(proposal.pos - proposal.typed.length, proposal.pos, mark);
  const text = remaining(proposal);
  if (!text) return tr;
  const pos = insertLines(tr, proposal.pos, text, [mark]);
  return tr.setSelection(TextSelection.create(tr.doc, pos)).scrollIntoView();
}
