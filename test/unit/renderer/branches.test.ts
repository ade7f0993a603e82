/** Where the branch panel looks, and what restoring a branch changes in the text and in the history. */
import { describe, expect, it } from 'vitest';
import { chainInText, planRestore, pointAt, toTree, type BranchNode } from '../../../src-renderer/editor/branches';
import type { Range } from '../../../src-renderer/editor/schema';

const node = (id: number, parentId: number | null, text: string, status: BranchNode['status'] = 'rejected'): BranchNode => ({
  id,
  parentId,
  text,
  status,
  groupId: `g${id}`,
  altIndex: 0,
  seed: id,
  finishReason: 'length',
  createdAt: id,
});

// The writer's text, then try 2 accepted at the point, then its continuation 5 accepted after it.
const text = '冒頭の文。二番目の案。その続き。';
const generated: Range[] = [
  [5, 11, 2],
  [11, 16, 5],
];
// Tries 1, 2 and 3 at the point; 4 and 5 continue 2; 6 continues 5.
const nodes = [node(1, null, '一番目の案。'), node(2, null, '二番目の案。', 'accepted'), node(3, null, '三番目の案。'), node(4, 2, '別の続き。'), node(5, 2, 'その続き。', 'accepted'), node(6, 5, '先。')];

describe('the branch point', () => {
  it('is where the accepted generation holding the cursor was made, with the model text before it', () => {
    expect(pointAt(text, 8, generated)).toEqual({ at: 5, before: '冒頭の文。', inText: 2 });
    // Right after one generation and before the next, the cursor belongs to the one it follows.
    expect(pointAt(text, 11, generated)).toEqual({ at: 5, before: '冒頭の文。', inText: 2 });
    expect(pointAt(text, 16, generated)).toEqual({ at: 11, before: '冒頭の文。二番目の案。', inText: 5 });
  });

  it('is the cursor in the writer’s own text, ruby notation left out of what the model reads', () => {
    expect(pointAt('｜漢字《かんじ》を書く', 11, [])).toEqual({ at: 11, before: '漢字を書く', inText: null });
    expect(pointAt(text, 3, generated)).toMatchObject({ at: 3, inText: null });
  });

  it('is one span for a generation of several paragraphs', () => {
    expect(pointAt('前。\n一行目\n二行目', 11, [[2, 6, 7], [7, 11, 7]])).toEqual({ at: 2, before: '前。', inText: 7 });
  });
});

describe('restoring a branch', () => {
  const point = pointAt(text, 8, generated);

  it('knows the chain the text holds from the point', () => {
    expect(chainInText(point, nodes, generated)).toEqual([2, 5]);
    expect(chainInText(pointAt(text, 3, generated), nodes, generated)).toEqual([]);
  });

  it('replaces the chain from where it differs from the branch’s path, and says which statuses change', () => {
    // Another try at the point: both the try and its continuation go.
    expect(planRestore(point, nodes, generated, 3)).toMatchObject({ from: 5, to: 16, parts: [{ id: 3, text: '三番目の案。' }], removed: [2, 5], added: [3] });
    // Another continuation of the same try: only the continuation goes.
    expect(planRestore(point, nodes, generated, 4)).toMatchObject({ from: 11, to: 16, parts: [{ id: 4, text: '別の続き。' }], removed: [5], added: [4] });
    // A deeper one: the path below what the text shares comes in.
    expect(planRestore(point, nodes, generated, 6)).toMatchObject({ from: 16, to: 16, parts: [{ id: 6, text: '先。' }], removed: [], added: [6] });
    // The try alone: its continuation leaves the text.
    expect(planRestore(point, nodes, generated, 2)).toMatchObject({ from: 11, to: 16, parts: [], removed: [5], added: [] });
    // What the text is already changes nothing.
    expect(planRestore(point, nodes, generated, 5)).toBeNull();
    expect(planRestore(point, nodes, generated, 3)!.prior.get(2)).toBe('accepted');
  });

  it('with nothing accepted at the point, puts the branch at the cursor', () => {
    expect(planRestore(pointAt('冒頭の文。', 5, []), nodes, [], 4)).toMatchObject({
      from: 5,
      to: 5,
      parts: [{ id: 2, text: '二番目の案。' }, { id: 4, text: '別の続き。' }],
      removed: [],
      added: [2, 4],
    });
  });
});

it('the answer’s nodes make a tree, children under their parents in order', () => {
  const tree = toTree(nodes);
  expect(tree.map((i) => i.node.id)).toEqual([1, 2, 3]);
  expect(tree[1]!.children.map((i) => i.node.id)).toEqual([4, 5]);
  expect(tree[1]!.children[1]!.children.map((i) => i.node.id)).toEqual([6]);
});
