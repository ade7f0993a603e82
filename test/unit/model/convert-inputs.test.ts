import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertCheckpoint } from '../../../src-main/model/convert/convert';

const FIXTURES = join(import.meta.dirname, '../../fixtures/model');

/**
 * The converter refuses a model folder it cannot trust (a crafted config, a tokenizer that is not one or not this
 * model's) before writing anything.
 */
describe('convertCheckpoint on untrusted inputs', () => {
  let tmp: string;
  let n = 0;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'tsuzuki-convert-inputs-'));
  });
  afterAll(() => rm(tmp, { recursive: true, force: true }));

  /** A copy of the tiny fp16 model with its spiece.model and config.json edited. */
  async function folder(edit: { spiece?: Uint8Array; config?: Record<string, unknown> }): Promise<{ src: string; parent: string }> {
    const src = join(tmp, `src${n}`);
    await cp(join(FIXTURES, 'tiny-safetensors-fp16'), src, { recursive: true });
    if (edit.spiece) await writeFile(join(src, 'spiece.model'), edit.spiece);
    if (edit.config) {
      const config = JSON.parse(await readFile(join(src, 'config.json'), 'utf8')) as Record<string, unknown>;
      await writeFile(join(src, 'config.json'), JSON.stringify({ ...config, ...edit.config }));
    }
    return { src, parent: join(tmp, `out${n++}`) };
  }
  async function refusal(src: string, parent: string): Promise<unknown> {
    return convertCheckpoint(src, join(parent, 'model'), { precision: 'fp16' }).then(
      () => null,
      (e: unknown) => e,
    );
  }

  it('refuses a spiece.model of random bytes, saying it is not a SentencePiece model, and writes nothing', async () => {
    const random = Uint8Array.from({ length: 250_000 }, (_, i) => (Math.imul(i + 1, 2654435761) >>> 24) & 0xff);
    const { src, parent } = await folder({ spiece: random });
    const error = await refusal(src, parent);
    expect(error).toMatchObject({
      code: 'corrupt_file',
      message: expect.stringContaining(`${join(src, 'spiece.model')} is not a usable SentencePiece model`),
    });
    expect((error as Error).message).toMatch(/Use the spiece\.model file that came with the model, or download the model again/);
    expect(await readdir(parent).catch(() => [])).toEqual([]);
  });

  it('refuses a crafted config.json before sizing anything from it (10 million layers once took 42 s and 2.3 GB)', async () => {
    const { src, parent } = await folder({ config: { n_layer: 10_000_000 } });
    expect(await refusal(src, parent)).toMatchObject({
      code: 'unsupported',
      message: expect.stringContaining('n_layer is 10000000, above the 256 Tsuzuki accepts'),
    });
    expect(await readdir(parent).catch(() => [])).toEqual([]);
  });

  it("refuses a tokenizer with more pieces than the model's vocabulary, or without the config's special tokens", async () => {
    // The weights have 1000 rows (vocab_size 1000); config.json names bos 2 and eos 3.
    const large = await folder({ spiece: unigramModel(1001) });
    expect(await refusal(large.src, large.parent)).toMatchObject({
      code: 'corrupt_file',
      message: expect.stringMatching(/has 1001 pieces but config\.json's vocab_size is 1000: the tokenizer does not belong to these weights/),
    });
    expect(await readdir(large.parent).catch(() => [])).toEqual([]);

    const few = await folder({ spiece: unigramModel(3) });
    expect(await refusal(few.src, few.parent)).toMatchObject({
      code: 'corrupt_file',
      message: expect.stringContaining("has 3 pieces, so no piece for config.json's eos_token_id 3"),
    });
  });
});

/** A valid SentencePiece unigram model of `count` pieces: `<unk>`, then `p1`, `p2`, … */
function unigramModel(count: number): Uint8Array {
  const w = protobuf.Writer.create();
  for (let i = 0; i < count; i++) {
    const [piece, type] = i === 0 ? ['<unk>', 2] : [`p${i}`, 1];
    w.uint32((1 << 3) | 2).fork().uint32((1 << 3) | 2).string(piece).uint32((2 << 3) | 5).float(-i).uint32(3 << 3).int32(type).ldelim();
  }
  return w.finish();
}
