/**
 * `npm run bench -- engine [--precisions int4,int8,fp32] [--threads 2] [--decode-tokens 16] [--block-size 32]`
 *
 * The generation engine on the full-size random-weight rinna-1b checkpoint (made by the convert bench in
 * `.cache/bench/rinna-1b-random`, written here if missing). Each precision is converted once into
 * `.cache/bench/engine-<precision>` (reused afterwards) and measured in a fresh Node process, so its peak RSS is
 * its own: model load, cold prefill of 128/512/900 tokens, time to first token cold and warm (prefix reuse),
 * decode tokens/s at batch 1 and 3 with an empty cache and after 512 tokens, and the event-loop lag of the process
 * during generation. Sampling runs with the model card's parameters (top-k 500, top-p 0.95) and no EOS.
 * Speeds are measured on the engine in-process, from exact token counts; the event-loop lag and the app's peak RSS
 * in a second process that generates as the app does, through the generation worker, from Japanese text (the
 * random checkpoint has no real tokenizer, so the tokenizer fixture `nfkc.model` stands in).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, readFile, rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Generator } from '../../src-main/engine/generator';
import { resolveSamplingParams } from '../../src-main/engine/sampler';
import { DecoderSession } from '../../src-main/engine/session';
import { RemoteRuntime } from '../../src-main/services/generation-remote';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cacheDir = join(root, '.cache/bench');
const sourceDir = join(cacheDir, 'rinna-1b-random');
const self = fileURLToPath(import.meta.url);

const log = (message: string) => process.stderr.write(`[engine bench] ${message}\n`);

/** The targets (2 threads, random-weight 1.3B), for the report. */
const TARGETS = {
  int4: { decodeEmpty: 32, decodeAfter512: 22, prefill512: 146, peakRssMB: 1536 },
  int8: { decodeEmpty: 23.5 },
  fp32: { decodeEmpty: 7.1 },
  all: { warmFirstTokenDecodeSteps: 2, batch3OverBatch1: 2, eventLoopLagP99Ms: 20 },
};

export default async function (args: string[]): Promise<object> {
  const { values } = parseArgs({
    args,
    options: {
      precisions: { type: 'string', default: 'int4,int8,fp32' },
      threads: { type: 'string', default: '2' },
      'decode-tokens': { type: 'string', default: '16' },
      'block-size': { type: 'string', default: '32' },
    },
  });
  if (!existsSync(join(sourceDir, 'model.safetensors'))) {
    log('no random checkpoint yet: making it with the convert bench (int4 only)…');
    const convertBench = (await import('./convert.bench')) as { default: (a: string[]) => Promise<object> };
    await convertBench.default(['--precisions', 'int4', '--decode-tokens', '1']);
  }
  const results: Record<string, unknown> = {};
  const loadAtStart = loadavg().map((l) => Math.round(l * 10) / 10);
  for (const precision of values.precisions.split(',')) {
    const dir = join(cacheDir, `engine-${precision}`);
    if (!(await convertedFrom(dir, precision, Number(values['block-size'])))) {
      log(`converting to ${precision} (once)…`);
      await rm(dir, { recursive: true, force: true });
      await child(`const { convert } = await import(${JSON.stringify(join(root, 'src-main/cli/commands/convert.ts'))});
        process.exitCode = await convert.run(${JSON.stringify([sourceDir, dir, '--precision', precision, '--block-size', values['block-size']])});`);
    }
    log(`measuring ${precision}…`);
    const out = await child(`const m = await import(${JSON.stringify(self)});
      const r = await m.measure(${JSON.stringify(dir)}, ${Number(values.threads)}, ${Number(values['decode-tokens'])});
      process.stdout.write(JSON.stringify(r));`);
    await copyFile(join(root, 'test/fixtures/tokenizer/nfkc.model'), join(dir, 'spiece.model'));
    const app = await child(`const m = await import(${JSON.stringify(self)});
      const r = await m.measureApp(${JSON.stringify(dir)}, ${Number(values.threads)}, ${Number(values['decode-tokens'])});
      process.stdout.write(JSON.stringify(r));`);
    results[precision] = { ...JSON.parse(out), app: JSON.parse(app) };
    log(`${precision}: ${JSON.stringify(results[precision])}`);
  }
  return { source: sourceDir, threads: Number(values.threads), loadAverage: { start: loadAtStart, end: loadavg().map((l) => Math.round(l * 10) / 10) }, targets: TARGETS, results };
}

async function convertedFrom(dir: string, precision: string, blockSize: number): Promise<boolean> {
  try {
    const manifest = JSON.parse(await readFile(join(dir, 'tsuzuki.json'), 'utf8')) as { precision: string; blockSize: number | null };
    return manifest.precision === precision && (manifest.blockSize === null || manifest.blockSize === blockSize);
  } catch {
    return false;
  }
}

