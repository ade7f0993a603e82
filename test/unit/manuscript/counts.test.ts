import { describe, expect, it } from 'vitest';
import { countChars, countText } from '../../../src-main/manuscript/counts';

describe('文字数', () => {
  it('counts code points, spaces included and line breaks not', () => {
    expect(countChars('吾輩は猫である。\n名前はまだ無い。')).toBe(16);
    expect(countChars('吾輩は猫である。\r\n名前はまだ無い。')).toBe(16);
    expect(countChars('a b\u3000c\t😀𠮷')).toBe(8);
    expect(countChars('\n\n')).toBe(0);
    expect(countChars('')).toBe(0);
  });

  it('counts ruby as the reader sees it: readings and the notation’s marks are not counted', () => {
    expect(countChars('｜小鳥遊《たかなし》')).toBe(3);
    expect(countChars('東京《とうきょう》へ行く')).toBe(5);
    expect(countChars('｜《かっこ》')).toBe(5);
    expect(countChars('彼は｜小鳥遊《たかなし》と\n東京《とうきょう》へ')).toBe(countChars('彼は小鳥遊と') + countChars('東京へ'));
  });

  it('is the sum of its lines’ counts, so a store can recount only the lines an edit touched', () => {
    // An escaped 《 whose 》 is on a later line: each line is read on its own.
    const text = '｜《あ\n漢字《かんじ》》';
    expect(countChars(text)).toBe(countChars('｜《あ') + countChars('漢字《かんじ》》'));
  });

  it('fills 400字詰め pages row by row, each paragraph on a new row', () => {
    expect(countText('あ'.repeat(400)).manuscriptPages).toBe(1);
    expect(countText('あ'.repeat(401)).manuscriptPages).toBe(1.1);
    expect(countText(Array(20).fill('あ').join('\n')).manuscriptPages).toBe(1);
    expect(countText('')).toEqual({ chars: 0, machineChars: 0, manuscriptPages: 0 });
  });

  it('counts the model’s part with the same rule', () => {
    expect(countText('あいうえお', [[2, 5]])).toEqual({ chars: 5, machineChars: 3, manuscriptPages: 0.1 });
    const text = '彼は｜小鳥遊《たかなし》と\n名乗った。';
    expect(countText(text, [[2, text.length, 7]])).toMatchObject({ chars: 11, machineChars: 9 });
  });
});
