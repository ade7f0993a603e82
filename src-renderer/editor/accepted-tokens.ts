/**
 * The token view on text just accepted: the accepted alternative's tokens stay on the text they became (document
 * positions, moved by edits elsewhere) until that text changes or another proposal is accepted, so the writer can
 * still point at a token and choose another candidate there.
 */
import { Plugin, PluginKey } from 'prosemirror-state';
import { Decoration, DecorationSet } from 'prosemirror-view';
import type { TokenProbabilities } from '../../src-main/contract/generation';
import { remaining, shownTokens, type Proposal } from './proposal';

export interface AcceptedTokens {
  /** The accepted text, as `textBetween(from, end, '\n')` reads it: when that changes, the tokens go. */
  text: string;
  from: number;
  end: number;
  tokens: { token: TokenProbabilities; from: number; to: number }[];
}

export const acceptedTokensKey = new PluginKey<AcceptedTokens | null>('accepted-tokens');

/** The tokens of `proposal` once its rest is inserted at its position (a line break takes two positions there). */
export function acceptedTokensOf(proposal: Proposal): AcceptedTokens | null {
  const text = remaining(proposal);
  const shown = shownTokens(proposal);
  if (shown.length === 0) return null;
  const pos = (offset: number) => proposal.pos + offset + (text.slice(0, offset).match(/\n/g)?.length ?? 0);
  return {
    text,
    from: proposal.pos,
    end: pos(text.length),
    tokens: shown.map(({ index, from, to }) => ({ token: proposal.tokens[proposal.index]![index]!, from: pos(from), to: pos(to) })),
  };
}

export const acceptedTokensPlugin = new Plugin<AcceptedTokens | null>({
  key: acceptedTokensKey,
  state: {
    init: () => null,
    apply(tr, value) {
      const set = tr.getMeta(acceptedTokensKey) as AcceptedTokens | null | undefined;
      if (set !== undefined) return set;
      if (!value || !tr.docChanged) return value;
      const from = tr.mapping.map(value.from, 1);
      const end = tr.mapping.map(value.end, -1);
      if (tr.doc.textBetween(from, end, '\n') !== value.text) return null;
      const shift = from - value.from;
      return { ...value, from, end, tokens: value.tokens.map((t) => ({ ...t, from: t.from + shift, to: t.to + shift })) };
    },
  },
  props: {
    decorations(state) {
      const value = acceptedTokensKey.getState(state);
      if (!value) return null;
      return DecorationSet.create(
        state.doc,
        value.tokens.map((t, i) => Decoration.inline(t.from, t.to, { class: i % 2 ? 'token odd' : 'token', 'data-accepted-token': String(i) })),
      );
    },
  },
});
