import { describe, expect, it } from 'vitest';
import { parseRuby, splitAtCursor, stripRuby } from '../../../src-main/manuscript/ruby';

describe('ruby notation', () => {
  it('parses explicit ruby with a full- or half-width bar', () => {
    expect(parseRuby('彼は｜小鳥遊《たかなし》と名乗った')).toEqual([
      { text: '彼は' },
      { base: '小鳥遊', ruby: 'たかなし', from: 2, to: 12 },
      { text: 'と名乗った' },
    ]);
    expect(parseRuby('|ABC《エービーシー》')).toEqual([{ base: 'ABC', ruby: 'エービーシー', from: 0, to: 12 }]);
  });

  it('takes the kanji run before 《 as the base of implicit ruby', () => {
    expect(parseRuby('吾輩は猫《ねこ》である')).toEqual([{ text: '吾輩は' }, { base: '猫', ruby: 'ねこ', from: 3, to: 8 }, { text: 'である' }]);
    expect(parseRuby('その時々《ときどき》に')).toEqual([{ text: 'その' }, { base: '時々', ruby: 'ときどき', from: 2, to: 10 }, { text: 'に' }]);
    expect(parseRuby('𠮷野家《よしのや》')).toEqual([{ base: '𠮷野家', ruby: 'よしのや', from: 0, to: 10 }]);
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

  it('splits at a cursor inside the notation without leaking it to the model', () => {
    const text = '彼は｜小鳥遊《たかなし》と猫《ねこ》を見た';
    const at = (marker: string) => text.indexOf(marker);
    // Outside any ruby: the two sides stripped.
    expect(splitAtCursor(text, at('と'))).toEqual({ before: '彼は小鳥遊', after: 'と猫を見た' });
    // Right after ｜, and inside an explicit base.
    expect(splitAtCursor(text, at('小'))).toEqual({ before: '彼は', after: '小鳥遊と猫を見た' });
    expect(splitAtCursor(text, at('鳥'))).toEqual({ before: '彼は小', after: '鳥遊と猫を見た' });
    // In the reading or on its brackets: after the whole base.
    for (const marker of ['《た', 'かなし', 'し》']) expect(splitAtCursor(text, at(marker) + 1)).toEqual({ before: '彼は小鳥遊', after: 'と猫を見た' });
    expect(splitAtCursor(text, at('《ね') + 2)).toEqual({ before: '彼は小鳥遊と猫', after: 'を見た' });
    // An implicit base cut in the middle keeps its second half as the base of the ruby after the cursor.
    expect(splitAtCursor('時々《ときどき》', 1)).toEqual({ before: '時', after: '々' });
    // The ends of the text.
    expect(splitAtCursor(text, 0)).toEqual({ before: '', after: stripRuby(text) });
    expect(splitAtCursor(text, text.length)).toEqual({ before: stripRuby(text), after: '' });
    // Among other lines: the notation before and after the cursor's line is stripped as well.
    const page = `猫《ねこ》\n${text}\n犬《いぬ》`;
    expect(splitAtCursor(page, page.indexOf('鳥'))).toEqual({ before: '猫\n彼は小', after: '鳥遊と猫を見た\n犬' });
    expect(splitAtCursor(page, page.indexOf('かな'))).toEqual({ before: '猫\n彼は小鳥遊', after: 'と猫を見た\n犬' });
    expect(splitAtCursor(page, page.indexOf('\n犬') + 1)).toEqual({ before: '猫\n彼は小鳥遊と猫を見た\n', after: '犬' });
  });
});
