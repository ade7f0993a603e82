import { describe, expect, it } from 'vitest';
import { toManuscript } from '../../../src-main/manuscript-io/manuscript';
import { exportText } from '../../../src-main/manuscript-io/text-export';

function text(body: string, ruby: 'aozora' | 'narou' | 'strip', generatedRanges: [number, number][] = []): string {
  return new TextDecoder().decode(exportText(toManuscript({ title: 't', body, generatedRanges }), { ruby, bom: false, newline: 'lf' }));
}

describe('plain text export', () => {
  it('writes 青空文庫 ruby with ｜ always, and literal notation characters as 青空文庫 外字注記', () => {
    expect(text('吾輩は猫《ねこ》である。｜小鳥遊《たかなし》', 'aozora')).toBe('吾輩は｜猫《ねこ》である。｜小鳥遊《たかなし》');
    expect(text('｜《括弧》と｜縦線と［＃注記］', 'aozora')).toBe(
      '※［＃始め二重山括弧、1-1-52］括弧※［＃終わり二重山括弧、1-1-53］と※［＃縦線、1-1-35］縦線と※［＃始め角括弧、1-1-46］＃注記］',
    );
  });

  it('writes なろう/カクヨム ruby with the half-width bar and escapes what those sites would read as notation', () => {
    expect(text('吾輩は猫《ねこ》である。｜ABC《エービーシー》', 'narou')).toBe('吾輩は|猫《ねこ》である。|ABC《エービーシー》');
    // A literal 《 (also カクヨム's 《《傍点》》), and なろう's automatic ruby of kana in parentheses after kanji.
    expect(text('｜《括弧》と｜《《傍点》》', 'narou')).toBe('|《括弧》と|《|《傍点》》');
    expect(text('東京（とうきょう）と東京(トウキョウ)、（かっこ）と東京（東の京）', 'narou')).toBe('東京|（とうきょう）と東京|(トウキョウ)、（かっこ）と東京（東の京）');
    // なろう takes at most 10 characters of ruby: a longer one shows as text.
    expect(text('｜長い名前《じゅうもじをこえるながいるびです》', 'narou')).toBe('長い名前|《じゅうもじをこえるながいるびです》');
  });

  it('strips ruby to its base, and drops the model text marks (plain text cannot show them)', () => {
    expect(text('｜小鳥遊《たかなし》さんと猫《ねこ》', 'strip', [[0, 11]])).toBe('小鳥遊さんと猫');
  });

  it('writes UTF-8 with or without a byte order mark, with LF or CRLF', () => {
    const m = toManuscript({ title: 't', body: '一行目\n二行目\n', generatedRanges: [] });
    const bytes = exportText(m, { ruby: 'aozora', bom: true, newline: 'crlf' });
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes)).toBe('\ufeff一行目\r\n二行目\r\n');
    expect(new TextDecoder().decode(exportText(m, { ruby: 'aozora', bom: false, newline: 'lf' }))).toBe('一行目\n二行目\n');
  });
});
