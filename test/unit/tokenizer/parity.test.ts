import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readModelProto } from '../../../src-main/tokenizer/model-proto';
import { SentencePiece } from '../../../src-main/tokenizer/sentencepiece';
import { inputs, MODELS, modelPath, readJsonl, type Golden } from './fixtures';

const { cases, fuzz, bytes } = inputs();

describe.each(MODELS)('parity with SentencePiece 0.1.97: %s.model', (name) => {
  const file = modelPath(name);
  const sp = new SentencePiece(readModelProto(readFileSync(file), file), file);
  const goldens = readJsonl<Golden>(`${name}.golden.jsonl.gz`);
  const all: (string | Uint8Array)[] = [...cases, ...fuzz, ...bytes];

  it('has a golden for every input', () => {
    expect(goldens.length).toBe(all.length);
    expect(cases.length).toBeGreaterThanOrEqual(5000);
  });

  const check = (from: number, to: number) => {
    const mismatches: string[] = [];
    for (let i = from; i < to; i++) {
      const input = all[i]!;
      const [ids, text, pieces] = goldens[i]!;
      const sink = { ids: [] as number[], pieces: [] as string[] };
      sp.encode(input, sink);
      const expectedPieces = ids.map((id) => sp.model.pieces[id]!);
      for (const [k, piece] of pieces ?? []) expectedPieces[k] = piece;
      const expectedText = text === 0 ? input : text;
      const decoded = sp.decode(ids);
      if (
        JSON.stringify(sink.ids) !== JSON.stringify(ids) ||
        JSON.stringify(sink.pieces) !== JSON.stringify(expectedPieces) ||
        decoded !== expectedText
      ) {
        mismatches.push(`#${i} ${JSON.stringify(typeof input === 'string' ? input.slice(0, 80) : Buffer.from(input).toString('hex'))}`);
      }
    }
    return mismatches;
  };

  it('encodes, splits into pieces and decodes every case exactly (prose, mixed scripts, hard cases, 100k-char lines)', () => {
    expect(check(0, cases.length)).toEqual([]);
  });
  it('matches on random Unicode strings from the golden generator', () => {
    expect(check(cases.length, cases.length + fuzz.length)).toEqual([]);
  });
  it('matches on malformed UTF-8 byte input', () => {
    expect(check(cases.length + fuzz.length, all.length)).toEqual([]);
  });
});
