import { describe, expect, it } from 'vitest';
import { chunkText } from '../../../src-main/store/chunks';
import { gramQuery, gramsOf, makeSnippet, trigramQuery, usesGrams } from '../../../src-main/store/text-index';

describe('grams', () => {
  it('holds every distinct unigram and bigram, hex-spelled, lowercased, none across whitespace', () => {
    expect(gramsOf('猫猫').split(' ').sort()).toEqual(['732b', '732bg732b'].sort());
    expect(gramsOf('Ab c').split(' ').sort()).toEqual(['61', '61g62', '62', '63'].sort());
    expect(gramsOf('😀「')).toBe('1f600 300c 1f600g300c');
  });

  it('queries the same spelling', () => {
    expect(gramQuery('猫')).toBe('732b');
    expect(gramQuery('雪国')).toBe('96eag56fd');
    expect(gramsOf('雪国であった').split(' ')).toContain(gramQuery('雪国'));
    expect(usesGrams('雪国')).toBe(true);
    expect(usesGrams('トンネル')).toBe(false);
    expect(usesGrams(' 猫 ')).toBe(true);
  });

  it('quotes trigram queries so that FTS5 syntax is plain text', () => {
    expect(trigramQuery('a "b" OR c')).toBe('"a ""b"" OR c"');
  });
});

describe('makeSnippet', () => {
  it('marks every match in a window around the first, case-insensitively', () => {
    const text = 'あ'.repeat(100) + '猫と猫' + 'い'.repeat(100);
    const s = makeSnippet(text, '猫', 10);
    expect(s.text.startsWith('…')).toBe(true);
    expect(s.text.endsWith('…')).toBe(true);
    expect(s.highlights.map(([a, b]) => s.text.slice(a, b))).toEqual(['猫', '猫']);
    const en = makeSnippet('The Cat sat', 'cat');
    expect(en.highlights.map(([a, b]) => en.text.slice(a, b))).toEqual(['Cat']);
  });

  it('never splits a surrogate pair', () => {
    const s = makeSnippet('😀'.repeat(50) + '猫' + '😀'.repeat(50), '猫', 5);
    expect(s.text.replace(/…/g, '')).toMatch(/^(😀)+猫(😀)+$/u);
  });

  it('returns the head without highlights when nothing matches', () => {
    expect(makeSnippet('abc', 'zz')).toEqual({ text: 'abc', highlights: [] });
  });
});

describe('chunkText', () => {
  const paragraphs = Array.from({ length: 300 }, (_, i) => `第${i}段落。${'文章が続く。'.repeat(10 + (i % 7))}\n`);
  const text = paragraphs.join('');

  it('covers the text exactly, in chunks of whole paragraphs', () => {
    const chunks = chunkText(text);
    expect(chunks.map((c) => c.body).join('')).toBe(text);
    expect(chunks.length).toBeGreaterThan(5);
    for (const c of chunks) expect(c.body.endsWith('\n')).toBe(true);
  });

  it('changes only the chunk around an edit, even an insertion near the start', () => {
    const before = new Set(chunkText(text).map((c) => c.hash));
    const edited = paragraphs.slice(0, 3).join('') + '新しい段落を挿入した。\n' + paragraphs.slice(3).join('');
    const after = chunkText(edited);
    expect(after.filter((c) => !before.has(c.hash)).length).toBeLessThanOrEqual(2);
  });

  it('splits a paragraph without line breaks at sentence ends, then hard', () => {
    const long = '長い文。'.repeat(3000);
    const chunks = chunkText(long);
    expect(chunks.map((c) => c.body).join('')).toBe(long);
    expect(chunks.every((c) => c.body.length <= 4000 && c.body.endsWith('。'))).toBe(true);
    const flat = 'x'.repeat(40_000);
    expect(chunkText(flat).map((c) => c.body).join('')).toBe(flat);
    expect(chunkText(flat).every((c) => c.body.length <= 15_000)).toBe(true);
  });
});
