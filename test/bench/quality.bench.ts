/**
 * `npm run bench -- quality [--speed] [--decode-steps 32]`
 *
 * What int4 costs in quality, on the GPT-2 trained on Japanese text (test/fixtures/quality): converts it to fp32,
 * int8 and int4 at blocks of 32 and 128 — `range` scales with the token table in the same blocks (the converter's
 * int4 before scale search), `fitted` scales (the default: the token table in blocks of 32), `fitted` with the table
 * in the same blocks, and `fitted` with activation weights — and reports mean KL from fp32, perplexity and top-1 agreement
 * over the held-out windows, beside the oracle's llama.cpp-style references for the same weights (reference.json:
 * Q4_0, Q4_K, symmetric absmax/7 at 128). `klVsQ4_0` and `klVsQ4_K` are the KL ratios.
 *
 * `--speed` also converts the full-size random rinna-1b checkpoint (the convert bench's) to int4 block 128 as before
 * scale search and as now by default, reporting each conversion's time, then times both models' prefill of 512
 * tokens and decode steps on 2 threads, alternating between them, in this one run (see `speed`).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DecoderSession } from '../../src-main/engine/session';
import { CONVERTER, convertCheckpoint, type ConvertOptions } from '../../src-main/model/convert/convert';
import { readManifest } from '../../src-main/model/format/manifest';
import { QUALITY_MODEL, qualityReference, scoreLogits, windowLogits, type Scores } from '../helpers/quality';
import { CACHE, convertInChild, ensureSource } from './convert.bench';

const log = (message: string) => process.stderr.write(`[quality bench] ${message}\n`);

const VARIANTS: [string, ConvertOptions][] = [
  ['int8-b128', { precision: 'int8', blockSize: 128 }],
  ...[32, 128].flatMap((blockSize): [string, ConvertOptions][] => [
    [`int4-range-b${blockSize}`, { precision: 'int4', blockSize, tableBlockSize: blockSize, scales: 'range' }],
    // At 32 the table is in blocks of 32 anyway.
    ...(blockSize > 32 ? [[`int4-fitted-table${blockSize}-b${blockSize}`, { precision: 'int4', blockSize, tableBlockSize: blockSize }] as [string, ConvertOptions]] : []),
    [`int4-fitted-b${blockSize}`, { precision: 'int4', blockSize }],
    [`int4-fitted-weighted-b${blockSize}`, { precision: 'int4', blockSize, activationWeights: true }],
  ]),
];

export default async function (args: string[]): Promise<object> {
  const { values } = parseArgs({ args, options: { speed: { type: 'boolean', default: false }, 'decode-steps': { type: 'string', default: '32' } } });
  const tmp = await mkdtemp(join(tmpdir(), 'tsuzuki-quality-'));
  try {
    await convertCheckpoint(QUALITY_MODEL, join(tmp, 'fp32'), { precision: 'fp32' });
    const fp32 = await windowLogits(join(tmp, 'fp32'));
    const { q4_0, q4_k } = qualityReference;
    const row = (s: Scores) => ({
      meanKl: Number(s.meanKl.toPrecision(4)),
      perplexity: Number(s.perplexity.toPrecision(5)),
      perplexityVsFp32: Number((s.perplexity / qualityReference.fp32.perplexity).toFixed(4)),
      top1Agreement: Number(s.top1Agreement.toFixed(4)),
      klVsQ4_0: Number((s.meanKl / q4_0.meanKl).toFixed(3)),
      klVsQ4_K: Number((s.meanKl / q4_k.meanKl).toFixed(3)),
    });
    const results: Record<string, object> = { fp32: row(scoreLogits(fp32, fp32)) };
    for (const [key, options] of VARIANTS) {
      const started = performance.now();
      const manifest = await convertCheckpoint(QUALITY_MODEL, join(tmp, key), options);
      const seconds = Math.round(performance.now() - started) / 1000;
      results[key] = { ...row(scoreLogits(fp32, await windowLogits(join(tmp, key)))), convertSeconds: seconds, quantization: manifest.quantization };
      log(`${key}: ${JSON.stringify(results[key])}`);
    }
    return {
      fixture: { dir: QUALITY_MODEL, windows: qualityReference.windows.length, tokensPerWindow: qualityReference.windows[0]!.length },
      targets: { int4B128KlVsQ4_0: 1, int4B128PerplexityVsFp32: 1.02, speedRatio: [0.97, 1.03], convert13bSeconds: 600 },
      oracle: { 'q4_0-b32': row(q4_0), 'q4_k-b256': row(q4_k), 'absmax7-b128': row(qualityReference.absmax7_b128) },
      results,
      ...(values.speed ? { speed: await speed(Number(values['decode-steps'])) } : {}),
    };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

const ROUNDS = 6;

/**
 * Old and new int4 on the full-size model: conversion time (each kept in `.cache/bench/` and reused while the converter
 * is unchanged), then prefill and decode speed, alternating between the two models round by round.
 */
