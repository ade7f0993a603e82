import { cp, mkdir, mkdtemp, readFile, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecoderSession, leftPadBatch } from '../../../src-main/engine/session';
import type { KvCache } from '../../../src-main/engine/kv-cache';
import { openCheckpoint } from '../../../src-main/model/format/checkpoint';
import { convertCheckpoint } from '../../../src-main/model/convert/convert';
import { convertInWorker } from '../../../src-main/model/convert/convert-job';
import { decodeModel } from '../../../src-main/model/convert/onnx-proto';
import { TsuzukiError } from '../../../src-main/contract/errors';
import { FIXTURES, argmax, golden, klDivergence, maxAbsDiff } from './golden';
import { referenceLogits } from './reference';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'tsuzuki-convert-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const convert = (fixture: string, name: string, precision: 'fp32' | 'fp16' | 'int8' | 'int4', blockSize = 32, tableBlockSize?: number) =>
  convertCheckpoint(join(FIXTURES, fixture), join(tmp, name), { precision, blockSize, ...(tableBlockSize ? { tableBlockSize } : {}) });

/** The tiny fixture made `width` wide (zero weights, 2 heads): a sound checkpoint whose width 16 does not divide. */
async function narrowCheckpoint(dir: string, width: number): Promise<string> {
  const from = join(FIXTURES, 'tiny-safetensors-fp32');
  await cp(from, dir, { recursive: true });
  const config = JSON.parse(await readFile(join(from, 'config.json'), 'utf8'));
  await writeFile(join(dir, 'config.json'), JSON.stringify({ ...config, n_embd: width, n_head: 2, n_inner: 4 * width }));
  const file = await readFile(join(from, 'model.safetensors'));
  const header = JSON.parse(file.subarray(8, 8 + Number(file.readBigUInt64LE(0))).toString('utf8')) as Record<string, { shape?: number[] }>;
  const resize = (d: number) => (d === 64 ? width : d === 192 ? 3 * width : d);
  let offset = 0;
  for (const [name, entry] of Object.entries(header)) {
    if (!entry.shape) continue;
    entry.shape = entry.shape.map((d, i) => (d === 256 && name.includes('.mlp.') ? 4 * width : i === 0 && name.endsWith('wpe.weight') ? d : resize(d)));
    const bytes = entry.shape.reduce((a, b) => a * b, 4);
    Object.assign(entry, { data_offsets: [offset, offset + bytes] });
    offset += bytes;
  }
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  await writeFile(join(dir, 'model.safetensors'), Buffer.concat([length, json, Buffer.alloc(offset)]));
  return dir;
}

/** Each golden sequence alone: logits at every position. */
async function allPositionLogits(session: DecoderSession): Promise<Float32Array[][]> {
  const out: Float32Array[][] = [];
  for (const entry of golden.weights.fp32) out.push((await session.sequenceLogits([entry.ids], { allPositions: true }))[0]!);
  return out;
}

describe.each(Object.entries(golden.models))('fp32 conversion of %s', (fixture, weightSet) => {
  it('matches the float64 reference within 1e-4 (last and every position)', async () => {
    await convert(fixture, `${fixture}-fp32`, 'fp32');
    const session = await DecoderSession.load(join(tmp, `${fixture}-fp32`));
    try {
      for (const entry of golden.weights[weightSet]) {
        const rows = (await session.sequenceLogits([entry.ids], { allPositions: true }))[0]!;
        expect(maxAbsDiff(rows.at(-1)!, entry.logits)).toBeLessThan(1e-4);
        entry.allLogits?.forEach((row, t) => expect(maxAbsDiff(rows[t]!, row)).toBeLessThan(1e-4));
      }
    } finally {
      await session.release();
    }
  });
});

describe('activations other than gelu_fast', () => {
  const ids = golden.weights.fp32[3]!.ids;

  it('the float64 reference used here agrees with the golden logits for gelu_fast', async () => {
    const checkpoint = await openCheckpoint(join(FIXTURES, 'tiny-safetensors-fp32'));
    const rows = await referenceLogits(checkpoint, ids);
    await checkpoint.close();
    expect(maxAbsDiff(rows.at(-1)!, golden.weights.fp32[3]!.logits)).toBeLessThan(1e-5);
  });

  it.each(['gelu', 'relu', 'gelu_new'])('%s: fp32 logits within 1e-4 of the float64 reference', async (activation) => {
    const src = join(tmp, `act-${activation}`);
    await cp(join(FIXTURES, 'tiny-safetensors-fp32'), src, { recursive: true });
    const config = JSON.parse(await readFile(join(src, 'config.json'), 'utf8'));
    await writeFile(join(src, 'config.json'), JSON.stringify({ ...config, activation_function: activation }));
    await convertCheckpoint(src, join(src, 'onnx'), { precision: 'fp32', blockSize: 32 });
    const checkpoint = await openCheckpoint(src);
    const expected = await referenceLogits(checkpoint, ids);
    await checkpoint.close();
    const session = await DecoderSession.load(join(src, 'onnx'));
    const rows = (await session.sequenceLogits([ids], { allPositions: true }))[0]!;
    await session.release();
    rows.forEach((row, t) => expect(maxAbsDiff(row, expected[t]!)).toBeLessThan(1e-4));
  });
});

