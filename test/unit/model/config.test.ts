import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseGpt2Config, readGpt2Config } from '../../../src-main/model/format/config';
import { TsuzukiError } from '../../../src-main/contract/errors';

const FIXTURE = join(import.meta.dirname, '../../fixtures/model/tiny-safetensors-fp32');

/** rinna/japanese-gpt-1b's config.json, as published. */
const RINNA = {
  activation_function: 'gelu_fast',
  architectures: ['GPT2LMHeadModel'],
  bos_token_id: 2,
  eos_token_id: 3,
  layer_norm_epsilon: 1e-5,
  model_type: 'gpt2',
  n_ctx: 1024,
  n_embd: 2048,
  n_head: 16,
  n_inner: 8192,
  n_layer: 24,
  n_positions: 1024,
  reorder_and_upcast_attn: false,
  scale_attn_by_inverse_layer_idx: false,
  scale_attn_weights: true,
  vocab_size: 44928,
};

function thrown(fn: () => unknown): TsuzukiError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(TsuzukiError);
    return error as TsuzukiError;
  }
  throw new Error('expected a TsuzukiError');
}

describe('parseGpt2Config', () => {
  it('reads rinna/japanese-gpt-1b', () => {
    expect(parseGpt2Config(RINNA, 'config.json')).toEqual({
      modelType: 'gpt2',
      vocabSize: 44928,
      nPositions: 1024,
      nEmbd: 2048,
      nLayer: 24,
      nHead: 16,
      headDim: 128,
      nInner: 8192,
      activation: 'gelu_fast',
      layerNormEpsilon: 1e-5,
      tieWordEmbeddings: true,
      bosTokenId: 2,
      eosTokenId: 3,
      padTokenId: null,
    });
  });

  it("applies transformers' defaults", () => {
    const minimal = { model_type: 'gpt2', vocab_size: 50257, n_embd: 768, n_layer: 12, n_head: 12, n_positions: 1024 };
    const config = parseGpt2Config({ ...minimal, n_inner: null }, 'c');
    expect(config.nInner).toBe(3072);
    expect(config.activation).toBe('gelu_new');
    expect(config.layerNormEpsilon).toBe(1e-5);
    expect(config.tieWordEmbeddings).toBe(true);
    expect(config.bosTokenId).toBeNull();
    expect(parseGpt2Config({ ...minimal, tie_word_embeddings: false, pad_token_id: 0 }, 'c')).toMatchObject({
      tieWordEmbeddings: false,
      padTokenId: 0,
    });
  });

  it('accepts n_ctx where n_positions is absent (old configs)', () => {
    const { n_positions: _, ...old } = RINNA;
    expect(parseGpt2Config({ ...old, n_ctx: 512 }, 'c').nPositions).toBe(512);
  });

  it('names the supported model types for an unsupported one', () => {
    const error = thrown(() => parseGpt2Config({ ...RINNA, model_type: 'gpt_neox' }, '/m/config.json'));
    expect(error.code).toBe('unsupported');
    expect(error.message).toContain('"gpt_neox"');
    expect(error.message).toContain('gpt2');
    expect(error.message).toContain('/m/config.json');
  });

  it('names a missing key and all required ones', () => {
    const { n_layer: _, ...rest } = RINNA;
    const error = thrown(() => parseGpt2Config(rest, '/m/config.json'));
    expect(error.code).toBe('corrupt_file');
    expect(error.message).toMatch(/lacks n_layer;/);
    expect(error.message).toContain('model_type, vocab_size, n_embd, n_layer, n_head, n_positions');
    const { model_type: __, ...untyped } = RINNA;
    expect(thrown(() => parseGpt2Config(untyped, 'c')).message).toMatch(/lacks model_type/);
  });

  it('refuses an unknown activation, listing the supported ones', () => {
    const error = thrown(() => parseGpt2Config({ ...RINNA, activation_function: 'swiglu' }, 'c'));
    expect(error.code).toBe('unsupported');
    expect(error.message).toContain('gelu_new, gelu_fast, gelu_pytorch_tanh, gelu, relu');
  });

  it('refuses attention variants the graph does not reproduce', () => {
    expect(thrown(() => parseGpt2Config({ ...RINNA, scale_attn_by_inverse_layer_idx: true }, 'c')).code).toBe('unsupported');
    expect(thrown(() => parseGpt2Config({ ...RINNA, scale_attn_weights: false }, 'c')).code).toBe('unsupported');
    expect(thrown(() => parseGpt2Config({ ...RINNA, add_cross_attention: true }, 'c')).code).toBe('unsupported');
  });

  it('refuses impossible values', () => {
    expect(thrown(() => parseGpt2Config({ ...RINNA, n_head: 3 }, 'c')).message).toMatch(/multiple of n_head/);
    expect(thrown(() => parseGpt2Config({ ...RINNA, n_embd: '2048' }, 'c')).message).toMatch(/n_embd must be an integer/);
    expect(thrown(() => parseGpt2Config({ ...RINNA, vocab_size: 0 }, 'c')).message).toMatch(/vocab_size/);
    expect(thrown(() => parseGpt2Config({ ...RINNA, layer_norm_epsilon: -1 }, 'c')).message).toMatch(/layer_norm_epsilon/);
    expect(thrown(() => parseGpt2Config({ ...RINNA, tie_word_embeddings: 'yes' }, 'c')).message).toMatch(/tie_word_embeddings/);
    expect(thrown(() => parseGpt2Config([RINNA], 'c')).code).toBe('corrupt_file');
  });

  it.each([
    ['n_layer', 10_000_000, 256],
    ['n_embd', 16_384 * 16, 16_384],
    ['n_head', 512, 256],
    ['n_inner', 1 << 20, 65_536],
    ['vocab_size', 2_000_000_000, 1_000_000],
    ['n_positions', 1 << 24, 65_536],
  ])('refuses %s = %i before anything is sized from it, naming the bound', (key, value, max) => {
    const crafted = key === 'n_head' ? { ...RINNA, n_embd: 2048, n_head: value } : { ...RINNA, [key]: value };
    const error = thrown(() => parseGpt2Config(crafted, '/m/config.json'));
    expect(error.code).toBe('unsupported');
    expect(error.message).toContain(`/m/config.json: ${key} is ${value}, above the ${max.toLocaleString('en-US')} Tsuzuki accepts (`);
    expect(error.message).toMatch(/download config\.json again/);
  });

  it('refuses n_ctx beyond the bound in old configs, and the bounds themselves pass', () => {
    const { n_positions: _, ...old } = RINNA;
    expect(thrown(() => parseGpt2Config({ ...old, n_ctx: 70_000 }, 'c')).message).toMatch(/n_ctx is 70000, above the 65,536/);
    const largest = { ...RINNA, n_layer: 256, n_embd: 16_384, n_head: 256, n_inner: 65_536, vocab_size: 1_000_000, n_positions: 65_536 };
    expect(parseGpt2Config(largest, 'c')).toMatchObject({ nLayer: 256, nEmbd: 16_384, headDim: 64, vocabSize: 1_000_000 });
  });

  it('refuses special token ids outside the vocabulary and an epsilon that would swamp the variance', () => {
    expect(thrown(() => parseGpt2Config({ ...RINNA, eos_token_id: 44_928 }, 'c')).message).toMatch(
      /eos_token_id 44928 is outside the vocabulary \(vocab_size 44928\)/,
    );
    expect(thrown(() => parseGpt2Config({ ...RINNA, pad_token_id: 1e9 }, 'c')).code).toBe('corrupt_file');
    expect(thrown(() => parseGpt2Config({ ...RINNA, layer_norm_epsilon: 1e300 }, 'c')).message).toMatch(/below 0\.1/);
    expect(parseGpt2Config({ ...RINNA, layer_norm_epsilon: 1e-12, eos_token_id: 44_927 }, 'c').eosTokenId).toBe(44_927);
  });
});

