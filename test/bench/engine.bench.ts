/**
 * `npm run bench -- engine [--precisions int4,int8,fp32] [--threads 2] [--decode-tokens 16] [--block-size 128]
 *   [--device cpu|cuda|dml|webgpu|coreml]`
 *
 * The generation engine on the full-size random-weight rinna-1b checkpoint (made by the convert bench in
 * `.cache/bench/rinna-1b-random`, written here if missing). Each precision is converted once into
 * `.cache/bench/engine-<precision>` (reused afterwards) and measured in a fresh Node process, so its peak RSS is
 * its own: model load, cold prefill of 128/512/900 tokens, time to first token cold and warm (prefix reuse),
 * decode tokens/s at batch 1 and 3 with an empty cache and after 512 tokens, the memory-bandwidth bound on decoding
 * at that moment and the fraction of it reached (`roofline`), and the event-loop lag of the process during
 * generation. Sampling runs with the model card's parameters (top-k 500, top-p 0.95) and no EOS.
 * Speeds are measured on the engine in-process, from exact token counts; the event-loop lag and the app's peak RSS
 * in a second process that generates as the app does, through the generation worker, from Japanese text (the
 * random checkpoint has no real tokenizer, so the tokenizer fixture `nfkc.model` stands in).
 * With `--device` other than the CPU the precisions default to fp16, the GPU precision; the report names the
 * provider that ran (the CPU targets do not apply there). With `--device webgpu` it first compares the decode step of
 * the device graph with the step before it (`deviceGraph`, test/bench/device-graph.ts) on a narrow 24-layer model,
 * and measures the full-size model only where the WebGPU adapter computes faster than the CPU (not on lavapipe).
 */
import { execFile } from 'node:child_process';
import { copyFile, rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { benchmarkSession } from '../../src-main/engine/benchmark';
import { resolveSamplingParams } from '../../src-main/engine/sampler';
import { DecoderSession, type ExecutionProvider } from '../../src-main/engine/session';
import { CONVERTER } from '../../src-main/model/convert/convert';
import { readManifest } from '../../src-main/model/format/manifest';
import { DEFAULT_BLOCK_SIZE } from '../../src-main/model/convert/quantize';
import { providerOption } from '../../src-main/cli/commands/generate';
import { RemoteRuntime } from '../../src-main/services/generation-remote';
import { providerState } from '../../src-main/engine/device';
import { vulkanBufferLog } from '../helpers/vulkan-buffers';
import { ensureRandomCheckpoint, ensureSource } from './convert.bench';
import { STEP_MODEL_CONFIG } from './device-graph';

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
      precisions: { type: 'string' },
      threads: { type: 'string', default: '2' },
      'decode-tokens': { type: 'string', default: '16' },
      'block-size': { type: 'string', default: String(DEFAULT_BLOCK_SIZE) },
      device: { type: 'string' },
    },
  });
  const device = providerOption(values.device, 'npm run bench -- engine [--device cpu|cuda|dml|webgpu|coreml] …');
  const precisions = values.precisions ?? (device === 'cpu' ? 'int4,int8,fp32' : 'fp16');
  const results: Record<string, unknown> = {};
  const loadAtStart = loadavg().map((l) => Math.round(l * 10) / 10);
  if (device === 'webgpu') {
    results.deviceGraph = await deviceGraphComparison(Number(values['decode-tokens']));
    // A software adapter (lavapipe) would take hours over the full-size model: the comparison above is its result.
    const state = await providerState('webgpu');
    if (state.blocked) {
      log(`full-size model skipped: WebGPU here is ${state.state}`);
      return { device, fullSizeSkipped: state.state, loadAverage: { start: loadAtStart, end: loadavg().map((l) => Math.round(l * 10) / 10) }, results };
    }
  }
  await ensureSource();
  for (const precision of precisions.split(',')) {
    const dir = join(cacheDir, `engine-${precision}`);
    if (!(await convertedFrom(dir, precision, Number(values['block-size'])))) {
      log(`converting to ${precision} (once)…`);
      await rm(dir, { recursive: true, force: true });
      await child(`const { convert } = await import(${JSON.stringify(join(root, 'src-main/cli/commands/convert.ts'))});
        process.exitCode = await convert.run(${JSON.stringify([sourceDir, dir, '--precision', precision, '--block-size', values['block-size']])});`);
    }
    log(`measuring ${precision}…`);
    const out = await child(`const m = await import(${JSON.stringify(self)});
      const r = await m.measure(${JSON.stringify(dir)}, ${Number(values.threads)}, ${Number(values['decode-tokens'])}, ${JSON.stringify(device)});
      process.stdout.write(JSON.stringify(r));`);
    await copyFile(join(root, 'test/fixtures/tokenizer/nfkc.model'), join(dir, 'spiece.model'));
    const app = await child(`const m = await import(${JSON.stringify(self)});
      const r = await m.measureApp(${JSON.stringify(dir)}, ${Number(values.threads)}, ${Number(values['decode-tokens'])}, ${JSON.stringify(device)});
      process.stdout.write(JSON.stringify(r));`);
    results[precision] = { ...JSON.parse(out), app: JSON.parse(app) };
    log(`${precision}: ${JSON.stringify(results[precision])}`);
  }
  return { source: sourceDir, device, threads: Number(values.threads), loadAverage: { start: loadAtStart, end: loadavg().map((l) => Math.round(l * 10) / 10) }, targets: TARGETS, results };
}