async function speed(steps: number): Promise<object> {
  const source = await ensureSource();
  const models = [
    { key: 'int4-range-b128', extra: ['--scales', 'range', '--table-block-size', '128'] },
    { key: 'int4-fitted-b128', extra: [] },
  ];
  const conversions: Record<string, object> = {};
  for (const { key, extra } of models) {
    const dir = join(CACHE, `quality-${key}`);
    const manifest = await readManifest(dir).catch(() => null);
    if (manifest?.converter === CONVERTER) {
      conversions[key] = { reused: dir };
      continue;
    }
    await rm(dir, { recursive: true, force: true });
    log(`converting rinna-1b (random weights) to ${key}…`);
    const run = await convertInChild(source.dir, dir, 'int4', '128', extra);
    conversions[key] = { seconds: run.seconds, cpuSeconds: run.cpuSeconds, peakRssMB: Math.round(run.maxRssKB / 1024) };
    log(`${key}: ${JSON.stringify(conversions[key])}`);
  }
  // One model loaded at a time (an idle onnxruntime session's threads spin and slow the other), in the order
  // A B B A A B B A…, so neither always goes first and drift in the machine's speed falls on both alike.
  const samples = models.map(() => ({ prefill: [] as number[], decode: [] as number[] }));
  for (let round = 0; round < ROUNDS; round++) {
    for (const m of round % 2 === 0 ? [0, 1] : [1, 0]) {
      const timing = await timeModel(join(CACHE, `quality-${models[m]!.key}`), steps);
      samples[m]!.prefill.push(timing.prefillMs);
      samples[m]!.decode.push(...timing.decodeMs);
      log(`${models[m]!.key} round ${round}: prefill ${timing.prefillMs.toFixed(0)} ms, decode ${(timing.decodeMs.reduce((x, y) => x + y, 0) / steps).toFixed(1)} ms`);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const summary = samples.map((s) => ({ prefill512Ms: Math.round(median(s.prefill)), decodeMsPerToken: Math.round(median(s.decode) * 10) / 10 }));
  // Each round's two models ran back to back: their ratio is what drift over the run disturbs least.
  const paired = (pick: (s: (typeof samples)[number], round: number) => number) =>
    Number(median(Array.from({ length: ROUNDS }, (_, r) => pick(samples[1]!, r) / pick(samples[0]!, r))).toFixed(3));
  const roundDecode = (s: (typeof samples)[number], r: number) => median(s.decode.slice(r * steps, (r + 1) * steps));
  return {
    conversions,
    threads: 2,
    rounds: ROUNDS,
    decodeStepsPerRound: steps,
    models: Object.fromEntries(models.map(({ key }, m) => [key, summary[m]])),
    ratioNewOverOld: {
      prefill512: Number((summary[1]!.prefill512Ms / summary[0]!.prefill512Ms).toFixed(3)),
      decode: Number((summary[1]!.decodeMsPerToken / summary[0]!.decodeMsPerToken).toFixed(3)),
    },
    medianRoundRatioNewOverOld: { prefill512: paired((s, r) => s.prefill[r]!), decode: paired(roundDecode) },
  };
}

/**
 * The fastest of three prefills of 512 tokens, then `steps` single-token decode steps after a 32-token prompt, 2 threads;
 * a warm-up first.
 */
async function timeModel(dir: string, steps: number): Promise<{ prefillMs: number; decodeMs: number[] }> {
  const session = await DecoderSession.load(dir, { threads: 2 });
  try {
    const vocab = session.manifest.architecture.vocabSize;
    const prompt = (length: number) => Array.from({ length }, (_, i) => (i * 7919 + 11) % vocab);
    const run = (ids: number[], cache?: Awaited<ReturnType<DecoderSession['forward']>>['cache'], past = 0) =>
      session.forward({ ids: [ids], attentionMask: [Array<number>(past + ids.length).fill(1)], positionIds: [ids.map((_, i) => past + i)], ...(cache ? { cache } : {}) });
    await run(prompt(32));
    let started = 0;
    let prefillMs = Infinity;
    for (let i = 0; i < 3; i++) {
      started = performance.now();
      await run(prompt(512));
      prefillMs = Math.min(prefillMs, performance.now() - started);
    }
    let step = await run(prompt(32));
    const decodeMs: number[] = [];
    for (let i = 0; i < steps; i++) {
      started = performance.now();
      step = await run([(i * 31) % vocab], step.cache, 32 + i);
      decodeMs.push(performance.now() - started);
    }
    return { prefillMs, decodeMs };
  } finally {
    await session.release();
  }
}
