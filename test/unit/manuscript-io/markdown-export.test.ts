import { describe, expect, it } from 'vitest';
import { toManuscript } from '../../../src-main/manuscript-io/manuscript';
import { exportMarkdown } from '../../../src-main/manuscript-io/markdown-export';

function md(body: string, options: Parameters<typeof exportMarkdown>[1], generatedRanges: [number, number][] = []): string {
  return new TextDecoder().decode(exportMarkdown(toManuscript({ title: '題 *名*', body, generatedRanges }), options));
}

describe('Markdown export', () => {
  it('writes the title as a heading, lines as hard breaks and empty lines as paragraph breaks', () => {
    expect(md('一行目\n二行目\n\n\n次の段落', { ruby: 'markup', marks: false })).toBe('# 題 \\*名\\*\n\n一行目\\\n二行目\n\n次の段落\n');
  });

  it('escapes what Markdown would read as markup, so the text reads as typed', () => {
    expect(md('# 見出しではない\n* 箇条書きでもない\n    字下げ\n<b>&amp;</b>', { ruby: 'markup', marks: false })).toBe(
      '# 題 \\*名\\*\n\n\\# 見出しではない\\\n\\* 箇条書きでもない\\\n&#32;&#32;&#32;&#32;字下げ\\\n\\<b\\>\\&amp\\;\\<\\/b\\>\n',
    );
  });

  it('writes ruby as HTML ruby, or in a text notation', () => {
    expect(md('猫《ねこ》<', { ruby: 'markup', marks: false })).toContain('<ruby>猫<rp>（</rp><rt>ねこ</rt><rp>）</rp></ruby>\\<');
    expect(md('猫《ねこ》', { ruby: 'narou', marks: false })).toContain('\\|猫《ねこ》');
    expect(md('猫《ねこ》', { ruby: 'aozora', marks: false })).toContain('｜猫《ねこ》');
  });

  it('keeps the model text marks as <span class="machine"> when asked', () => {
    expect(md('人の文。機械の文。', { ruby: 'markup', marks: true }, [[4, 9]])).toContain('人の文。<span class="machine">機械の文。</span>');
    expect(md('人の文。機械の文。', { ruby: 'markup', marks: false }, [[4, 9]])).not.toContain('span');
    // A mark's edge does not hide the text before it from なろう's parenthesis rule.
    expect(md('東京（とうきょう）', { ruby: 'narou', marks: true }, [[2, 9]])).toContain('東京<span class="machine">\\|（とうきょう）</span>');
  });
});
