import { cp, mkdtemp, readFile, rm, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCheckpoint, type Checkpoint } from '../../../src-main/model/format/checkpoint';
import { toFloat32 } from '../../../src-main/model/format/dtype';

const FIXTURES = join(import.meta.dirname, '../../fixtures/model');
const PWNED = '/tmp/tsuzuki-pickle-pwned';

interface Summary {
  shape: number[];
  sum: number;
  absSum: number;
  samples: [number, number][];
}
const summaries = JSON.parse(readFileSync(join(FIXTURES, 'tensors.json'), 'utf8')) as Record<'fp32' | 'half', Record<string, Summary>>;

const MODELS = [
  { dir: 'tiny-safetensors-fp32', format: 'safetensors', dtype: 'F32', set: 'fp32', files: ['model.safetensors'] },
  { dir: 'tiny-safetensors-fp16', format: 'safetensors', dtype: 'F16', set: 'half', files: ['model.safetensors'] },
  {
    dir: 'tiny-sharded',
    format: 'safetensors',
    dtype: 'F32',
    set: 'fp32',
    files: ['model.safetensors.index.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'],
  },
  { dir: 'tiny-pytorch-fp32', format: 'pytorch', dtype: 'F32', set: 'fp32', files: ['pytorch_model.bin'] },
  { dir: 'tiny-pytorch-fp16', format: 'pytorch', dtype: 'F16', set: 'half', files: ['pytorch_model.bin'] },
  { dir: 'tiny-bf16', format: 'safetensors', dtype: 'BF16', set: 'half', files: ['model.safetensors'] },
] as const;

function expectedNames(): string[] {
  const names = ['wte.weight', 'wpe.weight'];
  for (let i = 0; i < 2; i++) {
    for (const part of ['ln_1.weight', 'ln_1.bias', 'attn.c_attn.weight', 'attn.c_attn.bias', 'attn.c_proj.weight', 'attn.c_proj.bias']) {
      names.push(`h.${i}.${part}`);
    }
    for (const part of ['ln_2.weight', 'ln_2.bias', 'mlp.c_fc.weight', 'mlp.c_fc.bias', 'mlp.c_proj.weight', 'mlp.c_proj.bias']) {
      names.push(`h.${i}.${part}`);
    }
  }
  return [...names, 'ln_f.weight', 'ln_f.bias', 'lm_head.weight'];
}

function expectMatches(values: Float32Array, summary: Summary, name: string): void {
  expect(values.length, name).toBe(summary.shape.reduce((a, b) => a * b, 1));
  let sum = 0;
  let absSum = 0;
  for (const v of values) {
    sum += v;
    absSum += Math.abs(v);
  }
  expect(Math.abs(sum - summary.sum), name).toBeLessThanOrEqual(1e-9 * summary.absSum + 1e-12);
  expect(Math.abs(absSum - summary.absSum), name).toBeLessThanOrEqual(1e-9 * summary.absSum);
  for (const [index, value] of summary.samples) expect(values[index], `${name}[${index}]`).toBe(value);
}

describe.each(MODELS)('openCheckpoint($dir)', (model) => {
  let checkpoint: Checkpoint;
  beforeAll(async () => {
    checkpoint = await openCheckpoint(join(FIXTURES, model.dir));
  });
  afterAll(() => checkpoint.close());

  it('reports the format, files and GPT-2 names (no legacy buffers, lm_head present)', () => {
    expect(checkpoint.format).toBe(model.format);
    expect(checkpoint.files).toEqual(model.files.map((f) => join(FIXTURES, model.dir, f)));
    expect(checkpoint.names()).toEqual(expectedNames());
    expect(checkpoint.config.nLayer).toBe(2);
  });

  it('gives the stored dtype and HF shapes', () => {
    expect(checkpoint.info('h.1.attn.c_attn.weight')).toEqual({ dtype: model.dtype, shape: [64, 192] });
    expect(checkpoint.info('h.0.mlp.c_proj.weight')).toEqual({ dtype: model.dtype, shape: [256, 64] });
    expect(checkpoint.info('lm_head.weight')).toEqual({ dtype: model.dtype, shape: [1000, 64] });
    expect(() => checkpoint.info('h.0.attn.bias')).toThrow(/no tensor named h\.0\.attn\.bias/);
  });

  it('reads every tensor as the values the script wrote', async () => {
    for (const name of checkpoint.names()) {
      const summary = summaries[model.set][name === 'lm_head.weight' ? 'wte.weight' : name]!;
      expect(checkpoint.info(name).shape).toEqual(summary.shape);
      expectMatches(await checkpoint.readF32(name), summary, name);
    }
  });

  it('returns the raw stored bytes', async () => {
    const raw = await checkpoint.readRaw('h.0.mlp.c_fc.bias');
    expect(raw.byteLength).toBe(256 * (model.dtype === 'F32' ? 4 : 2));
    expect(toFloat32(raw, model.dtype)).toEqual(await checkpoint.readF32('h.0.mlp.c_fc.bias'));
  });
});

