import { mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { loadTokenizer, type Tokenizer } from '../../../src-main/tokenizer';
import { TsuzukiError } from '../../../src-main/contract/errors';
import { MODELS, modelPath } from './fixtures';

const tokenizers = Object.fromEntries(
  await Promise.all(MODELS.map(async (m) => [m, await loadTokenizer(modelPath(m))] as const)),
) as Record<(typeof MODELS)[number], Tokenizer>;

describe('loadTokenizer', () => {
  it('reads special tokens from the model, not from defaults', () => {
    const nfkc = tokenizers.nfkc;
    expect(nfkc.vocabSize).toBe(2000);
    expect(nfkc.special).toMatchObject({ unk: 0, bos: 1, eos: 2, pad: null, control: [1, 2], userDefined: [] });
    expect(nfkc.idToPiece(0)).toBe('<unk>');
    const ud = tokenizers.userdef;
    expect(ud.special.control.map((id) => ud.idToPiece(id))).toEqual(['<s>', '</s>', '<ctl>', '<sep>']);
    expect(ud.special.userDefined.map((id) => ud.idToPiece(id))).toEqual(['<NL>', '【注】', 'Debian', '▁▁', 'ファイル']);
    expect(ud.pieceToId('<NL>')).toBe(ud.special.userDefined[0]);
    expect(ud.pieceToId('no such piece')).toBe(ud.special.unk);
  });

  it('accepts the model folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsuzuki-tok-'));
    writeFileSync(join(dir, 'spiece.model'), readFileSync(modelPath('nfkc')));
    const tok = await loadTokenizer(dir);
    expect(tok.encode('テストです')).toEqual(tokenizers.nfkc.encode('テストです'));
  });

  it('rejects an id outside the vocabulary', () => {
    expect(() => tokenizers.nfkc.decode([5, 2000])).toThrow(/2000 is out of range/);
    expect(() => tokenizers.nfkc.idToPiece(-1)).toThrow(TsuzukiError);
  });
});

describe('corrupt, truncated and foreign files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsuzuki-tok-bad-'));
  const good = readFileSync(modelPath('nfkc'));
  const variants: [string, Uint8Array][] = [
    ['empty.model', new Uint8Array(0)],
    ['truncated.model', good.subarray(0, Math.floor(good.length / 2))],
    ['cut-early.model', good.subarray(0, 1000)],
    ['text.model', new TextEncoder().encode('{"this": "is json, not a model"}\n')],
    ['png.model', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52])],
    ['random.model', Uint8Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24)],
  ];
  it.each(variants)('%s gives a clear corrupt_file error naming the file', async (name, bytes) => {
    const file = join(dir, name);
    writeFileSync(file, bytes);
    const error = await loadTokenizer(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TsuzukiError);
    expect((error as TsuzukiError).code).toBe('corrupt_file');
    expect((error as TsuzukiError).message).toContain(file);
  });
  it('a missing file is not_found', async () => {
    await expect(loadTokenizer(join(dir, 'nope.model'))).rejects.toMatchObject({ code: 'not_found' });
  });
  it('a file larger than any SentencePiece model is refused before it is read', async () => {
    const file = join(dir, 'huge.model');
    writeFileSync(file, good);
    truncateSync(file, (64 << 20) + 1);
    await expect(loadTokenizer(file)).rejects.toMatchObject({
      code: 'corrupt_file',
      message: expect.stringContaining(`${file} is ${(64 << 20) + 1} bytes, larger than any SentencePiece model`),
    });
  });
});

describe('newline strategy', () => {
  it('detects what each model does with a line break', () => {
    expect(tokenizers.nfkc.newline).toMatchObject({ mode: 'lost', roundTrip: 'あ い' });
    expect(tokenizers.identity.newline.mode).toBe('lost');
    expect(tokenizers.bytefb.newline.mode).toBe('native');
    expect(tokenizers.userdef.newline).toMatchObject({ mode: 'piece', piece: '<NL>' });
    expect(tokenizers.ctlnl.newline).toMatchObject({ mode: 'piece', piece: '<NL>' });
  });

  it('piece (control symbol): lines are encoded apart and joined by the break id', () => {
    const tok = tokenizers.ctlnl;
    const nl = tok.newline.pieceId!;
    expect(tok.special.control).toContain(nl);
    // Writing the piece's text does not produce it: it is a control symbol.
    expect(tok.encode('<NL>')).not.toContain(nl);
    const ids = tok.encodeContext('システムの設定。\n\nパッケージ');
    expect(ids).toEqual([...tok.encode('システムの設定。'), nl, nl, ...tok.encode('パッケージ', { dummyPrefix: false })]);
    expect(tok.decodeOutput(ids)).toBe('システムの設定。\n\nパッケージ');
    expect(tok.decode(ids)).toBe('システムの設定。パッケージ');
  });

  it('native: context and output carry the break as is', () => {
    const tok = tokenizers.bytefb;
    const text = '一行目。\n二行目。';
    expect(tok.encodeContext(text)).toEqual(tok.encode(text));
    expect(tok.decodeOutput(tok.encode(text))).toBe(text);
  });

  it('piece: every break becomes the break piece, and comes back as "\\n" in output only', () => {
    const tok = tokenizers.userdef;
    const nl = tok.newline.pieceId!;
    const text = '一行目。\n二行目。\r\n\n三行目';
    const ids = tok.encodeContext(text);
    expect(ids.filter((id) => id === nl)).toHaveLength(3);
    expect(ids).toEqual(tok.encode('一行目。<NL>二行目。<NL><NL>三行目'));
    expect(tok.decodeOutput(ids)).toBe(tok.decode(ids).replaceAll('<NL>', '\n'));
    expect(tok.decodeOutput(ids)).toContain('\n\n');
    expect(tok.decode(ids)).not.toContain('\n');
  });

  it('lost: the context is the official encoding, where a break is a word boundary', () => {
    const tok = tokenizers.nfkc;
    expect(tok.encodeContext('段落。\n次の段落。')).toEqual(tok.encode('段落。 次の段落。'));
    expect(tok.decodeOutput(tok.encodeContext('段落。\n次'))).not.toContain('\n');
  });
});

