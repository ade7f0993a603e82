import { describe, expect, it } from 'vitest';
import { regexKeyProblem } from '../../../src-main/contract/book-keys';
import { authorNoteSchema, bookEntrySchema, bookSchema, type BookEntry } from '../../../src-main/contract/document-aids';
import { buildContext, type BuiltContext } from '../../../src-main/engine/context';

/** One token per character (code point), like a tokenizer that knows no merges; ids are code points. */
const chars = { encode: (text: string) => [...text].map((c) => c.codePointAt(0)!), decode: (ids: number[]) => String.fromCodePoint(...ids) };

const sentence = (i: number) => `これは${i}番目の文です。`;
const doc = (n: number) => Array.from({ length: n }, (_, i) => sentence(i) + (i % 5 === 4 ? '\n' : '')).join('');

describe('context builder', () => {
  it('keeps a text that fits whole', () => {
    const before = doc(3);
    const c = buildContext(chars, { before, maxNewTokens: 50, nPositions: 1024, startId: 2 });
    expect(c.start).toBe(0);
    expect(c.ids).toEqual(chars.encode(before));
  });

  it('cuts a long text after a sentence or line end and fits the budget', () => {
    const before = doc(400);
    const c = buildContext(chars, { before, maxNewTokens: 100, nPositions: 1024, startId: 2 });
    expect(c.ids.length).toBeLessThanOrEqual(924);
    expect(c.ids.length).toBeGreaterThan(924 - 256 - 20);
    expect(c.text).toBe(before.slice(c.start));
    expect(/[。\n]$/.test(before.slice(0, c.start))).toBe(true);
    expect(c.ids).toEqual(chars.encode(c.text));
  });

  it('typing at the end keeps the cut (so the token prefix) for many characters', () => {
    let before = doc(400);
    const starts = new Set<number>();
    let kept = 0;
    let previous: number[] | null = null;
    for (let i = 0; i < 300; i++) {
      before += 'あ';
      const c = buildContext(chars, { before, maxNewTokens: 100, nPositions: 1024, startId: 2 });
      starts.add(c.start);
      if (previous && c.ids.slice(0, previous.length).every((id, j) => id === previous![j])) kept++;
      previous = c.ids;
    }
    // 300 typed characters move the cut at most twice (a cell is a quarter of the room: 231 characters here).
    expect(starts.size).toBeLessThanOrEqual(3);
    expect(kept).toBeGreaterThanOrEqual(297);
  });

  it('a long continuation still gets most of what room it leaves', () => {
    // A cut gives up at most a cell (a quarter of the room) and the rest of a sentence (these are 12–14 characters).
    for (const maxNewTokens of [500, 800, 900, 960]) {
      const room = 1024 - maxNewTokens;
      for (let n = 380; n < 400; n++) {
        const c = buildContext(chars, { before: doc(n), maxNewTokens, nPositions: 1024, startId: 2 });
        expect(c.ids.length).toBeLessThanOrEqual(room);
        expect(c.ids.length, `${maxNewTokens} new tokens, ${n} sentences`).toBeGreaterThanOrEqual(room - Math.floor(room / 4) - 14);
      }
    }
  });

  it('puts the memo first and counts it against the budget', () => {
    const before = doc(400);
    const memo = '登場人物：太郎';
    const c = buildContext(chars, { before, memo, maxNewTokens: 100, nPositions: 1024, startId: 2 });
    expect(c.memoTokens).toBe([...memo].length + 1);
    expect(c.ids.slice(0, c.memoTokens)).toEqual(chars.encode(`${memo}\n`));
    expect(c.ids.length).toBeLessThanOrEqual(924);
  });

  it('cuts an overlong memo to half the budget', () => {
    const c = buildContext(chars, { before: 'あ', memo: 'メ'.repeat(2000), maxNewTokens: 24, nPositions: 1024, startId: 2 });
    expect(c.memoTokens).toBe(500);
    expect(c.ids.length).toBe(501);
  });

  it('keeps the last tokens when even one grid cell is too long', () => {
    const before = 'あ'.repeat(3000);
    const c = buildContext(chars, { before, maxNewTokens: 1000, nPositions: 1024, startId: 2 });
    expect(c.ids).toHaveLength(24);
  });

  it('never splits a surrogate pair', () => {
    // After one BMP character, every grid offset (a multiple of 256) falls on a low surrogate.
    const before = 'あ' + '𠮷'.repeat(2000);
    const c = buildContext(chars, { before, maxNewTokens: 100, nPositions: 1024, startId: 2 }, { step: 256 });
    expect(c.text.codePointAt(0)).toBe(0x20bb7);
  });

  it('an empty text starts from the start token', () => {
    expect(buildContext(chars, { before: '', maxNewTokens: 10, nPositions: 1024, startId: 2 }).ids).toEqual([2]);
  });

  it('rejects a length that leaves no room', () => {
    expect(() => buildContext(chars, { before: 'a', maxNewTokens: 1024, nPositions: 1024, startId: 2 })).toThrow(/max_new_tokens must be at most 1023 for this model/);
  });
});

