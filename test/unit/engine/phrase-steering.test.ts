import { describe, expect, it } from 'vitest';
import { PhraseSteering } from '../../../src-main/engine/phrase-steering';
import { Rng } from '../../../src-main/engine/rng';
import { loadTokenizer, type Tokenizer } from '../../../src-main/tokenizer';
import { modelPath } from '../tokenizer/fixtures';

// nfkc: パッケージ is one piece, and also パ|ッ|ケ|ージ, パ|ッ|ケ|ー|ジ… (and after a space, ▁パッケージ, ▁|パッケージ…).
const nfkc = await loadTokenizer(modelPath('nfkc'));
// bytefb: 猫 has no piece, so the model can only write it as its three bytes.
const bytefb = await loadTokenizer(modelPath('bytefb'));

const spelled = (tok: Tokenizer, ids: number[]) => ids.map((id) => tok.idToPiece(id)).join('|');
const idsOf = (tok: Tokenizer, pieces: string[]) => pieces.map((p) => tok.pieceToId(p));

/** The ids whose text, written by the stream decoder after `afterText` and `written`, completes a new `phrase`. */
function completing(tok: Tokenizer, afterText: string, written: number[], phrase: string): number[] {
  const out: number[] = [];
  for (let id = 0; id < tok.vocabSize; id++) {
    const d = tok.createStreamDecoder({ afterText });
    let before = afterText;
    for (const w of written) before += d.push(w);
    const after = before + d.push(id) + d.end();
    if (count(after, phrase) > count(before, phrase)) out.push(id);
  }
  return out;
}
const count = (text: string, phrase: string) => text.split(phrase).length - 1;
const bannedIn = (scores: Float32Array) => [...scores.keys()].filter((i) => scores[i] === -Infinity);

describe('phrase tokenizations', () => {
  it('lists every spelling of a phrase, as typed and after a space, the official one first, within the limit', () => {
    const all = nfkc.phraseTokenizations('パッケージ', 32).map((ids) => spelled(nfkc, ids));
    expect(all[0]).toBe(spelled(nfkc, nfkc.encode('パッケージ', { dummyPrefix: false })));
    expect(all).toEqual(expect.arrayContaining(['パッケージ', 'パ|ッ|ケ|ージ', 'パ|ッ|ケ|ー|ジ', '▁パッケージ', '▁|パッケージ', '▁|パ|ッ|ケ|ー|ジ']));
    expect(new Set(all).size).toBe(all.length);
    for (const ids of nfkc.phraseTokenizations('パッケージ', 32)) expect(nfkc.decode(ids)).toBe('パッケージ');
    expect(nfkc.phraseTokenizations('パッケージ', 2)).toHaveLength(4);
  });

  it('spells a character without a piece by its bytes under byte fallback', () => {
    const all = bytefb.phraseTokenizations('猫', 8).map((ids) => spelled(bytefb, ids));
    expect(all).toContain('<0xE7>|<0x8C>|<0xAB>');
    for (const ids of bytefb.phraseTokenizations('猫', 8)) expect(bytefb.decode(ids)).toBe('猫');
  });
});

describe('phrase bias', () => {
  it('biases a one-token spelling always and the last token of a longer one after the rest of it', () => {
    const steering = new PhraseSteering(nfkc, { bannedPhrases: [], phraseBiases: [{ phrase: 'パッケージ', bias: 5 }] }, 'これは');
    const [whole, ji] = idsOf(nfkc, ['パッケージ', 'ージ']);
    const plain = new Float32Array(nfkc.vocabSize);
    steering.row(nfkc.encode('これは')).bias(plain);
    expect(plain[whole!]).toBe(5);
    expect(plain[ji!]).toBe(0);

    const after = new Float32Array(nfkc.vocabSize);
    steering.row([...nfkc.encode('これは'), ...idsOf(nfkc, ['パ', 'ッ', 'ケ'])]).bias(after);
    expect(after[ji!]).toBe(5);
    expect(after[whole!]).toBe(5);
    // The one-token spellings (as typed, after a space) and ージ: nothing else.
    expect([...after.keys()].filter((i) => after[i] !== 0)).toEqual(idsOf(nfkc, ['パッケージ', '▁パッケージ', 'ージ']).sort((a, b) => a - b));
  });

  it('adds nothing for a bias of 0 and lowers for a negative one', () => {
    const steering = new PhraseSteering(nfkc, { bannedPhrases: [], phraseBiases: [{ phrase: 'パッケージ', bias: -7.5 }, { phrase: 'テスト', bias: 0 }] }, '');
    const s = new Float32Array(nfkc.vocabSize);
    steering.row([]).bias(s);
    expect(s[nfkc.pieceToId('パッケージ')]).toBe(-7.5);
    expect(s[nfkc.pieceToId('テスト')]).toBe(0);
  });
});

