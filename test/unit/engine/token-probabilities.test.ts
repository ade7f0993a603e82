import { describe, expect, it } from 'vitest';
import { TokenTrail, topCandidates, type CandidateIds } from '../../../src-main/engine/token-probabilities';
import { loadTokenizer } from '../../../src-main/tokenizer';
import { modelPath } from '../tokenizer/fixtures';

const tokenText = (id: number) => ({ text: `#${id}`, special: false });
const chose = (id: number): CandidateIds => ({ chosen: id, ids: [id, 99], p: [0.6, 0.4], raw: [0.5, 0.3] });

describe('token trail', () => {
  it('tokens that write no text yet (bytes of one character) are one shown token with the first one’s candidates', () => {
    const trail = new TokenTrail(tokenText);
    trail.push(chose(10), '今');
    // Three byte tokens of 日: the decoder holds the first two.
    trail.push(chose(20), '');
    trail.push(chose(21), '');
    trail.push(chose(22), '日');
    trail.push(chose(30), 'は');
    const shown = trail.release(3);
    expect(shown.map((t) => t.at)).toEqual([0, 1, 2]);
    expect(shown.map((t) => t.candidates[t.chosen]!.text)).toEqual(['#10', '#20', '#30']);
    expect(trail.release(3)).toEqual([]);
  });

  it('a token is released only once text at its offset has been streamed', () => {
    const trail = new TokenTrail(tokenText);
    trail.push(chose(1), 'ab');
    trail.push(chose(2), 'cd');
    // A stop string held back "cd": only the first token is shown.
    expect(trail.release(2).map((t) => t.at)).toEqual([0]);
    expect(trail.release(3).map((t) => t.at)).toEqual([2]);
  });

  it('bytes still held at the end join the token that began them', () => {
    const trail = new TokenTrail(tokenText);
    trail.push(chose(1), 'a');
    trail.push(chose(2), '');
    trail.text('\ufffd');
    expect(trail.release(2).map((t) => [t.at, t.candidates[t.chosen]!.text])).toEqual([
      [0, '#1'],
      [1, '#2'],
    ]);
  });

  it('over a byte-fallback tokenizer: 👍 in four byte tokens is one shown token, and bytes of longer characters are labels', async () => {
    const tok = await loadTokenizer(modelPath('bytefb'));
    const byte = (x: number) => tok.pieceToId(`<0x${x.toString(16).toUpperCase().padStart(2, '0')}>`);
    const ids = [...tok.encode('テスト'), byte(0xf0), byte(0x9f), byte(0x91), byte(0x8d), byte(0x41)];
    const trail = new TokenTrail((id) => tok.tokenText(id));
    const decoder = tok.createStreamDecoder({ afterText: 'x' });
    let text = '';
    for (const id of ids) {
      const decoded = decoder.push(id);
      trail.push({ chosen: id, ids: [id, byte(0xe3)], p: [0.9, 0.1], raw: [0.8, 0.1] }, decoded);
      text += decoded;
    }
    const shown = trail.release(text.length);
    const thumb = shown.find((t) => text.slice(t.at).startsWith('👍'))!;
    expect(text.slice(thumb.at, shown[shown.indexOf(thumb) + 1]!.at)).toBe('👍');
    expect(thumb.candidates[thumb.chosen]).toMatchObject({ text: '<0xF0>', special: true });
    // A byte that is a character by itself (A) can be written; one of a longer character cannot.
    expect(shown.at(-1)!.candidates.map((c) => [c.text, c.special])).toEqual([
      ['A', false],
      ['<0xE3>', true],
    ]);
    expect(tok.tokenText(tok.special.eos!)).toEqual({ text: '</s>', special: true });
  });
});

describe('top candidates', () => {
  it('orders by the filtered scores, then the raw logits among the filtered out, and always holds the chosen token', () => {
    const logits = Float32Array.of(1, 5, 3, 2, 4);
    const processed = Float32Array.of(-Infinity, 5, -Infinity, 2, 4);
    const c = topCandidates(logits, processed, 0, 3);
    expect(c.ids).toEqual([1, 4, 3, 0]);
    expect(c.p[3]).toBe(0);
    const e = [Math.exp(5), Math.exp(4), Math.exp(2)];
    expect(c.p[0]).toBeCloseTo(e[0]! / (e[0]! + e[1]! + e[2]!), 12);
    expect(c.p.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(1);
    const raw = [1, 5, 3, 2, 4].reduce((s, v) => s + Math.exp(v), 0);
    expect(c.raw[0]).toBeCloseTo(Math.exp(5) / raw, 12);
    // Fewer kept than asked: the best filtered-out ones fill the list, by raw logit.
    expect(topCandidates(logits, processed, 1, 5).ids).toEqual([1, 4, 3, 2, 0]);
  });
});