describe('context builder with a tail of the document', () => {
  it('cuts where it would cut the whole document', () => {
    const full = doc(400);
    const whole = buildContext(chars, { before: full, maxNewTokens: 100, nPositions: 1024, startId: 2 });
    for (const origin of [1000, 3333, full.length - 2000]) {
      const tail = buildContext(chars, { before: full.slice(origin), origin, maxNewTokens: 100, nPositions: 1024, startId: 2 });
      expect(origin + tail.start).toBe(whole.start);
      expect(tail.ids).toEqual(whole.ids);
    }
  });
});

const entry = (fields: Partial<BookEntry> & { id: string }): BookEntry => bookEntrySchema.parse(fields);
const book = (entries: BookEntry[], fields: { tokenBudget?: number; scanChars?: number } = {}) => bookSchema.parse({ ...fields, entries });
const note = (text: string, depth: number, unit: 'lines' | 'sentences' = 'lines') => authorNoteSchema.parse({ text, depth, unit });
const sent = (c: BuiltContext) => c.parts.map((p) => p.text).join('');
const kinds = (c: BuiltContext) => c.parts.map((p) => (p.kind === 'book' ? `book:${p.name}` : p.kind));

describe('context with the author\'s note and the character book', () => {
  const before = '島村は汽車を降りた。\n駒子が待っていた。\n雪が降っていた。';
  const base = { before, maxNewTokens: 100, nPositions: 1024, startId: 2 };

  it('sends memo, book entries, then the text with the note inside, and counts every part\'s tokens', () => {
    const c = buildContext(chars, {
      ...base,
      memo: '雪国',
      book: book([entry({ id: 'a', name: '駒子', keys: ['駒子'], text: '駒子は芸者。' })]),
      authorNote: note('［静かな場面］', 1),
    });
    expect(kinds(c)).toEqual(['memo', 'book:駒子', 'text', 'authorNote', 'text']);
    expect(sent(c)).toBe('雪国\n駒子は芸者。\n島村は汽車を降りた。\n駒子が待っていた。\n［静かな場面］\n雪が降っていた。');
    expect(c.ids).toEqual(chars.encode(sent(c)));
    expect(c.parts.map((p) => p.tokens)).toEqual(c.parts.map((p) => [...p.text].length));
    expect(c.memoTokens).toBe(3);
    // The document's text is what the continuation follows; the note is only in what the model reads.
    expect(c.text).toBe(before);
  });

  it('places the note depth lines or sentences before the cursor, at the cursor for depth 0, at the start past the first', () => {
    const at = (authorNote: ReturnType<typeof note>, text = before) => sent(buildContext(chars, { ...base, before: text, authorNote }));
    expect(at(note('N', 0))).toBe(`${before}\nN\n`);
    expect(at(note('N', 2))).toBe('島村は汽車を降りた。\nN\n駒子が待っていた。\n雪が降っていた。');
    expect(at(note('N', 9))).toBe(`N\n${before}`);
    const prose = '一つ目。「二つ目！」三つ目。四つ';
    expect(at(note('N', 1, 'sentences'), prose)).toBe('一つ目。「二つ目！」三つ目。\nN\n四つ');
    expect(at(note('N', 2, 'sentences'), prose)).toBe('一つ目。「二つ目！」\nN\n三つ目。四つ');
    // A sentence end right at the cursor is not counted.
    expect(at(note('N', 1, 'sentences'), '一つ目。二つ目。')).toBe('一つ目。\nN\n二つ目。');
    // An empty note is no note.
    expect(kinds(buildContext(chars, { ...base, authorNote: note('  ', 1) }))).toEqual(['text']);
  });

  it('takes triggered entries highest priority first within the token budget, passing over one that does not fit', () => {
    const entries = [
      entry({ id: 'low', name: 'low', keys: ['雪'], text: '低', priority: -1 }),
      entry({ id: 'long', name: 'long', keys: ['雪'], text: '長'.repeat(20), priority: 10 }),
      entry({ id: 'high', name: 'high', keys: ['島村'], text: '高い', priority: 5 }),
      entry({ id: 'same', name: 'same', keys: ['汽車'], text: '同じ', priority: 5 }),
      entry({ id: 'off', name: 'off', keys: ['雪'], text: '無効', enabled: false, priority: 100 }),
      entry({ id: 'absent', name: 'absent', keys: ['トンネル'], text: '無い', priority: 100 }),
    ];
    // Budget 8: long (21 tokens) does not fit; high (3), same (3) and low (2) do, in priority order, equals in book order.
    expect(kinds(buildContext(chars, { ...base, book: book(entries, { tokenBudget: 8 }) }))).toEqual(['book:high', 'book:same', 'book:low', 'text']);
    expect(kinds(buildContext(chars, { ...base, book: book(entries, { tokenBudget: 7 }) }))).toEqual(['book:high', 'book:same', 'text']);
    expect(kinds(buildContext(chars, { ...base, book: book(entries, { tokenBudget: 30 }) }))).toEqual(['book:long', 'book:high', 'book:same', 'book:low', 'text']);
    // Only the last scanChars characters are searched: 島村 and 汽車 are further back than 10.
    expect(kinds(buildContext(chars, { ...base, book: book(entries, { tokenBudget: 8, scanChars: 10 }) }))).toEqual(['book:low', 'text']);
    // The book never takes more than half of what the memo leaves.
    const c = buildContext(chars, { ...base, maxNewTokens: 990, book: book([entry({ id: 'x', keys: ['雪'], text: 'あ'.repeat(30) })]) });
    expect(kinds(c)).toEqual(['text']);
  });

  it('matches regular-expression keys, and skips a key that does not compile or could take too long, without failing', () => {
    const c = (keys: string[]) => kinds(buildContext(chars, { ...base, book: book([entry({ id: 'r', name: 'r', keys, regex: true, text: '当たり' })]) }));
    expect(c(['駒.が'])).toEqual(['book:r', 'text']);
    expect(c(['^雪が'])).toEqual(['book:r', 'text']);
    expect(c(['駒子(さん|ちゃん)?が'])).toEqual(['book:r', 'text']);
    expect(c(['駒子('])).toEqual(['text']);
    expect(c(['駒子(', '島村'])).toEqual(['book:r', 'text']);
    expect(c(['(島|村)+は'])).toEqual(['text']);
    // A word key with regex syntax in it is just a word.
    expect(kinds(buildContext(chars, { ...base, before: 'a(b', book: book([entry({ id: 'w', name: 'w', keys: ['a(b'], text: '語' })]) }))).toEqual(['book:w', 'text']);
  });

  it('says why a regular-expression key cannot be used', () => {
    expect(regexKeyProblem('駒子|島村')).toBeNull();
    expect(regexKeyProblem('\\p{Script=Han}+子')).toBeNull();
    expect(regexKeyProblem('駒子(さん|ちゃん)?')).toBeNull();
    expect(regexKeyProblem('(')).toBe('syntax');
    expect(regexKeyProblem('(a+)+$')).toBe('repetition');
    expect(regexKeyProblem('.*.*x')).toBe('repetition');
    expect(regexKeyProblem('(a|aa)*b')).toBe('repeated-alternation');
    expect(regexKeyProblem('((a|b)c)+')).toBe('repeated-alternation');
    expect(regexKeyProblem('(a)\\1')).toBe('backreference');
    expect(regexKeyProblem('(?<=a)b')).toBe('lookaround');
    expect(regexKeyProblem('(?!a)b')).toBe('lookaround');
  });

  it('a regular-expression key on a long text without line breaks takes little time', () => {
    // Not a timing assertion: the safe subset and the windows keep this to milliseconds; a naive search of
    // (a|aa)*b or .*.*b over 20,000 characters would not return for minutes.
    const text = 'a'.repeat(20_000);
    const keys = ['(?:a|aa)?a{1,300}b', '.*b', 'a+b'];
    const c = buildContext(chars, { ...base, before: text, book: book([entry({ id: 'r', keys, regex: true, text: 'x' })], { scanChars: 20_000 }) });
    expect(kinds(c)).toEqual(['text']);
  });

  it('typing after the note keeps the token prefix up to and including the note', () => {
    let text = doc(400);
    const input = { maxNewTokens: 100, nPositions: 1024, startId: 2, memo: 'メモ', authorNote: note('［脚注］', 2), book: book([entry({ id: 'a', keys: ['文'], text: '本' })]) };
    let previous: BuiltContext | null = null;
    let kept = 0;
    for (let i = 0; i < 100; i++) {
      text += 'あ';
      const c = buildContext(chars, { ...input, before: text });
      expect(c.ids.length).toBeLessThanOrEqual(924);
      expect(c.parts.reduce((n, p) => n + p.tokens, 0)).toBe(c.ids.length);
      if (previous) {
        const prefix = previous.parts.findIndex((p) => p.kind === 'authorNote');
        const length = previous.parts.slice(0, prefix + 1).reduce((n, p) => n + p.tokens, 0);
        if (c.ids.slice(0, length).every((id, j) => id === previous!.ids[j])) kept++;
      }
      previous = c;
    }
    expect(kept).toBeGreaterThanOrEqual(98);
  });

  it('leaves out a note longer than half the room it would share with the text', () => {
    const c = buildContext(chars, { ...base, maxNewTokens: 1000, authorNote: note('長'.repeat(20), 1) });
    expect(kinds(c)).toEqual(['text']);
  });
});