describe('openCheckpoint on damaged or hostile folders', () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  async function copyOf(fixture: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'tsuzuki-checkpoint-'));
    dirs.push(dir);
    await cp(join(FIXTURES, fixture), dir, { recursive: true });
    return dir;
  }
  async function editConfig(dir: string, edit: (config: Record<string, unknown>) => void): Promise<void> {
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    edit(config);
    await writeFile(join(dir, 'config.json'), JSON.stringify(config));
  }

  it.each([
    ['tiny-safetensors-fp16', 'model.safetensors'],
    ['tiny-sharded', 'model-00002-of-00002.safetensors'],
    ['tiny-pytorch-fp32', 'pytorch_model.bin'],
  ])('refuses a truncated %s/%s, naming the file and saying to download it again', async (fixture, file) => {
    const dir = await copyOf(fixture);
    const path = join(dir, file);
    await truncate(path, (await stat(path)).size - 1000);
    await expect(openCheckpoint(dir)).rejects.toMatchObject({
      code: 'corrupt_file',
      message: expect.stringMatching(new RegExp(`${path.replace(/[.]/g, '\\.')}.*truncated.*Download it again`)),
    });
  });

  it('refuses weights whose shapes disagree with config.json', async () => {
    const dir = await copyOf('tiny-safetensors-fp32');
    await editConfig(dir, (c) => (c['n_inner'] = 128));
    await expect(openCheckpoint(dir)).rejects.toMatchObject({
      code: 'corrupt_file',
      message: expect.stringContaining('tensor h.0.mlp.c_fc.weight has shape [64, 256] but config.json implies [64, 128]'),
    });
    await editConfig(dir, (c) => {
      c['n_inner'] = 256;
      c['n_layer'] = 3;
    });
    await expect(openCheckpoint(dir)).rejects.toThrow(/has no tensor h\.2\.ln_1\.weight/);
  });

  it('refuses an unsupported model_type and a missing config key', async () => {
    const dir = await copyOf('tiny-pytorch-fp16');
    await editConfig(dir, (c) => (c['model_type'] = 'gpt_neox'));
    await expect(openCheckpoint(dir)).rejects.toMatchObject({ code: 'unsupported', message: expect.stringContaining('only gpt2') });
    await editConfig(dir, (c) => {
      c['model_type'] = 'gpt2';
      delete c['n_head'];
    });
    await expect(openCheckpoint(dir)).rejects.toThrow(/lacks n_head/);
  });

  it('names a tensor the weights lack', async () => {
    const dir = await copyOf('tiny-safetensors-fp32');
    const path = join(dir, 'model.safetensors');
    const bytes = await readFile(path);
    const at = bytes.indexOf('"transformer.wte.weight"');
    bytes.write('"transformer.wtf.weight"', at);
    await writeFile(path, bytes);
    const error = await openCheckpoint(dir).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(error).toMatchObject({ code: 'corrupt_file' });
    expect(error?.message).toContain(`${path} has no tensor wte.weight. The weights do not belong to this config.json`);
  });

  it('needs a stored lm_head.weight only when embeddings are untied', async () => {
    const untiedMissing = await copyOf('tiny-pytorch-fp16');
    await editConfig(untiedMissing, (c) => (c['tie_word_embeddings'] = false));
    await expect(openCheckpoint(untiedMissing)).rejects.toThrow(/no tensor lm_head\.weight \(config\.json sets tie_word_embeddings: false/);

    const untied = await copyOf('tiny-safetensors-fp16');
    await editConfig(untied, (c) => (c['tie_word_embeddings'] = false));
    const checkpoint = await openCheckpoint(untied);
    expectMatches(await checkpoint.readF32('lm_head.weight'), summaries.half['wte.weight']!, 'lm_head.weight');
    await checkpoint.close();
  });

  it('refuses a folder without weights, naming the files it looked for', async () => {
    const dir = await copyOf('tiny-bf16');
    await unlink(join(dir, 'model.safetensors'));
    await expect(openCheckpoint(dir)).rejects.toMatchObject({
      code: 'not_found',
      message: expect.stringContaining('model.safetensors, model.safetensors.index.json, pytorch_model.bin'),
    });
  });

  it('checks a shard index against its shards', async () => {
    const dir = await copyOf('tiny-sharded');
    const indexPath = join(dir, 'model.safetensors.index.json');
    const index = JSON.parse(await readFile(indexPath, 'utf8')) as { weight_map: Record<string, string> };

    await unlink(join(dir, 'model-00002-of-00002.safetensors'));
    await expect(openCheckpoint(dir)).rejects.toMatchObject({ code: 'not_found', message: expect.stringContaining('Download all the shards') });
    await cp(join(FIXTURES, 'tiny-sharded/model-00002-of-00002.safetensors'), join(dir, 'model-00002-of-00002.safetensors'));

    const moved = { ...index.weight_map, 'transformer.ln_f.bias': 'model-00001-of-00002.safetensors' };
    await writeFile(indexPath, JSON.stringify({ weight_map: moved }));
    await expect(openCheckpoint(dir)).rejects.toThrow(/model-00001-of-00002\.safetensors holds transformer\.ln_f\.bias, but it does not/);

    await writeFile(indexPath, JSON.stringify({ weight_map: { ...index.weight_map, 'transformer.wte.weight': '../x.safetensors' } }));
    await expect(openCheckpoint(dir)).rejects.toThrow(/invalid shard name/);
    for (const shard of ['', 'model\0.safetensors', '..\\x.safetensors']) {
      await writeFile(indexPath, JSON.stringify({ weight_map: { ...index.weight_map, 'transformer.wte.weight': shard } }));
      await expect(openCheckpoint(dir)).rejects.toMatchObject({ code: 'corrupt_file', message: expect.stringContaining('invalid shard name') });
    }
    await writeFile(indexPath, '{"metadata": {}}');
    await expect(openCheckpoint(dir)).rejects.toThrow(/no weight_map/);
    await truncate(indexPath, (16 << 20) + 1);
    await expect(openCheckpoint(dir)).rejects.toMatchObject({
      code: 'corrupt_file',
      message: expect.stringContaining(`${indexPath} is ${(16 << 20) + 1} bytes, too large for a shard index`),
    });
  });

  it('reads a sharded PyTorch checkpoint (pytorch_model.bin.index.json)', async () => {
    const dir = await copyOf('tiny-pytorch-fp16');
    const shard = 'pytorch_model-00001-of-00001.bin';
    await cp(join(dir, 'pytorch_model.bin'), join(dir, shard));
    await unlink(join(dir, 'pytorch_model.bin'));
    const checkpoint = await openCheckpoint(join(FIXTURES, 'tiny-pytorch-fp16'));
    const weightMap = Object.fromEntries(checkpoint.names().slice(0, -1).map((n) => [`transformer.${n}`, shard]));
    await checkpoint.close();
    await writeFile(join(dir, 'pytorch_model.bin.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    const sharded = await openCheckpoint(dir);
    expect(sharded.format).toBe('pytorch');
    expect(sharded.files).toEqual([join(dir, 'pytorch_model.bin.index.json'), join(dir, shard)]);
    expectMatches(await sharded.readF32('h.1.mlp.c_fc.weight'), summaries.half['h.1.mlp.c_fc.weight']!, 'h.1.mlp.c_fc.weight');
    await sharded.close();
  });

  it('refuses a pytorch_model.bin whose pickle calls os.system, without running it', async () => {
    await rm(PWNED, { force: true });
    const dir = await copyOf('tiny-pytorch-fp32');
    await cp(join(FIXTURES, 'files/malicious-pytorch_model.bin'), join(dir, 'pytorch_model.bin'));
    await expect(openCheckpoint(dir)).rejects.toMatchObject({
      code: 'unsupported',
      message: expect.stringContaining('posix.system'),
    });
    expect(existsSync(PWNED)).toBe(false);
  });

  it('refuses the legacy torch format with a re-save hint', async () => {
    const dir = await copyOf('tiny-pytorch-fp16');
    await cp(join(FIXTURES, 'files/legacy-format.bin'), join(dir, 'pytorch_model.bin'));
    await expect(openCheckpoint(dir)).rejects.toMatchObject({
      code: 'unsupported',
      message: expect.stringMatching(/legacy \(pre-1\.6\) serialization.*Re-save/),
    });
  });

  it('cannot be read after close', async () => {
    const checkpoint = await openCheckpoint(join(FIXTURES, 'tiny-safetensors-fp16'));
    await checkpoint.readF32('wpe.weight');
    await checkpoint.close();
    await expect(checkpoint.readF32('wpe.weight')).rejects.toThrow(/closed/);
  });
});