function child(script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { cwd: root, maxBuffer: 64 << 20 },
      (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr.slice(-3000)}`)) : resolve(stdout)),
    );
  });
}

/** Deterministic token ids for prompts (no tokenizer needed: the checkpoint's spiece.model is a stand-in). */
function promptIds(n: number, salt: number, vocab: number): number[] {
  let x = 0x9e3779b9 ^ salt;
  return Array.from({ length: n }, () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return 10 + ((x >>> 0) % (vocab - 10));
  });
}

const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Runs in the child process: every measurement for one converted model. */
export async function measure(dir: string, threads: number, decodeTokens: number): Promise<object> {
  const t0 = performance.now();
  const session = await DecoderSession.load(dir, { threads });
  const loadMs = performance.now() - t0;
  const vocab = session.manifest.architecture.vocabSize;
  // No EOS: every run decodes its full length.
  const special = { vocabSize: vocab, eosIds: [], bannedIds: [0] };
  const sampling = resolveSamplingParams({});
  const decoder = () => ({ push: () => '', end: () => '' });

  const prefill: Record<string, object> = {};
  for (const n of [128, 512, 900]) {
    const gen = new Generator(session, special, { prefillChunk: 1024 });
    const c = cpuMs();
    const r = await gen.prefill(promptIds(n, n, vocab));
    const cpu = cpuMs() - c;
    prefill[n] = { ms: round(r.prefillMs), tokensPerSecond: round((n / r.prefillMs) * 1000), cpuMs: round(cpu), cpuBoundTokensPerSecond: round((n / cpu) * 1000 * threads) };
    log(`prefill ${n}: ${JSON.stringify(prefill[n])}`);
  }

  const generate = (gen: Generator, ids: number[], n: number, maxNewTokens: number) =>
    gen.generate({ promptIds: ids, maxNewTokens, sampling, seed: 1, n, createDecoder: decoder });
  const decodeRate = (s: { decodeSteps: number; decodeMs: number }, n: number) => round(((s.decodeSteps * n) / s.decodeMs) * 1000, 2);
  // The machine is shared: CPU time says what the same work would take on `threads` cores of its own.
  const cpuBound: Record<string, number> = {};

  // Decode speed: warm up once, then measure.
  const short = promptIds(8, 8, vocab);
  const long = promptIds(512, 512, vocab);
  const decode: Record<string, number> = {};
  const gen = new Generator(session, special, { prefillChunk: 1024 });
  await generate(gen, short, 1, 4);
  for (const [name, ids, n] of [
    ['batch1Empty', short, 1],
    ['batch3Empty', short, 3],
    ['batch1After512', long, 1],
    ['batch3After512', long, 3],
  ] as const) {
    const c = cpuMs();
    const r = await generate(gen, ids, n, decodeTokens);
    const cpu = cpuMs() - c;
    decode[name] = decodeRate(r.stats, n);
    cpuBound[name] = round(((r.stats.decodeSteps * n) / cpu) * 1000 * threads, 2);
    log(`decode ${name}: ${decode[name]} tok/s`);
  }

  // First token: cold (nothing cached), warm (the prompt grew by 8 tokens since the last request), and after a
  // background prefill of exactly this prompt.
  const fresh = new Generator(session, special, { prefillChunk: 1024 });
  const cold = await generate(fresh, long, 1, 1);
  const grown = [...long, ...promptIds(8, 99, vocab)];
  const warm = await generate(fresh, grown, 1, 1);
  const next = [...grown, ...promptIds(8, 100, vocab)];
  await fresh.prefill(next);
  const prefilled = await generate(fresh, next, 1, 1);
  const stepMs = 1000 / decode.batch1After512!;
  const firstToken = {
    coldMs: round(cold.stats.firstTokenMs),
    warmMs: round(warm.stats.firstTokenMs),
    warmReusedTokens: warm.stats.reusedTokens,
    warmInDecodeSteps: round(warm.stats.firstTokenMs / stepMs, 2),
    afterBackgroundPrefillMs: round(prefilled.stats.firstTokenMs, 2),
  };
  await session.release();
  return {
    precision: session.manifest.precision,
    blockSize: session.manifest.blockSize,
    kvType: session.manifest.kvType,
    loadMs: round(loadMs),
    prefill,
    firstToken,
    decodeTokensPerSecond: decode,
    decodeCpuBoundTokensPerSecond: cpuBound,
    batch3OverBatch1: round(decode.batch3Empty! / decode.batch1Empty!, 2),
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

/**
 * Runs in a second child process: generation as the app runs it (worker thread, text in, deltas out), with the
 * main thread's event-loop delay sampled every millisecond.
 */
export async function measureApp(dir: string, threads: number, decodeTokens: number): Promise<object> {
  const runtime = await RemoteRuntime.open(dir, { device: 'cpu', threads });
  const before = '吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。何でも薄暗いじめじめした所でニャーニャー泣いていた事だけは記憶している。'.repeat(12);
  const sampling = resolveSamplingParams({});
  const lag = monitorEventLoopDelay({ resolution: 1 });
  let deltas = 0;
  const runs: object[] = [];
  lag.enable();
  for (const n of [1, 3]) {
    const r = await runtime.generate({ before, maxNewTokens: decodeTokens, sampling, seed: 1, n }, { onDelta: () => void deltas++ });
    runs.push({ n, promptTokens: r.stats.promptTokens, prefillMs: round(r.stats.prefillMs), firstTokenMs: round(r.stats.firstTokenMs), tokensPerSecond: round(r.stats.tokensPerSecond, 2) });
  }
  lag.disable();
  await runtime.close();
  return {
    runs,
    deltas,
    eventLoopLagMs: { p50: round(lag.percentile(50) / 1e6, 2), p99: round(lag.percentile(99) / 1e6, 2), max: round(lag.max / 1e6, 2) },
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}
