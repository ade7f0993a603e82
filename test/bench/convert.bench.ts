/**
 * `npm run bench -- convert [--precisions int4,int8,fp16,fp32] [--block-sizes 128[,32,64]] [--decode-tokens 16]
 *                           [--source <hf-dir>] [--quality] [--keep]`
 *
 * Makes (or reuses) a full-size random-weight rinna/japanese-gpt-1b checkpoint in `.cache/bench/` (fp16
 * safetensors, 24 × 2048, vocab 44928, written tensor by tensor), or uses `--source`, and converts it once per
 * precision (and block size) in a child process running `tsuzuki convert`, reporting wall and CPU time, the child's
 * peak RSS and the output size. Then it loads each converted model and times single-token decode steps with a KV
 * cache. `--quality` also reports top-1 agreement and KL divergence of each quantized model against fp32 — run it
 * with the real weights (`--source`) to choose a block size; random weights say little about that.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, open, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DecoderSession } from '../../src-main/engine/session';
import { toHalf } from '../../src-main/model/format/half';
import { DEFAULT_BLOCK_SIZE } from '../../src-main/model/convert/quantize';

const root = fileURLToPath(new URL('../../', import.meta.url));
/** Where benches keep what is slow to make (checkpoints, conversions) between runs. */
export const CACHE = join(root, '.cache/bench');

const sourceDir = join(CACHE, 'rinna-1b-random');

export const RINNA_CONFIG = {
  activation_function: 'gelu_fast',
  architectures: ['GPT2LMHeadModel'],
  bos_token_id: 1,
  eos_token_id: 2,
  pad_token_id: 3,
  layer_norm_epsilon: 1e-5,
  model_type: 'gpt2',
  n_ctx: 1024,
  n_embd: 2048,
  n_head: 16,
  n_inner: 8192,
  n_layer: 24,
  n_positions: 1024,
  vocab_size: 44928,
  torch_dtype: 'float16',
};

const log = (message: string) => process.stderr.write(`[convert bench] ${message}\n`);

export default async function (args: string[]): Promise<object> {
  const { values } = parseArgs({
    args,
    options: {
      precisions: { type: 'string', default: 'int4,int8,fp16,fp32' },
      'block-sizes': { type: 'string', default: String(DEFAULT_BLOCK_SIZE) },
      'decode-tokens': { type: 'string', default: '16' },
      source: { type: 'string' },
      quality: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
    },
  });
  const blockSizes = values['block-sizes'].split(',').map(Number);
  const precisions = values.precisions.split(',');
  // Quality is measured against fp32, so fp32 goes first.
  if (values.quality) precisions.sort((a, b) => Number(b === 'fp32') - Number(a === 'fp32'));
  if (values.quality && precisions[0] !== 'fp32') precisions.unshift('fp32');
  const variants = precisions.flatMap((precision) =>
    precision === 'int4' || precision === 'int8'
      ? blockSizes.map((blockSize) => ({ precision, blockSize, key: blockSizes.length > 1 ? `${precision}-b${blockSize}` : precision }))
      : [{ precision, blockSize: blockSizes[0]!, key: precision }],
  );
  const source = values.source ? await existingSource(values.source) : await ensureSource();
  const results: Record<string, object> = {};
  let reference: Float32Array[][] | undefined;
  for (const { precision, blockSize, key } of variants) {
    const out = join(CACHE, `out-${key}`);
    await rm(out, { recursive: true, force: true });
    log(`converting to ${key}…`);
    const run = await convertInChild(source.dir, out, precision, String(blockSize));
    const files = await folderSizes(out);
    const decode = precision === 'fp16' ? null : await timeDecode(out, Number(values['decode-tokens']));
    let quality: object | undefined;
    if (values.quality && precision !== 'fp16') {
      const logits = await qualityLogits(out);
      if (precision === 'fp32') reference = logits;
      else quality = compare(reference!, logits);
    }
    results[key] = {
      seconds: run.seconds,
      // CPU time of the converting process (all threads): what the conversion costs on an otherwise idle machine.
      cpuSeconds: run.cpuSeconds,
      peakRssMB: Math.round(run.maxRssKB / 1024),
      peakRssOverSourceMB: Math.round(run.maxRssKB / 1024 - source.bytes / 2 ** 20),
      outputMB: Math.round(Object.values(files).reduce((a, b) => a + b, 0) / 2 ** 20),
      files,
      ...(decode ? { decode } : { decode: 'skipped: fp16 is for GPU execution providers' }),
      ...(quality ? { quality } : {}),
    };
    log(`${key}: ${JSON.stringify(results[key])}`);
    if (!values.keep) await rm(out, { recursive: true, force: true });
  }
  return {
    source: { dir: source.dir, sizeMB: Math.round(source.bytes / 2 ** 20), generatedSeconds: source.seconds },
    blockSizes,
    targets: { int4Seconds: 180, peakRssOverSourceMB: 1024, int4OutputMB: 1024 },
    results,
  };
}