describe('stream decoder', () => {
  const streamed = (tok: Tokenizer, ids: number[], afterText?: string) => {
    const d = tok.createStreamDecoder({ afterText });
    const chunks = ids.map((id) => d.push(id));
    chunks.push(d.end());
    return chunks;
  };

  it.each(MODELS)('%s: chunks concatenate to decodeOutput for random ids, each chunk whole characters', (name) => {
    const tok = tokenizers[name];
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: tok.vocabSize - 1 }), { maxLength: 60 }), (ids) => {
        const chunks = streamed(tok, ids);
        expect(chunks.join('')).toBe(tok.decodeOutput(ids));
        if (tok.newline.mode !== 'piece') expect(chunks.join('')).toBe(tok.decode(ids));
        for (const c of chunks) expect(c).toBe(Buffer.from(c, 'utf8').toString('utf8'));
      }),
      { numRuns: 300 },
    );
  });

  it('holds byte-fallback pieces until the character is complete or broken', () => {
    const tok = tokenizers.bytefb;
    const b = (x: number) => tok.pieceToId(`<0x${x.toString(16).toUpperCase().padStart(2, '0')}>`);
    const d = tok.createStreamDecoder({ afterText: 'x' });
    expect(d.push(b(0xf0))).toBe('');
    expect(d.push(b(0x9f))).toBe('');
    expect(d.push(b(0x91))).toBe('');
    expect(d.push(b(0x8d))).toBe('👍');
    expect(d.push(b(0xe3))).toBe('');
    expect(d.push(b(0x41))).toBe('\ufffdA');
    expect(d.push(b(0xe3))).toBe('');
    expect(d.push(b(0x81))).toBe('');
    expect(d.end()).toBe('\ufffd\ufffd');
    const ids = [b(0xe3), b(0x81), b(0x82), tok.encode('テスト')].flat();
    expect(streamed(tok, ids).join('')).toBe(tok.decode(ids));
  });

  it('with denormalization rules, holds back text a later token could still rewrite', () => {
    const tok = tokenizers.denorm;
    const ids = tok.encode('データです。デー');
    expect(tok.decode(ids)).toBe('ＤＡＴＡです.デ-');
    const d = tok.createStreamDecoder();
    let text = '';
    for (const id of ids) {
      text += d.push(id);
      // "デ" or "デー" alone may still become part of "データ": never emitted early.
      expect('ＤＡＴＡです.デ-'.startsWith(text)).toBe(true);
    }
    expect(text.endsWith('デ')).toBe(false);
    expect(text + d.end()).toBe('ＤＡＴＡです.デ-');
  });

  it('emits the ids of real text as they arrive', () => {
    const tok = tokenizers.nfkc;
    const ids = tok.encode('これは長い文章です。それから続きます。');
    const chunks = streamed(tok, ids);
    expect(chunks.filter((c) => c.length > 0).length).toBeGreaterThan(ids.length / 2);
    expect(chunks.join('')).toBe(tok.decode(ids));
  });

  it('treats a leading ▁ by the text it continues', () => {
    const tok = tokenizers.nfkc;
    const ids = tok.encode('word here');
    expect(tok.idToPiece(ids[0]!).startsWith('▁')).toBe(true);
    expect(streamed(tok, ids).join('')).toBe('word here');
    expect(streamed(tok, ids, '').join('')).toBe('word here');
    expect(streamed(tok, ids, 'a').join('')).toBe(' word here');
    expect(streamed(tok, ids, 'end.\n').join('')).toBe('word here');
    expect(streamed(tok, ids, 'end. ').join('')).toBe('word here');
  });
});

