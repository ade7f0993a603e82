import { describe, expect, it } from 'vitest';
import { countText, modelShare } from '../../../src-main/manuscript/counts';

describe('文字数', () => {
  it('counts code points with and without whitespace and line breaks', () => {
    expect(countText('吾輩は猫である。\n名前はまだ無い。')).toEqual({ withWhitespace: 17, withoutWhitespace: 16, manuscriptPages: 0.1 });
    expect(countText('a b\u3000c\t😀𠮷').withWhitespace).toBe(8);
    expect(countText('a b\u3000c\t😀𠮷').withoutWhitespace).toBe(5);
    expect(countText('')).toEqual({ withWhitespace: 0, withoutWhitespace: 0, manuscriptPages: 0 });
  });

  it('counts ruby as the reader sees it', () => {
    expect(countText('｜小鳥遊《たかなし》').withWhitespace).toBe(3);
  });

  it('fills 400字詰め pages row by row, each paragraph on a new row', () => {
    expect(countText('あ'.repeat(400)).manuscriptPages).toBe(1);
    expect(countText('あ'.repeat(401)).manuscriptPages).toBe(1.1);
    expect(countText(Array(20).fill('あ').join('\n')).manuscriptPages).toBe(1);
  });

  it('gives the share of text that came from the model', () => {
    expect(modelShare('あいうえお', [[2, 5]])).toBeCloseTo(0.6);
    expect(modelShare('', [])).toBe(0);
  });
});