/**
 * The device graph's decode step against the one before it (test/bench/device-graph.ts), on a narrow 24-layer fp16
 * model, in a child process started with the Vulkan buffer log where it builds (storage buffers created per step).
 */
async function deviceGraphComparison(steps: number): Promise<object> {
  const source = await ensureRandomCheckpoint(join(cacheDir, 'step-model-random'), STEP_MODEL_CONFIG, '24-layer narrow GPT-2');
  const dir = join(cacheDir, 'engine-step-fp16');
  if (!(await convertedFrom(dir, 'fp16', 0))) {
    log('converting the step model to fp16 (once)…');
    await rm(dir, { recursive: true, force: true });
    await child(`const { convert } = await import(${JSON.stringify(join(root, 'src-main/cli/commands/convert.ts'))});
      process.exitCode = await convert.run(${JSON.stringify([source.dir, dir, '--precision', 'fp16'])});`);
  }
  const layer = await vulkanBufferLog();
  if ('skip' in layer) log(`storage buffers not counted: ${layer.skip}`);
  log('comparing the decode step before and after the device graph…');
  const out = await child(
    `const m = await import(${JSON.stringify(join(root, 'test/bench/device-graph.ts'))});
      process.stdout.write(JSON.stringify(await m.compareDeviceGraph(${JSON.stringify(dir)}, { contexts: [32, 256], steps: ${steps}, rounds: 2 })));`,
    'skip' in layer ? {} : layer.env,
  );
  return { model: STEP_MODEL_CONFIG, precision: 'fp16', ...JSON.parse(out) };
}

async function convertedFrom(dir: string, precision: string, blockSize: number): Promise<boolean> {
  try {
    const manifest = await readManifest(dir);
    return manifest.converter === CONVERTER && manifest.precision === precision && (manifest.blockSize === null || manifest.blockSize === blockSize);
  } catch {
    return false; // missing, or written in an older format
  }
}

function child(script: string, env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { cwd: root, maxBuffer: 64 << 20, env: { ...process.env, ...env } },
      (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr.slice(-3000)}`)) : resolve(stdout)),
    );
  });
}

const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;

/** Runs in the child process: every engine measurement for one converted model (see engine/benchmark.ts). */
export async function measure(dir: string, threads: number, decodeTokens: number, device: ExecutionProvider): Promise<object> {
  const t0 = performance.now();
  const session = await DecoderSession.load(dir, { threads, executionProvider: device });
  const loadMs = round(performance.now() - t0);
  try {
    return { loadMs, executionProvider: session.executionProvider, ...(await benchmarkSession(session, { threads, decodeTokens, onProgress: log })) };
  } finally {
    await session.release();
  }
}

/**
 * Runs in a second child process: generation as the app runs it (worker thread, text in, deltas out), with the
 * main thread's event-loop delay sampled every millisecond.
 */
export async function measureApp(dir: string, threads: number, decodeTokens: number, device: ExecutionProvider): Promise<object> {
  const runtime = await RemoteRuntime.open(dir, { device, threads });
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
    device: runtime.info.device,
    fallbackReason: runtime.info.fallbackReason,
    probe: runtime.info.probe,
    runs,
    deltas,
    eventLoopLagMs: { p50: round(lag.percentile(50) / 1e6, 2), p99: round(lag.percentile(99) / 1e6, 2), max: round(lag.max / 1e6, 2) },
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}