describe('one fp32 decoder graph', () => {
  let session: DecoderSession;
  beforeAll(async () => {
    await convert('tiny-safetensors-fp32', 'graph-fp32', 'fp32');
    session = await DecoderSession.load(join(tmp, 'graph-fp32'), { threads: 1 });
  });
  afterAll(() => session.release());

  it('gives the same logits for prefill-then-decode as for one full pass', async () => {
    const ids = golden.weights.fp32[1]!.ids;
    const full = (await session.sequenceLogits([ids], { allPositions: true }))[0]!;
    const prefill = 5;
    let step = await session.forward({
      ids: [ids.slice(0, prefill)],
      attentionMask: [Array<number>(prefill).fill(1)],
      positionIds: [ids.slice(0, prefill).map((_, i) => i)],
    });
    expect(step.cache.length).toBe(prefill);
    for (let t = prefill; t < ids.length; t++) {
      step = await session.forward({ ids: [[ids[t]!]], attentionMask: [Array<number>(t + 1).fill(1)], positionIds: [[t]], cache: step.cache });
      expect(maxAbsDiff(step.logits, full[t]!)).toBeLessThan(1e-4);
    }
  });

  it('gives each sequence of a left-padded batch of 2 the logits it has alone, in prefill and decode', async () => {
    const [a, b] = [golden.weights.fp32[3]!.ids, golden.weights.fp32[2]!.ids]; // 9 and 4 tokens
    const aloneA = (await session.sequenceLogits([[...a, 11, 12]], { allPositions: true }))[0]!;
    const aloneB = (await session.sequenceLogits([[...b, 11, 12]], { allPositions: true }))[0]!;
    const batch = leftPadBatch([a, b]);
    let step = await session.forward(batch);
    const vocab = step.dims[2];
    const width = a.length;
    const row = (logits: Float32Array, r: number, t: number, seq: number) => logits.slice((r * seq + t) * vocab, (r * seq + t + 1) * vocab);
    for (let t = 0; t < a.length; t++) expect(maxAbsDiff(row(step.logits, 0, t, width), aloneA[t]!)).toBeLessThan(1e-4);
    for (let t = 0; t < b.length; t++) {
      expect(maxAbsDiff(row(step.logits, 1, width - b.length + t, width), aloneB[t]!)).toBeLessThan(1e-4);
    }
    // Two decode steps on the padded batch (the mask keeps its padding zeros).
    const mask = batch.attentionMask.map((m) => [...m]);
    const next = [a.length, b.length];
    for (const token of [11, 12]) {
      mask.forEach((m) => m.push(1));
      step = await session.forward({ ids: [[token], [token]], attentionMask: mask, positionIds: [[next[0]!], [next[1]!]], cache: step.cache });
      expect(maxAbsDiff(row(step.logits, 0, 0, 1), aloneA[next[0]!]!)).toBeLessThan(1e-4);
      expect(maxAbsDiff(row(step.logits, 1, 0, 1), aloneB[next[1]!]!)).toBeLessThan(1e-4);
      next[0]!++;
      next[1]!++;
    }
  });
});