describe('banned phrases', () => {
  it('bans exactly the tokens that would complete the phrase, across the boundary with the text and within a token', () => {
    const phrase = 'パッケージ';
    const steering = new PhraseSteering(nfkc, { bannedPhrases: [phrase], phraseBiases: [] }, 'この');
    const row = steering.row([]);
    const written: number[] = [];
    // Write パ, ッ, ケ one by one: at each point the banned set is exactly what would complete the phrase.
    for (const piece of ['パ', 'ッ', 'ケ', 'ー']) {
      const scores = new Float32Array(nfkc.vocabSize);
      row.ban(scores);
      expect(bannedIn(scores), `after ${JSON.stringify(nfkc.decode(written))}`).toEqual(completing(nfkc, 'この', written, phrase));
      const id = nfkc.pieceToId(piece);
      const d = nfkc.createStreamDecoder({ afterText: 'この' });
      written.forEach((w) => d.push(w));
      row.observe(id, d.push(id));
      written.push(id);
    }
    const last = new Float32Array(nfkc.vocabSize);
    row.ban(last);
    expect(last[nfkc.pieceToId('ジ')]).toBe(-Infinity);
    expect(last[nfkc.pieceToId('パッケージ')]).toBe(-Infinity);
    expect(last[nfkc.pieceToId('ー')]).toBe(0);
  });

  it('counts the context before the cursor: a phrase begun there cannot be finished', () => {
    const steering = new PhraseSteering(nfkc, { bannedPhrases: ['パッケージ'], phraseBiases: [] }, 'これはパッケ');
    const scores = new Float32Array(nfkc.vocabSize);
    steering.row([]).ban(scores);
    expect(bannedIn(scores)).toEqual(completing(nfkc, 'これはパッケ', [], 'パッケージ'));
    expect(scores[nfkc.pieceToId('ージ')]).toBe(-Infinity);
  });

  it('bans the phrase as the model writes it (normalized), and a token that would complete it after a dropped first space', () => {
    const steering = new PhraseSteering(nfkc, { bannedPhrases: ['ﾃｽﾄ'], phraseBiases: [] }, '');
    const scores = new Float32Array(nfkc.vocabSize);
    steering.row([]).ban(scores);
    const expected = completing(nfkc, '', [], 'テスト');
    expect(expected.length).toBeGreaterThan(0);
    for (const id of expected) expect(scores[id], nfkc.idToPiece(id)).toBe(-Infinity);
  });

  it('bans the byte that would complete a character of the phrase (byte fallback)', () => {
    const steering = new PhraseSteering(bytefb, { bannedPhrases: ['猫'], phraseBiases: [] }, '吾輩は');
    const row = steering.row([]);
    const d = bytefb.createStreamDecoder({ afterText: '吾輩は' });
    for (const b of ['<0xE7>', '<0x8C>']) {
      const id = bytefb.pieceToId(b);
      row.observe(id, d.push(id));
    }
    const scores = new Float32Array(bytefb.vocabSize);
    row.ban(scores);
    expect(bannedIn(scores)).toEqual([bytefb.pieceToId('<0xAB>')]);
  });

  it('never lets a banned phrase through, whichever tokens a writer-like random walk favours', () => {
    // Each step picks among the allowed tokens, strongly favouring the pieces that spell the phrase, so that without
    // the ban the phrase would be written many times.
    const phrase = 'パッケージ';
    const favoured = new Set(nfkc.phraseTokenizations(phrase, 32).flat());
    const run = (ban: boolean, seed: number) => {
      const rng = new Rng(seed);
      const steering = new PhraseSteering(nfkc, { bannedPhrases: ban ? [phrase] : [], phraseBiases: [] }, 'この');
      const row = steering.row([]);
      const d = nfkc.createStreamDecoder({ afterText: 'この' });
      let text = '';
      for (let step = 0; step < 60; step++) {
        const scores = new Float32Array(nfkc.vocabSize);
        row.ban(scores);
        const allowed = [...favoured].filter((id) => scores[id] === 0);
        const pool = allowed.length > 0 && rng.nextFloat() < 0.9 ? allowed : [...scores.keys()].filter((i) => scores[i] === 0 && i > 2);
        const id = pool[Math.floor(rng.nextFloat() * pool.length)]!;
        const out = d.push(id);
        row.observe(id, out);
        text += out;
      }
      return 'この' + text + d.end();
    };
    let unbanned = 0;
    for (let seed = 1; seed <= 20; seed++) {
      unbanned += count(run(false, seed), phrase);
      expect(run(true, seed)).not.toContain(phrase);
    }
    expect(unbanned).toBeGreaterThan(0);
  });
});
