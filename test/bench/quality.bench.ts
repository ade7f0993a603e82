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
 * tokens and decode steps on 2 threads, alternating between them, in this one run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DecoderSession } from '../../src-main/engine/session';
import { convertCheckpoint, type ConvertOptions } from '../../src-main/model/convert/convert';
import { QUALITY_MODEL, qualityReference, scoreLogits, windowLogits, type Scores } from '../helpers/quality';
import { convertInChild, ensureSource } from './convert.bench';

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
      ...(values.speed ? { speed: await speed(tmp, Number(values['decode-steps'])) } : {}),
    };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Old and new int4 scales on the full-size model: conversion time, then prefill and decode speed, interleaved. */
async function speed(tmp: string, steps: number): Promise<object> {
  const source = await ensureSource();
  const models = [
    { key: 'int4-range-b128', extra: ['--scales', 'range', '--table-block-size', '128'] },
    { key: 'int4-fitted-b128', extra: [] },
  ];
  const conversions: Record<string, object> = {};
  for (const { key, extra } of models) {
    log(`converting rinna-1b (random weights) to ${key}…`);
    const run = await convertInChild(source.dir, join(tmp, key), 'int4', '128', extra);
    conversions[key] = { seconds: run.seconds, cpuSeconds: run.cpuSeconds, peakRssMB: Math.round(run.maxRssKB / 1024) };
    log(`${key}: ${JSON.stringify(conversions[key])}`);
  }
  const samples: Record<string, { prefill512Ms: number[]; decodeMs: number[] }> = {};
  for (let round = 0; round < 3; round++) {
    for (const { key } of models) {
      const s = (samples[key] ??= { prefill512Ms: [], decodeMs: [] });
      const timing = await timeModel(join(tmp, key), steps);
      s.prefill512Ms.push(timing.prefillMs);
      s.decodeMs.push(...timing.decodeMs);
      log(`${key} round ${round}: prefill ${timing.prefillMs.toFixed(0)} ms`);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const summary = Object.fromEntries(
    Object.entries(samples).map(([key, s]) => [key, { prefill512Ms: Math.round(median(s.prefill512Ms)), decodeMsPerToken: Math.round(median(s.decodeMs) * 10) / 10 }]),
  );
  const [before, after] = models.map((m) => summary[m.key]!);
  return {
    conversions,
    threads: 2,
    models: summary,
    ratioNewOverOld: {
      prefill512: Number((after!.prefill512Ms / before!.prefill512Ms).toFixed(3)),
      decode: Number((after!.decodeMsPerToken / before!.decodeMsPerToken).toFixed(3)),
    },
  };
}

/** Prefill of 512 tokens, then `steps` single-token decode steps after a 32-token prompt, 2 threads. */
async function timeModel(dir: string, steps: number): Promise<{ prefillMs: number; decodeMs: number[] }> {
  const session = await DecoderSession.load(dir, { threads: 2 });
  try {
    const vocab = session.manifest.architecture.vocabSize;
    const prompt = (length: number) => Array.from({ length }, (_, i) => (i * 7919 + 11) % vocab);
    const long = prompt(512);
    let started = performance.now();
    await session.forward({ ids: [long], attentionMask: [long.map(() => 1)], positionIds: [long.map((_, i) => i)] });
    const prefillMs = performance.now() - started;
    const short = prompt(32);
    let step = await session.forward({ ids: [short], attentionMask: [short.map(() => 1)], positionIds: [short.map((_, i) => i)] });
    const decodeMs: number[] = [];
    for (let i = 0; i < steps; i++) {
      const length = short.length + i;
      started = performance.now();
      step = await session.forward({ ids: [[(i * 31) % vocab]], attentionMask: [Array<number>(length + 1).fill(1)], positionIds: [[length]], cache: step.cache });
      decodeMs.push(performance.now() - started);
    }
    return { prefillMs, decodeMs };
  } finally {
    await session.release();
  }
}