/** A real checkpoint folder given with `--source` (e.g. the downloaded rinna/japanese-gpt-1b). */
async function existingSource(dir: string): Promise<{ dir: string; bytes: number; seconds: null }> {
  let bytes = 0;
  for (const name of await readdir(dir)) {
    if (/\.(safetensors|bin)$/.test(name)) bytes += (await stat(join(dir, name))).size;
  }
  return { dir, bytes, seconds: null };
}

/** Logits at every position of a few fixed pseudo-random token sequences (4 × 48 tokens). */
async function qualityLogits(dir: string): Promise<Float32Array[][]> {
  const session = await DecoderSession.load(dir, { threads: 2 });
  try {
    const vocab = session.manifest.architecture.vocabSize;
    let seed = 7;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % vocab;
    const sequences = Array.from({ length: 4 }, () => Array.from({ length: 48 }, next));
    return await session.sequenceLogits(sequences, { allPositions: true });
  } finally {
    await session.release();
  }
}

/** Top-1 agreement and mean KL(fp32 ‖ candidate) over every position. */
function compare(reference: Float32Array[][], candidate: Float32Array[][]): object {
  let agree = 0;
  let kl = 0;
  let count = 0;
  reference.forEach((sequence, s) =>
    sequence.forEach((ref, t) => {
      const cand = candidate[s]![t]!;
      const p = logSoftmax(ref);
      const q = logSoftmax(cand);
      let best = 0;
      let bestCand = 0;
      let sum = 0;
      for (let i = 0; i < p.length; i++) {
        sum += Math.exp(p[i]!) * (p[i]! - q[i]!);
        if (ref[i]! > ref[best]!) best = i;
        if (cand[i]! > cand[bestCand]!) bestCand = i;
      }
      kl += sum;
      if (best === bestCand) agree++;
      count++;
    }),
  );
  return { positions: count, top1Agreement: Math.round((agree / count) * 1000) / 1000, meanKlNats: Number((kl / count).toPrecision(3)) };
}

function logSoftmax(row: Float32Array): Float64Array {
  let max = -Infinity;
  for (const v of row) max = Math.max(max, v);
  let sum = 0;
  for (const v of row) sum += Math.exp(v - max);
  const log = Math.log(sum) + max;
  return Float64Array.from(row, (v) => v - log);
}

/** The random checkpoint; written once (to a temp name, renamed when complete) and reused afterwards. */
export async function ensureSource(): Promise<{ dir: string; bytes: number; seconds: number | null }> {
  return ensureRandomCheckpoint(sourceDir, RINNA_CONFIG, 'rinna-1b');
}

/**
 * A GPT-2 checkpoint of `config`'s shape with random weights in `dir` (`model.safetensors`, F16, written once), with
 * the tokenizer fixture `nfkc.model` (2000 pieces) as its spiece.model; `config.vocab_size` must be 2000 or more.
 */