describe('properties', () => {
  it('identity + byte fallback: decode(encode(x)) is x with runs of spaces collapsed and trimmed', () => {
    const tok = tokenizers.bytefb;
    const noSurrogates = fc.string({ unit: 'grapheme', maxLength: 40 }).filter((s) => !s.includes('\u2581'));
    fc.assert(
      fc.property(noSurrogates, (x) => {
        expect(tok.decode(tok.encode(x))).toBe(x.replace(/ +/g, ' ').replace(/^ | $/g, ''));
      }),
      { numRuns: 500 },
    );
  });

  it('bytes in, bytes out: a Uint8Array is encoded like the string it decodes to when it is valid UTF-8', () => {
    const tok = tokenizers.nfkc;
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 30 }), (x) => {
        expect(tok.encode(new TextEncoder().encode(x))).toEqual(tok.encode(x));
      }),
      { numRuns: 300 },
    );
  });

  it('a lone surrogate (no UTF-8 form) is encoded as U+FFFD', () => {
    const tok = tokenizers.nfkc;
    fc.assert(
      fc.property(fc.string({ maxLength: 10 }), fc.constantFrom('\ud800', '\udfff', '\udbff'), fc.string({ maxLength: 10 }), (a, lone, b) => {
        expect(tok.encode(a + lone + b)).toEqual(tok.encode(a + '\ufffd' + b));
      }),
      { numRuns: 100 },
    );
  });
});

describe('hand-built models', () => {
  /** A serialized ModelProto: pieces [piece, score, type] and the trainer's model_type. */
  function modelBytes(pieces: [string, number, number][], modelType = 1, extra?: (w: protobuf.Writer) => void): Uint8Array {
    const w = protobuf.Writer.create();
    for (const [piece, score, type] of pieces) {
      w.uint32((1 << 3) | 2).fork().uint32((1 << 3) | 2).string(piece).uint32((2 << 3) | 5).float(score).uint32(3 << 3).int32(type).ldelim();
    }
    w.uint32((2 << 3) | 2).fork().uint32(3 << 3).int32(modelType).ldelim();
    extra?.(w);
    return w.finish();
  }
  const load = async (bytes: Uint8Array) => {
    const file = join(mkdtempSync(join(tmpdir(), 'tsuzuki-tok-hand-')), 'spiece.model');
    writeFileSync(file, bytes);
    return loadTokenizer(file);
  };

  it('Viterbi takes the best-scoring split, and unknown runs merge into one <unk>', async () => {
    const tok = await load(
      modelBytes([
        ['<unk>', 0, 2],
        ['▁', -1, 1],
        ['a', -2, 1],
        ['b', -2, 1],
        ['ab', -3, 1],
        ['▁ab', -10, 1],
      ]),
    );
    // "▁ab" alone scores -10; "▁" + "ab" scores -4: the split wins.
    expect(tok.encodePieces('ab')).toEqual(['▁', 'ab']);
    expect(tok.encode('ab ba')).toEqual([1, 4, 1, 3, 2]);
    // x, y, z are unknown: one <unk> for the run, its piece is the run's text.
    expect(tok.encodeWithPieces('axyzb')).toEqual({ ids: [1, 2, 0, 3], pieces: ['▁', 'a', 'xyz', 'b'] });
    expect(tok.decode([1, 2, 0, 3])).toBe('a ⁇ b');
  });

  it('refuses a BPE model as unsupported, naming the file', async () => {
    const error = await load(modelBytes([['<unk>', 0, 2], ['a', 0, 1]], 2)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'unsupported' });
    expect((error as Error).message).toMatch(/spiece\.model is a SentencePiece BPE model/);
  });

  it('refuses a model without an unknown piece or with a piece twice', async () => {
    await expect(load(modelBytes([['a', 0, 1]]))).rejects.toMatchObject({ code: 'corrupt_file' });
    await expect(load(modelBytes([['<unk>', 0, 2], ['a', 0, 1], ['a', -1, 1]]))).rejects.toThrow(/defined twice/);
  });

  it('refuses more pieces than any vocabulary Tsuzuki accepts, before decoding them', async () => {
    const pieces = Array.from({ length: 1_000_001 }, (): [string, number, number] => ['a', 0, 1]);
    await expect(load(modelBytes(pieces))).rejects.toMatchObject({
      code: 'corrupt_file',
      message: expect.stringMatching(/spiece\.model is not a usable SentencePiece model \(it has 1000001 pieces, more than the 1,000,000 Tsuzuki accepts\)/),
    });
  });

  it('refuses unknown piece and model types, which a proto2 decoder would quietly read as the defaults', async () => {
    await expect(load(modelBytes([['<unk>', 0, 2], ['a', 0, 9]]))).rejects.toMatchObject({
      code: 'corrupt_file',
      message: expect.stringContaining('piece 1 has unknown type 9'),
    });
    await expect(load(modelBytes([['<unk>', 0, 2], ['a', 0, 1]], 7))).rejects.toMatchObject({
      code: 'corrupt_file',
      message: expect.stringContaining('is not a usable SentencePiece model (its model type 7 is no SentencePiece model type)'),
    });
  });
});
