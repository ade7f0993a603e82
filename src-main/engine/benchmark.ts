/**
 * Speed of the engine on a loaded session, from exact token counts (no tokenizer needed): cold prefill of
 * 128/512/900 tokens (the median of three, in the generator's chunks, as the app prefills), time to first token
 * cold, warm (the prompt grew by 8 tokens) and after a background prefill, and decode tokens/s (the median of three
 * runs) at batch 1 and 3 from an empty cache and after 512 tokens, and at batch 1 after 900. Sampling uses the model
 * card's parameters and no EOS, so every run decodes its full length. Each figure also comes with the process's CPU
 * time turned into what `threads` dedicated cores would give (on a shared machine the wall clock says more about
 * the neighbours; onnxruntime's spinning threads make this estimate pessimistic). On the CPU, the report ends with
 * the roofline: this moment's memory bandwidth, the bound it sets on decoding, and the fraction reached.
 */
import { Generator } from './generator';
import { kvBytesPerStep, measureBandwidth, weightBytesPerStep } from './roofline';
import { resolveSamplingParams } from './sampler';
import type { DecoderSession } from './session';

export interface BenchmarkOptions {
  threads: number;
  decodeTokens: number;
  onProgress?: (message: string) => void;
}

const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;
/** The middle value (the upper of the two middle ones of an even count). */
export const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Deterministic token ids (xorshift), away from the special ids at the start of the vocabulary. */
function benchmarkIds(n: number, salt: number, vocab: number): number[] {
  let x = 0x9e3779b9 ^ salt;
  return Array.from({ length: n }, () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return 10 + ((x >>> 0) % (vocab - 10));
  });
}