export async function ensureRandomCheckpoint(
  dir: string,
  config: typeof RINNA_CONFIG,
  label: string,
): Promise<{ dir: string; bytes: number; seconds: number | null }> {
  const file = join(dir, 'model.safetensors');
  await mkdir(dir, { recursive: true });
  // The converter parses spiece.model and checks it against vocab_size: a small real model (2000 pieces) stands in
  // for rinna's (written every time, so a source cached with an older stand-in still converts).
  await copyFile(join(root, 'test/fixtures/tokenizer/nfkc.model'), join(dir, 'spiece.model'));
  if (existsSync(file)) return { dir, bytes: (await stat(file)).size, seconds: null };
  const started = performance.now();
  log(`writing a random ${label} checkpoint to ${dir} (once)…`);
  await writeFile(join(dir, 'config.json'), JSON.stringify(config, null, 2));

  const c = config;
  const tensors: [string, number[], 'normal' | 'ones' | 'zeros'][] = [
    ['transformer.wte.weight', [c.vocab_size, c.n_embd], 'normal'],
    ['transformer.wpe.weight', [c.n_positions, c.n_embd], 'normal'],
  ];
  for (let i = 0; i < c.n_layer; i++) {
    const p = `transformer.h.${i}`;
    tensors.push(
      [`${p}.ln_1.weight`, [c.n_embd], 'ones'],
      [`${p}.ln_1.bias`, [c.n_embd], 'zeros'],
      [`${p}.attn.bias`, [1, 1, c.n_positions, c.n_positions], 'ones'], // legacy causal-mask buffer, as rinna ships
      [`${p}.attn.c_attn.weight`, [c.n_embd, 3 * c.n_embd], 'normal'],
      [`${p}.attn.c_attn.bias`, [3 * c.n_embd], 'zeros'],
      [`${p}.attn.c_proj.weight`, [c.n_embd, c.n_embd], 'normal'],
      [`${p}.attn.c_proj.bias`, [c.n_embd], 'zeros'],
      [`${p}.ln_2.weight`, [c.n_embd], 'ones'],
      [`${p}.ln_2.bias`, [c.n_embd], 'zeros'],
      [`${p}.mlp.c_fc.weight`, [c.n_embd, c.n_inner], 'normal'],
      [`${p}.mlp.c_fc.bias`, [c.n_inner], 'zeros'],
      [`${p}.mlp.c_proj.weight`, [c.n_inner, c.n_embd], 'normal'],
      [`${p}.mlp.c_proj.bias`, [c.n_embd], 'zeros'],
    );
  }
  tensors.push(['transformer.ln_f.weight', [c.n_embd], 'ones'], ['transformer.ln_f.bias', [c.n_embd], 'zeros']);

  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const [name, shape] of tensors) {
    const bytes = shape.reduce((a, b) => a * b, 1) * 2;
    header[name] = { dtype: 'F16', shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const partial = `${file}.partial`;
  const handle = await open(partial, 'w');
  try {
    const prefix = Buffer.alloc(8);
    prefix.writeBigUInt64LE(BigInt(json.length));
    await handle.write(prefix);
    await handle.write(json);
    // N(0, 0.02) values drawn from a 4096-entry table by a xorshift generator: fast, and no NaN/Inf.
    const table = normalHalfTable(4096, 0.02);
    let state = 0x9e3779b9;
    const chunk = new Uint16Array(8 << 20);
    for (const [, shape, fill] of tensors) {
      let left = shape.reduce((a, b) => a * b, 1);
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        if (fill === 'normal') {
          for (let i = 0; i < n; i++) {
            state ^= state << 13;
            state ^= state >>> 17;
            state ^= state << 5;
            chunk[i] = table[state & 4095]!;
          }
        } else {
          chunk.fill(fill === 'ones' ? 0x3c00 : 0, 0, n);
        }
        await handle.write(new Uint8Array(chunk.buffer, 0, n * 2));
        left -= n;
      }
    }
  } finally {
    await handle.close();
  }
  await rename(partial, file);
  const seconds = Math.round((performance.now() - started) / 100) / 10;
  log(`checkpoint written in ${seconds} s`);
  return { dir, bytes: (await stat(file)).size, seconds };
}

function normalHalfTable(size: number, std: number): Uint16Array {
  let seed = 12345;
  const uniform = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) + 0.5) / 4294967296;
  return Uint16Array.from({ length: size }, () => {
    const gaussian = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
    return toHalf(gaussian * std);
  });
}

