import { describe, expect, it } from 'vitest';
import { machineSegments } from '../../../src-main/manuscript/machine-text';

const join = (segments: { text: string }[]) => segments.map((s) => s.text).join('');

describe('text the model wrote', () => {
  it('cuts the text into the writer’s and the model’s runs, which join back into it', () => {
    const text = '吾輩は猫である。名前はまだ無い。';
    const segments = machineSegments(text, [[8, 16, 3]]);
    expect(segments).toEqual([
      { text: '吾輩は猫である。', machine: false },
      { text: '名前はまだ無い。', machine: true },
    ]);
    expect(machineSegments(text, [])).toEqual([{ text, machine: false }]);
    expect(machineSegments('', [])).toEqual([{ text: '', machine: false }]);
  });

  it('clamps, sorts and merges ranges that come from a file', () => {
    const text = 'あいうえおかきくけこ';
    expect(machineSegments(text, [[8, 99], [1, 3], [2, 4], [-5, 0], [6, 6]])).toEqual([
      { text: 'あ', machine: false },
      { text: 'いうえ', machine: true },
      { text: 'おかきく', machine: false },
      { text: 'けこ', machine: true },
    ]);
  });

  it('never cuts a ruby notation: it goes whole to the side of its first character', () => {
    const text = '彼は｜小鳥遊《たかなし》と名乗った。';
    // The model's run starts inside the notation: the notation stays the writer's.
    expect(machineSegments(text, [[5, 18]])).toEqual([
      { text: '彼は｜小鳥遊《たかなし》', machine: false },
      { text: 'と名乗った。', machine: true },
    ]);
    // It ends inside the notation: the notation is the model's.
    expect(machineSegments(text, [[0, 4]])).toEqual([
      { text: '彼は｜小鳥遊《たかなし》', machine: true },
      { text: 'と名乗った。', machine: false },
    ]);
    const implicit = '東京《とうきょう》へ';
    expect(join(machineSegments(implicit, [[1, 3]]))).toBe(implicit);
    expect(machineSegments(implicit, [[1, 3]])).toEqual([{ text: implicit, machine: false }]);
  });

  it('never cuts a surrogate pair', () => {
    expect(machineSegments('a😀b', [[2, 4]])).toEqual([
      { text: 'a😀', machine: false },
      { text: 'b', machine: true },
    ]);
  });
});
