import { describe, expect, it } from 'vitest';
import { buildContext } from '../../../src-main/engine/context';

/** One token per character (code point), like a tokenizer that knows no merges; ids are code points. */
const chars = { encode: (text: string) => [...text].map((c) => c.codePointAt(0)!) };

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