describe('reduced precisions', () => {
  let reference: Float32Array[][];
  beforeAll(async () => {
    await convert('tiny-safetensors-fp32', 'ref-fp32', 'fp32');
    const session = await DecoderSession.load(join(tmp, 'ref-fp32'));
    reference = await allPositionLogits(session);
    await session.release();
  });

  it('fp16 (from fp16 weights) is within 2e-2 of the reference, with fp16 KV tensors', async () => {
    const manifest = await convert('tiny-safetensors-fp16', 'fp16', 'fp16');
    expect(manifest.kvType).toBe('float16');
    const session = await DecoderSession.load(join(tmp, 'fp16'));
    try {
      for (const entry of golden.weights.half) {
        const rows = await session.sequenceLogits([entry.ids]);
        expect(maxAbsDiff(rows[0]![0]!, entry.logits)).toBeLessThan(2e-2);
      }
      const step = await session.forward(leftPadBatch([[5, 6, 7]]));
      const cache = step.cache as KvCache;
      expect(cache.length).toBe(3);
      expect(cache.type).toBe('float16');
      expect(cache.layers[0]!.key).toBeInstanceOf(Uint16Array);
    } finally {
      await session.release();
    }
  });

  // Bounds sized for the tiny random fixture (64-wide rows quantize far worse than a trained 2048-wide model);
  // a wrong packing or layout gives top-1 near chance (1/1000) and KL of several nats. The measured values are kept
  // as the test's annotation (shown with a failure and by the verbose reporter), not printed into a passing run.
  it.for([
    ['int8', 32, 32, 0.8, 0.05],
    ['int4', 32, 32, 0.3, 2.0],
    ['int4', 16, 16, 0.3, 2.0],
    // One block per row: the embedding's zero points are repacked for GatherBlockQuantized's uint4 (see weights.ts).
    ['int4', 64, 64, 0.3, 2.0],
    // The default token table of blocks of 32 under other matrices' blocks of 64.
    ['int4', 64, 32, 0.3, 2.0],
  ] as const)('%s block %i, token table %i: top-1 agreement and KL against fp32', async ([precision, blockSize, tableBlockSize, minTop1, maxKl], { annotate }) => {
    const name = `${precision}-${blockSize}-${tableBlockSize}`;
    const manifest = await convert('tiny-safetensors-fp32', name, precision, blockSize, tableBlockSize === 32 && blockSize > 32 ? undefined : tableBlockSize);
    expect(manifest.blockSize).toBe(blockSize);
    expect(manifest.quantization?.tableBlockSize).toBe(tableBlockSize);
    const session = await DecoderSession.load(join(tmp, name));
    const rows = await allPositionLogits(session);
    await session.release();
    let agree = 0;
    let kl = 0;
    let n = 0;
    rows.forEach((seq, i) =>
      seq.forEach((row, t) => {
        n++;
        if (argmax(row) === argmax(reference[i]![t]!)) agree++;
        kl += klDivergence(reference[i]![t]!, row);
      }),
    );
    await annotate(`top-1 agreement ${(agree / n).toFixed(3)}, mean KL ${(kl / n).toFixed(4)} nats over ${n} positions`);
    expect(agree / n).toBeGreaterThan(minTop1);
    expect(kl / n).toBeLessThan(maxKl);
  });
});