describe('readGpt2Config', () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('reads the fixture config', async () => {
    const config = await readGpt2Config(FIXTURE);
    expect(config).toMatchObject({ nLayer: 2, nEmbd: 64, nHead: 4, nInner: 256, nPositions: 256, vocabSize: 1000 });
  });

  it('reports a missing or unparsable config.json with its path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tsuzuki-config-'));
    dirs.push(dir);
    await expect(readGpt2Config(dir)).rejects.toMatchObject({ code: 'not_found', message: expect.stringContaining(join(dir, 'config.json')) });
    await writeFile(join(dir, 'config.json'), '{"model_type": "gpt2",');
    await expect(readGpt2Config(dir)).rejects.toMatchObject({ code: 'corrupt_file', message: expect.stringContaining('not valid JSON') });
  });

  it('refuses a config.json too large to be one before reading it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tsuzuki-config-'));
    dirs.push(dir);
    await writeFile(join(dir, 'config.json'), JSON.stringify(RINNA));
    await truncate(join(dir, 'config.json'), (1 << 20) + 1);
    await expect(readGpt2Config(dir)).rejects.toMatchObject({
      code: 'corrupt_file',
      message: expect.stringContaining(`${join(dir, 'config.json')} is ${(1 << 20) + 1} bytes, too large for a model's config.json`),
    });
  });
});
