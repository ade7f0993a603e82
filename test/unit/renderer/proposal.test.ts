/**
 * The proposal's state without a browser: typing through it, accepting what is left, and being dismissed by any other
 * change of the text or move of the cursor.
 */
import { EditorState, TextSelection } from 'prosemirror-state';
import { describe, expect, it } from 'vitest';
import {
  acceptTransaction,
  nextCharacter,
  proposalActions,
  proposalKey,
  proposalPlugin,
  remaining,
  shownTokens,
  typedThrough,
  typeThroughTransaction,
} from '../../../src-renderer/editor/proposal';
import { docToText, textToDoc } from '../../../src-renderer/editor/schema';

/** '吾輩は' with the cursor at its end and a proposal of `texts` there, finished unless `streaming`. */
function proposing(texts: string[], streaming = false): EditorState {
  const doc = textToDoc('吾輩は');
  let state = EditorState.create({ doc, selection: TextSelection.atEnd(doc), plugins: [proposalPlugin] });
  state = state.apply(proposalActions.start(state.tr, state.selection.head, texts.length));
  texts.forEach((text, i) => (state = state.apply(proposalActions.append(state.tr, i, text))));
  return streaming ? state : state.apply(proposalActions.finish(state.tr));
}

function typeThrough(state: EditorState, chars: string): EditorState {
  for (const char of chars) state = state.apply(typeThroughTransaction(state, char)!);
  return state;
}

const proposal = (state: EditorState) => proposalKey.getState(state);

describe('the proposal', () => {
  it('takes its own next character as typing: into the text, and the proposal shrinks by it, after the cursor', () => {
    const state = typeThrough(proposing(['猫である']), '猫');
    expect(docToText(state.doc)).toEqual({ text: '吾輩は猫', generated: [] }); // the writer's typing until accepted
    expect(remaining(proposal(state)!)).toBe('である');
    expect(proposal(state)!.pos).toBe(state.selection.head);
    expect(typedThrough(proposal(state)!)).toBe(false);
  });

  it('refuses any other character', () => {
    const state = proposing(['猫である']);
    expect(typeThroughTransaction(state, '犬')).toBeNull();
    expect(typeThroughTransaction(state, '')).toBeNull();
    expect(typeThroughTransaction(proposing([''], true), '猫')).toBeNull(); // nothing has arrived yet
    expect(typeThroughTransaction(proposing(['\n猫']), '\n')).toBeNull(); // a line break is Enter's, a new paragraph
  });

  it('counts as typed through once all of it is typed and nothing more is coming', () => {
    expect(typedThrough(proposal(typeThrough(proposing(['猫だ']), '猫だ'))!)).toBe(true);
    expect(typedThrough(proposal(typeThrough(proposing(['猫だ'], true), '猫だ'))!)).toBe(false); // more may stream in
    expect(typedThrough(proposal(proposing(['']))!)).toBe(false); // an empty proposal is not typed through
  });

  it('goes by whole characters: a surrogate pair is one', () => {
    const state = proposing(['𠮷野家']);
    expect(nextCharacter(proposal(state)!)).toBe('𠮷');
    expect(remaining(proposal(typeThrough(state, '𠮷'))!)).toBe('野家');
  });

  it('accepts in one transaction what is left, marking all of it (typed part too) as generated', () => {
    const typed = typeThrough(proposing(['猫である。\n名前は']), '猫で');
    const accepted = typed.apply(acceptTransaction(typed, 'k')!);
    expect(proposal(accepted)).toBeNull();
    expect(docToText(accepted.doc)).toEqual({ text: '吾輩は猫である。\n名前は', generated: [[3, 8], [9, 12]] }); // a range per paragraph
    expect(accepted.selection.head).toBe(accepted.doc.content.size - 1);
  });

  it('shows only alternatives that begin with what was typed when cycling', () => {
    let state = typeThrough(proposing(['猫である', '犬である', '猫だった']), '猫');
    state = state.apply(proposalActions.cycle(state.tr, 1));
    expect(proposal(state)!.index).toBe(2);
    state = state.apply(proposalActions.cycle(state.tr, 1));
    expect(proposal(state)!.index).toBe(0);
    state = state.apply(proposalActions.cycle(state.tr, -1));
    expect(proposal(state)!.index).toBe(2);
    expect(remaining(proposal(state)!)).toBe('だった');
  });

  it('is dismissed, leaving the text as it was, by any other change of the text or move of the cursor', () => {
    const state = typeThrough(proposing(['猫である']), '猫');
    const pasted = state.apply(state.tr.insertText('犬'));
    expect(proposal(pasted)).toBeNull();
    expect(docToText(pasted.doc).text).toBe('吾輩は猫犬');
    const moved = state.apply(state.tr.setSelection(TextSelection.create(state.doc, 1)));
    expect(proposal(moved)).toBeNull();
    expect(docToText(moved.doc).text).toBe('吾輩は猫');
    // A transaction that changes neither (the selection set to where it is) leaves it.
    expect(proposal(state.apply(state.tr.setSelection(state.selection)))).not.toBeNull();
  });
});

describe('the proposal with its tokens (the token view)', () => {
  const token = (at: number) => ({ at, chosen: 0, candidates: [{ text: 'x', special: false, p: 1, raw: 1 }] });

  it('starts from a head (the text up to a chosen candidate) and keeps each delta’s tokens after it', () => {
    const doc = textToDoc('吾輩は');
    let state = EditorState.create({ doc, selection: TextSelection.atEnd(doc), plugins: [proposalPlugin] });
    state = state.apply(proposalActions.start(state.tr, state.selection.head, 1, { text: '猫で', tokens: [token(0), token(1)] }));
    state = state.apply(proposalActions.append(state.tr, 0, 'ある', [token(2), token(3)]));
    expect(remaining(proposal(state)!)).toBe('猫である');
    expect(shownTokens(proposal(state)!).map(({ from, to }) => [from, to])).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
      [3, 4],
    ]);
  });

  it('a token typed through, whole or in part, is no longer shown; the rest keep their place in what remains', () => {
    let state = proposing(['猫である']);
    state = state.apply(proposalActions.clear(state.tr));
    state = state.apply(proposalActions.start(state.tr, state.selection.head, 1));
    state = state.apply(proposalActions.append(state.tr, 0, '猫である', [token(0), token(2)]));
    state = typeThrough(state, '猫');
    expect(shownTokens(proposal(state)!)).toEqual([{ index: 1, from: 1, to: 3 }]);
  });
});