export async function benchmarkSession(session: DecoderSession, options: BenchmarkOptions) {
  const { threads, decodeTokens } = options;
  const progress = options.onProgress ?? (() => undefined);
  const { vocabSize: vocab, nPositions } = session.manifest.architecture;
  const special = { vocabSize: vocab, eosIds: [], bannedIds: [0] };
  const sampling = resolveSamplingParams({});
  const decoder = () => ({ push: () => '', end: () => '' });
  const lengths = [128, 512, 900].filter((n) => n + decodeTokens + 16 <= nPositions);
  const long = Math.min(512, nPositions - decodeTokens - 32);
  // A writer's context is usually full: the editor sends up to the model's positions less the continuation's length.
  const full = Math.min(900, nPositions - decodeTokens - 32);

  const prefill: Record<string, { ms: number; tokensPerSecond: number; cpuMs: number; cpuBoundTokensPerSecond: number }> = {};
  for (const n of lengths) {
    // The median of three cold prefills (the prompt cache emptied before each, so that one cache's memory is alive
    // at a time): a GPU compiles its kernels for new shapes in the first, and a neighbour's burst moves one run.
    const runs: { ms: number; cpu: number }[] = [];
    const gen = new Generator(session, special);
    for (let run = 0; run < 3; run++) {
      gen.cache.clear();
      const c = cpuMs();
      const r = await gen.prefill(benchmarkIds(n, n + run, vocab));
      runs.push({ ms: r.prefillMs, cpu: cpuMs() - c });
    }
    gen.cache.clear();
    const { ms, cpu } = runs.sort((a, b) => a.ms - b.ms)[1]!;
    prefill[n] = { ms: round(ms), tokensPerSecond: round((n / ms) * 1000), cpuMs: round(cpu), cpuBoundTokensPerSecond: round((n / cpu) * 1000 * threads) };
    progress(`prefill ${n}: ${JSON.stringify(prefill[n])}`);
  }

  const generate = (gen: Generator, ids: number[], n: number, maxNewTokens: number) =>
    gen.generate({ promptIds: ids, maxNewTokens, sampling, seed: 1, n, createDecoder: decoder });
  const short = benchmarkIds(8, 8, vocab);
  const longIds = benchmarkIds(long, long, vocab);
  const decodeRuns: [name: string, ids: number[], n: number][] = [
    ['batch1Empty', short, 1],
    ['batch3Empty', short, 3],
    [`batch1After${long}`, longIds, 1],
    [`batch3After${long}`, longIds, 3],
    ...(full > long ? [[`batch1After${full}`, benchmarkIds(full, full, vocab), 1] as [string, number[], number]] : []),
  ];
  const decode: Record<string, number> = {};
  const cpuBound: Record<string, number> = {};
  const gen = new Generator(session, special);
  await generate(gen, short, 1, 4); // warm-up
  for (const [name, ids, n] of decodeRuns) {
    // The median of three runs: a neighbour's burst on a shared machine moves one run, not the figure.
    const wall: number[] = [];
    const byCpu: number[] = [];
    for (let run = 0; run < 3; run++) {
      // Prefill first, so that the CPU time below is the decoding's alone.
      await gen.prefill(ids);
      const c = cpuMs();
      const r = await generate(gen, ids, n, decodeTokens);
      const cpu = cpuMs() - c;
      wall.push(((r.stats.decodeSteps * n) / r.stats.decodeMs) * 1000);
      byCpu.push(((r.stats.decodeSteps * n) / cpu) * 1000 * threads);
    }
    decode[name] = round(median(wall), 2);
    cpuBound[name] = round(median(byCpu), 2);
    progress(`decode ${name}: ${decode[name]} tok/s`);
  }

  const fresh = new Generator(session, special);
  const cold = await generate(fresh, longIds, 1, 1);
  const grown = [...longIds, ...benchmarkIds(8, 99, vocab)];
  const warm = await generate(fresh, grown, 1, 1);
  const next = [...grown, ...benchmarkIds(8, 100, vocab)];
  await fresh.prefill(next);
  const prefilled = await generate(fresh, next, 1, 1);
  const stepMs = 1000 / decode[`batch1After${long}`]!;
  // The roofline bounds batch-1 decoding at each context measured.
  const decodeContexts = Object.fromEntries(
    decodeRuns.filter(([, , n]) => n === 1).map(([name, ids]): [string, [number, number]] => [name, [ids.length, decode[name]!]]),
  );
  // Read before the bandwidth probe, whose matrix would count as the model's memory.
  const peakRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
  return {
    precision: session.manifest.precision,
    blockSize: session.manifest.blockSize,
    kvType: session.manifest.kvType,
    threads,
    prefill,
    firstToken: {
      coldMs: round(cold.stats.firstTokenMs),
      warmMs: round(warm.stats.firstTokenMs),
      warmReusedTokens: warm.stats.reusedTokens,
      warmInDecodeSteps: round(warm.stats.firstTokenMs / stepMs, 2),
      afterBackgroundPrefillMs: round(prefilled.stats.firstTokenMs, 2),
    },
    decodeTokensPerSecond: decode,
    decodeCpuBoundTokensPerSecond: cpuBound,
    batch3OverBatch1: round(decode.batch3Empty! / decode.batch1Empty!, 2),
    peakRssMB,
    ...(session.executionProvider === 'cpu' ? { roofline: await roofline(session, threads, decodeContexts) } : {}),
  };
}

/**
 * How close single-row decoding came to the memory-bandwidth bound: for each measurement, `[context, tokens/s]`
 * becomes the bound at this moment's bandwidth and the fraction of it reached.
 */
async function roofline(session: DecoderSession, threads: number, measured: Record<string, [context: number, tokensPerSecond: number]>) {
  const bandwidth = await measureBandwidth(threads);
  const weights = await weightBytesPerStep(session.dir);
  const bound: Record<string, number> = {};
  const fraction: Record<string, number> = {};
  for (const [name, [context, tokensPerSecond]] of Object.entries(measured)) {
    bound[name] = round((bandwidth.medianGBs * 1e9) / (weights + kvBytesPerStep(session.manifest, context)), 2);
    fraction[name] = round(tokensPerSecond / bound[name]!, 2);
  }
  return { memoryBandwidth: bandwidth, weightMBPerStep: round(weights / 1e6), boundTokensPerSecond: bound, fractionOfBound: fraction };
}
