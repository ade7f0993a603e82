import { describe, expect, it } from 'vitest';
import { parseRuby, stripRuby } from '../../../src-renderer/editor/ruby';

describe('ruby notation', () => {
  it('parses explicit ruby with a full- or half-width bar', () => {
    expect(parseRuby('彼は｜小鳥遊《たかなし》と名乗った')).toEqual([
      { text: '彼は' },
      { base: '小鳥遊', ruby: 'たかなし' },
      { text: 'と名乗った' },
    ]);
    expect(parseRuby('|ABC《エービーシー》')).toEqual([{ base: 'ABC', ruby: 'エービーシー' }]);
  });

  it('takes the kanji run before 《 as the base of implicit ruby', () => {
    expect(parseRuby('吾輩は猫《ねこ》である')).toEqual([{ text: '吾輩は' }, { base: '猫', ruby: 'ねこ' }, { text: 'である' }]);
    expect(parseRuby('その時々《ときどき》に')).toEqual([{ text: 'その' }, { base: '時々', ruby: 'ときどき' }, { text: 'に' }]);
    expect(parseRuby('𠮷野家《よしのや》')).toEqual([{ base: '𠮷野家', ruby: 'よしのや' }]);
  });

  it('keeps malformed or escaped notation as text', () => {
    expect(parseRuby('ひらがな《かな》')).toEqual([{ text: 'ひらがな《かな》' }]);
    expect(parseRuby('漢字《かんじ')).toEqual([{ text: '漢字《かんじ' }]);
    expect(parseRuby('｜《括弧》です')).toEqual([{ text: '《括弧》です' }]);
    expect(parseRuby('｜漢字《》')).toEqual([{ text: '｜漢字《》' }]);
    expect(parseRuby('改行《かい\nぎょう》')).toEqual([{ text: '改行《かい\nぎょう》' }]);
  });

  it('strips the notation for the model, leaving the base text', () => {
    expect(stripRuby('｜小鳥遊《たかなし》さんと猫《ねこ》')).toBe('小鳥遊さんと猫');
    expect(stripRuby('ルビなしの文')).toBe('ルビなしの文');
  });
});