/** `tsuzuki convert` in a fresh Node process (the command's own code path), reporting its peak RSS. */
export function convertInChild(
  src: string,
  out: string,
  precision: string,
  blockSize: string,
  extra: string[] = [],
): Promise<{ seconds: number; cpuSeconds: number; maxRssKB: number }> {
  const script = `
    const { convert } = await import(${JSON.stringify(join(root, 'src-main/cli/commands/convert.ts'))});
    const code = await convert.run(${JSON.stringify([src, out, '--precision', precision, '--block-size', blockSize, ...extra])});
    const usage = process.resourceUsage();
    process.stderr.write('MAXRSS ' + usage.maxRSS + ' CPU ' + (usage.userCPUTime + usage.systemCPUTime) + '\\n');
    process.exitCode = code;`;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { cwd: root, maxBuffer: 64 << 20 },
      (error, _stdout, stderr) => {
        if (error) return reject(new Error(`convert ${precision} failed: ${stderr.slice(-2000)}`));
        const usage = /MAXRSS (\d+) CPU (\d+)/.exec(stderr);
        resolve({
          seconds: Math.round((performance.now() - started) / 100) / 10,
          cpuSeconds: Math.round(Number(usage?.[2] ?? NaN) / 1e5) / 10,
          maxRssKB: Number(usage?.[1] ?? NaN),
        });
      },
    );
  });
}

async function folderSizes(dir: string): Promise<Record<string, number>> {
  const sizes: Record<string, number> = {};
  for (const name of await readdir(dir)) sizes[name] = (await stat(join(dir, name))).size;
  return sizes;
}

/**
 * One-token decode steps after a 32-token prefill, batch 1: median and fastest wall ms with 2 intra-op threads, and
 * the median CPU ms of a step on 1 thread (what a step costs regardless of other load on the machine).
 */
async function timeDecode(dir: string, steps: number): Promise<object> {
  const rssBefore = process.memoryUsage().rss;
  const twoThreads = await runDecode(dir, 2, steps);
  const loadSeconds = Math.round(twoThreads.loadMs / 100) / 10;
  const sessionRssMB = Math.round((twoThreads.rss - rssBefore) / 2 ** 20);
  const oneThread = await runDecode(dir, 1, steps);
  const round = (ms: number) => Math.round(ms * 10) / 10;
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return {
    loadSeconds,
    sessionRssMB,
    prefill32Ms: Math.round(twoThreads.prefillMs),
    decodeMsPerToken: round(median(twoThreads.wall)),
    decodeMsPerTokenMin: round(Math.min(...twoThreads.wall)),
    tokensPerSecond: Math.round(10000 / median(twoThreads.wall)) / 10,
    decodeCpuMsPerToken1Thread: round(median(oneThread.cpu)),
  };
}

async function runDecode(dir: string, threads: number, steps: number) {
  const t0 = performance.now();
  const session = await DecoderSession.load(dir, { threads });
  const loadMs = performance.now() - t0;
  const rss = process.memoryUsage().rss;
  try {
    const vocab = session.manifest.architecture.vocabSize;
    const prompt = Array.from({ length: 32 }, (_, i) => (i * 7919) % vocab);
    const prefillStart = performance.now();
    let step = await session.forward({ ids: [prompt], attentionMask: [prompt.map(() => 1)], positionIds: [prompt.map((_, i) => i)] });
    const prefillMs = performance.now() - prefillStart;
    const wall: number[] = [];
    const cpu: number[] = [];
    let length = prompt.length;
    for (let i = 0; i < steps; i++) {
      const c0 = process.cpuUsage();
      const w0 = performance.now();
      step = await session.forward({
        ids: [[(i * 31) % vocab]],
        attentionMask: [Array<number>(length + 1).fill(1)],
        positionIds: [[length]],
        cache: step.cache,
      });
      wall.push(performance.now() - w0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
      length++;
    }
    return { loadMs, rss, prefillMs, wall, cpu };
  } finally {
    await session.release();
  }
}
