/** The tokens of accepted text (the token view) without a browser: where they land, and when they go. */
import { EditorState, TextSelection } from 'prosemirror-state';
import { describe, expect, it } from 'vitest';
import { acceptedTokensKey, acceptedTokensOf, acceptedTokensPlugin } from '../../../src-renderer/editor/accepted-tokens';
import { acceptTransaction, proposalActions, proposalKey, proposalPlugin } from '../../../src-renderer/editor/proposal';
import { textToDoc } from '../../../src-renderer/editor/schema';

const token = (at: number) => ({ at, chosen: 0, candidates: [{ text: 'x', special: false, p: 1, raw: 1 }] });

/** '吾輩は' with `text` proposed at its end in tokens starting at `starts`, then accepted. */
function accepted(text: string, starts: number[]): EditorState {
  const doc = textToDoc('吾輩は');
  let state = EditorState.create({ doc, selection: TextSelection.atEnd(doc), plugins: [proposalPlugin, acceptedTokensPlugin] });
  state = state.apply(proposalActions.start(state.tr, state.selection.head, 1));
  state = state.apply(proposalActions.append(state.tr, 0, text, starts.map(token)));
  state = state.apply(proposalActions.finish(state.tr));
  const tokens = acceptedTokensOf(proposalKey.getState(state)!);
  return state.apply(acceptTransaction(state, 'k')!.setMeta(acceptedTokensKey, tokens));
}

const pieces = (state: EditorState) => acceptedTokensKey.getState(state)?.tokens.map((t) => state.doc.textBetween(t.from, t.to, '\n')) ?? null;

describe('tokens of accepted text', () => {
  it('cover the text they wrote, across a line break', () => {
    expect(pieces(accepted('猫で\nある', [0, 1, 2, 3]))).toEqual(['猫', 'で', '\n', 'ある']);
  });

  it('move with an edit before them, and go with an edit inside them', () => {
    const state = accepted('猫である', [0, 1, 2]);
    const before = state.apply(state.tr.insertText('嗚呼', 1));
    expect(pieces(before)).toEqual(['猫', 'で', 'ある']);
    const inside = state.apply(state.tr.insertText('の', state.doc.content.size - 2));
    expect(pieces(inside)).toBeNull();
  });
});