describe('the output folder', () => {
  it('holds model.onnx, runtime.onnx, device.onnx, their one data file, spiece.model and a manifest with the sha256 of every file', async () => {
    const manifest = await convert('tiny-pytorch-fp16', 'manifest-int4', 'int4');
    const out = join(tmp, 'manifest-int4');
    expect((await readdir(out)).sort()).toEqual(['device.onnx', 'model.onnx', 'model.onnx.data', 'runtime.onnx', 'spiece.model', 'tsuzuki.json']);
    expect(JSON.parse(await readFile(join(out, 'tsuzuki.json'), 'utf8'))).toEqual(manifest);
    expect(manifest).toMatchObject({
      precision: 'int4',
      blockSize: 32,
      kvType: 'float32',
      architecture: { modelType: 'gpt2', nLayer: 2, nHead: 4, headDim: 16, nEmbd: 64, vocabSize: 1000, activation: 'gelu_fast' },
      specialTokens: { bos: 2, eos: 3 },
      source: { format: 'pytorch' },
    });
    expect(manifest.io.inputs).toEqual([
      'input_ids', 'attention_mask', 'position_ids',
      'past_key_values.0.key', 'past_key_values.0.value', 'past_key_values.1.key', 'past_key_values.1.value',
    ]);
    expect(manifest.io.outputs).toEqual(['logits', 'present.0.key', 'present.0.value', 'present.1.key', 'present.1.value']);
    expect(manifest.deviceGraph).toEqual({
      file: 'device.onnx',
      io: {
        inputs: ['input_ids', 'seqlens_k', 'total_sequence_length', 'logits_to_keep', ...manifest.io.inputs.slice(3)],
        outputs: manifest.io.outputs,
      },
    });
    const sha = async (file: string) => createHash('sha256').update(await readFile(file)).digest('hex');
    for (const [name, entry] of Object.entries(manifest.files.outputs)) expect(entry.sha256).toBe(await sha(join(out, name)));
    expect(Object.keys(manifest.files.inputs).sort()).toEqual(['config.json', 'pytorch_model.bin', 'spiece.model']);
    for (const [name, entry] of Object.entries(manifest.files.inputs)) {
      expect(entry.sha256).toBe(await sha(join(FIXTURES, 'tiny-pytorch-fp16', name)));
    }
    // Weights live only in the data file, written once; both graphs' initializers point into it.
    type Graph = { graph: { input: { name: string }[]; output: { name: string }[]; initializer: { name: string; external_data?: { key: string; value: string }[] }[] } };
    const [optimum, runtime] = await Promise.all(['model.onnx', 'runtime.onnx'].map(async (f) => decodeModel(await readFile(join(out, f))) as Graph));
    const external = optimum!.graph.initializer.filter((t) => t.external_data);
    expect(external.length).toBeGreaterThan(20);
    for (const t of external) expect(t.external_data).toContainEqual({ key: 'location', value: 'model.onnx.data' });
    const runtimeExternal = runtime!.graph.initializer.filter((t) => t.external_data);
    expect(runtimeExternal.map((t) => [t.name, t.external_data])).toEqual(external.map((t) => [t.name, t.external_data]));
    expect(runtime!.graph.input.map((i) => i.name)).toEqual([
      'input_ids', 'attention_mask', 'position_ids', 'logits_to_keep',
      'shared.0.key', 'shared.0.value', 'shared.1.key', 'shared.1.value', 'past.0.key', 'past.0.value', 'past.1.key', 'past.1.value',
    ]);
    expect(runtime!.graph.output.map((o) => o.name)).toEqual(['logits', 'new.0.key', 'new.0.value', 'new.1.key', 'new.1.value']);
    for (const f of ['model.onnx', 'runtime.onnx']) expect((await readFile(join(out, f))).length).toBeLessThan(100_000);
  });

  it('records the hub repo and commit of a Hugging Face cache snapshot, and refuses a damaged manifest', async () => {
    const commit = 'a'.repeat(40);
    const snapshot = join(tmp, 'hub', 'models--rinna--tiny-gpt2', 'snapshots', commit);
    await cp(join(FIXTURES, 'tiny-safetensors-fp16'), snapshot, { recursive: true });
    const out = join(tmp, 'from-hub');
    const manifest = await convertCheckpoint(snapshot, out, { precision: 'fp16', blockSize: 32 });
    expect(manifest.source).toEqual({ format: 'safetensors', repo: 'rinna/tiny-gpt2', revision: commit });
    await writeFile(join(out, 'tsuzuki.json'), JSON.stringify({ ...manifest, precision: 'int3' }));
    await expect(DecoderSession.load(out)).rejects.toMatchObject({ code: 'corrupt_file' });
    // A folder an older Tsuzuki converted (another runtime graph) is named as such.
    await writeFile(join(out, 'tsuzuki.json'), JSON.stringify({ ...manifest, formatVersion: manifest.formatVersion - 1 }));
    await expect(DecoderSession.load(out)).rejects.toThrow(/older Tsuzuki.*Convert the model again/);
    await writeFile(join(out, 'tsuzuki.json'), JSON.stringify(manifest));
    await truncate(join(out, 'model.onnx.data'), 1000);
    await expect(DecoderSession.load(out)).rejects.toMatchObject({ code: 'corrupt_file', message: expect.stringMatching(/model\.onnx\.data: size 1000, .*Download or convert it again/) });
  });

  it('is never left half-written: a truncated weight file fails with corrupt_file and leaves nothing', async () => {
    const src = join(tmp, 'truncated-src');
    await cp(join(FIXTURES, 'tiny-safetensors-fp32'), src, { recursive: true });
    await truncate(join(src, 'model.safetensors'), 500_000);
    const parent = join(tmp, 'truncated-parent');
    const error = await convertCheckpoint(src, join(parent, 'out'), { precision: 'int4', blockSize: 32 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TsuzukiError);
    expect((error as TsuzukiError).code).toBe('corrupt_file');
    expect((error as Error).message).toContain('model.safetensors');
    expect(await readdir(parent).catch(() => [])).toEqual([]);
  });

  it('refuses weights whose shapes do not match config.json, and an unsupported architecture, leaving nothing', async () => {
    const src = join(tmp, 'mismatch-src');
    await cp(join(FIXTURES, 'tiny-safetensors-fp32'), src, { recursive: true });
    const config = JSON.parse(await readFile(join(src, 'config.json'), 'utf8'));
    await writeFile(join(src, 'config.json'), JSON.stringify({ ...config, n_inner: 128 }));
    const parent = join(tmp, 'mismatch-parent');
    await expect(convertCheckpoint(src, join(parent, 'out'), { precision: 'fp32', blockSize: 32 })).rejects.toThrow(/shape/);
    await writeFile(join(src, 'config.json'), JSON.stringify({ ...config, model_type: 'gpt_neox' }));
    await expect(convertCheckpoint(src, join(parent, 'out'), { precision: 'fp32', blockSize: 32 })).rejects.toThrow(/gpt2/);
    expect(await readdir(parent).catch(() => [])).toEqual([]);
  });

  it('does not overwrite a non-empty folder, and rejects block sizes it cannot use', async () => {
    const out = join(tmp, 'occupied');
    await cp(join(FIXTURES, 'tiny-sharded'), out, { recursive: true });
    const before = (await readdir(out)).sort();
    await expect(convert('tiny-sharded', 'occupied', 'fp32')).rejects.toThrow(/already exists/);
    expect((await readdir(out)).sort()).toEqual(before);
    // An empty folder is fine (and is kept when the conversion fails).
    await mkdir(join(tmp, 'empty'));
    await expect(convert('tiny-sharded', 'empty', 'int4', 128)).rejects.toThrow(/n_embd/);
    expect(await readdir(join(tmp, 'empty'))).toEqual([]);
    await convert('tiny-sharded', 'empty', 'int4', 64);
    expect(await readdir(join(tmp, 'empty'))).toContain('tsuzuki.json');
    await expect(convert('tiny-sharded', 'bad-block', 'int4', 48)).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(convert('tiny-sharded', 'bad-block', 'int4', 128)).rejects.toThrow(/n_embd/);
    await expect(convert('tiny-sharded', 'bad-block', 'int4', 64, 48)).rejects.toMatchObject({ code: 'invalid_argument', message: expect.stringMatching(/^--table-block-size/) });
    await expect(convert('tiny-sharded', 'bad-block', 'int4', 64, 128)).rejects.toThrow(/--table-block-size 128 must divide the model's width/);
    expect((await readdir(tmp)).filter((n) => n.includes('bad-block'))).toEqual([]);
  });

  it('a width no block size divides is refused as unsupported (no --block-size to blame), before anything is written', async () => {
    const src = await narrowCheckpoint(join(tmp, 'narrow-src'), 24);
    const parent = join(tmp, 'narrow-parent');
    const error = await convertCheckpoint(src, join(parent, 'int4'), { precision: 'int4' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'unsupported', message: expect.stringMatching(/24 wide\. Convert it as fp16 or fp32/) });
    expect((error as Error).message).not.toContain('--block-size');
    await expect(convertCheckpoint(src, join(parent, 'int8'), { precision: 'int8', blockSize: 16 })).rejects.toMatchObject({
      code: 'invalid_argument',
      message: expect.stringMatching(/^--block-size 16 must divide the model's width \(n_embd 24\)/),
    });
    expect(await readdir(parent).catch(() => [])).toEqual([]);
    // The checkpoint itself is sound: it converts at a precision that needs no blocks.
    await convertCheckpoint(src, join(parent, 'fp32'), { precision: 'fp32' });
    expect(await readdir(parent)).toEqual(['fp32']);
  });

  it('picks the block size from the model width when none is given', async () => {
    const manifest = await convertCheckpoint(join(FIXTURES, 'tiny-sharded'), join(tmp, 'default-block'), { precision: 'int4' });
    expect(manifest.blockSize).toBe(64); // n_embd 64: the default 128 does not divide it
    expect(manifest.quantization).toEqual({ scales: 'fitted', tableBlockSize: 32, calibrationTokens: 0 });
  });
});

describe('conversion in the worker thread', () => {
  it('reports progress and returns the manifest', async () => {
    const phases = new Set<string>();
    let lastDone = 0;
    const manifest = await convertInWorker(join(FIXTURES, 'tiny-bf16'), join(tmp, 'worker-int8'), {
      precision: 'int8',
      blockSize: 32,
      onProgress: (p) => {
        phases.add(p.phase);
        if (p.phase === 'converting') lastDone = p.done;
      },
    });
    expect(manifest.precision).toBe('int8');
    expect([...phases]).toEqual(['hashing', 'converting', 'finishing']);
    expect(lastDone).toBe(2 + 2 * 12 + 2); // wte, wpe, 12 per layer, ln_f (lm_head is tied)
  });

  it('stops when aborted and leaves no output', async () => {
    const controller = new AbortController();
    const done = convertInWorker(join(FIXTURES, 'tiny-safetensors-fp32'), join(tmp, 'aborted', 'out'), {
      precision: 'int4',
      blockSize: 32,
      onProgress: () => controller.abort(),
      signal: controller.signal,
    });
    await expect(done).rejects.toMatchObject({ code: 'cancelled' });
    expect(await readdir(join(tmp, 'aborted')).catch(() => [])).toEqual([]);
  });
});
