/**
 * A continuation being proposed: shown at the cursor as an inline widget (so it flows correctly in horizontal and
 * vertical writing) and kept out of the document until accepted. Accepting inserts it in one transaction, so one
 * undo restores the text as it was before the continuation.
 */
import { Plugin, PluginKey, TextSelection, type EditorState, type Transaction } from 'prosemirror-state';
import { Decoration, DecorationSet } from 'prosemirror-view';
import { schema } from './schema';

export interface Proposal {
  /** Where the continuation goes (a document position). */
  pos: number;
  /** One text per alternative; they grow as deltas arrive. */
  texts: string[];
  /** The alternative being shown. */
  index: number;
  streaming: boolean;
}

type Action =
  | { type: 'start'; pos: number; count: number }
  | { type: 'append'; alternative: number; text: string }
  | { type: 'select'; index: number }
  | { type: 'finish' }
  | { type: 'clear' };

export const proposalKey = new PluginKey<Proposal | null>('proposal');

function render(proposal: Proposal): HTMLElement {
  const span = document.createElement('span');
  span.className = 'proposal';
  span.dataset.testid = 'proposal';
  span.setAttribute('aria-live', 'polite');
  span.textContent = proposal.texts[proposal.index] ?? '';
  if (proposal.streaming) span.classList.add('streaming');
  return span;
}

export const proposalPlugin = new Plugin<Proposal | null>({
  key: proposalKey,
  state: {
    init: () => null,
    apply(tr, value): Proposal | null {
      const action = tr.getMeta(proposalKey) as Action | undefined;
      let next = value && tr.docChanged ? { ...value, pos: tr.mapping.map(value.pos, 1) } : value;
      if (!action) return next;
      switch (action.type) {
        case 'start':
          return { pos: action.pos, texts: Array.from({ length: action.count }, () => ''), index: 0, streaming: true };
        case 'append':
          if (!next) return next;
          next = { ...next, texts: next.texts.map((t, i) => (i === action.alternative ? t + action.text : t)) };
          return next;
        case 'select':
          return next ? { ...next, index: ((action.index % next.texts.length) + next.texts.length) % next.texts.length } : next;
        case 'finish':
          return next ? { ...next, streaming: false } : next;
        case 'clear':
          return null;
      }
    },
  },
  props: {
    decorations(state) {
      const proposal = proposalKey.getState(state);
      if (!proposal) return null;
      // A new key per content, so the widget is redrawn as text streams in.
      const key = `p${proposal.index}:${proposal.texts[proposal.index]?.length ?? 0}:${proposal.streaming}`;
      return DecorationSet.create(state.doc, [Decoration.widget(proposal.pos, () => render(proposal), { side: 1, key })]);
    },
  },
});

export const proposalActions = {
  start: (tr: Transaction, pos: number, count: number) => tr.setMeta(proposalKey, { type: 'start', pos, count } satisfies Action),
  append: (tr: Transaction, alternative: number, text: string) => tr.setMeta(proposalKey, { type: 'append', alternative, text } satisfies Action),
  select: (tr: Transaction, index: number) => tr.setMeta(proposalKey, { type: 'select', index } satisfies Action),
  finish: (tr: Transaction) => tr.setMeta(proposalKey, { type: 'finish' } satisfies Action),
  clear: (tr: Transaction) => tr.setMeta(proposalKey, { type: 'clear' } satisfies Action),
};

/**
 * The transaction that accepts the shown alternative: the text goes in (marked as generated, with `key` until the
 * history entry's id is known), the cursor after it.
 */
export function acceptTransaction(state: EditorState, key: string): Transaction | null {
  const proposal = proposalKey.getState(state);
  if (!proposal) return null;
  const text = proposal.texts[proposal.index] ?? '';
  const tr = proposalActions.clear(state.tr);
  if (!text) return tr;
  const mark = schema.marks.generated!.create({ key });
  const lines = text.split('\n');
  let pos = proposal.pos;
  lines.forEach((line, i) => {
    if (i > 0) {
      tr.split(pos);
      pos += 2;
    }
    if (line) {
      tr.insert(pos, schema.text(line, [mark]));
      pos += line.length;
    }
  });
  return tr.setSelection(TextSelection.create(tr.doc, pos)).scrollIntoView();
}
