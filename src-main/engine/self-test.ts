/**
 * The device self-test: one forward pass of four tokens on the device, against the CPU's logits for the same
 * tokens. The CPU's logits are computed once per converted model and onnxruntime version and kept beside the model
 * (`self-test.json`): for the GPU's precision, fp16, the CPU session alone took 21 s to load and 5.3 GB of memory
 * (the CPU provider widens every weight to float32; 2 cores, the 1.3B model), which every start on a GPU paid.
 * The same file keeps the CPU's decode step time per thread count, which `auto` compares a device's with
 * (`decodeStepMs`).
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { median } from './benchmark';
import type { DecoderSession } from './session';

export const SELF_TEST_FILE = 'self-test.json';

const PROBE_IDS = [1, 2, 3, 4];
/** The decode probe: a prompt of this many tokens, then the median of this many single-token steps after a warm-up. */
const DECODE_PROMPT = 16;
const DECODE_STEPS = 6;

interface Stored {
  /** The conversion and the onnxruntime that computed the logits: another of either recomputes them. */
  key: string;
  ids: number[];
  /** The last position's logits, float32 little-endian, base64. */
  logits: string;
  /** The CPU's decode step in milliseconds, by intra-op thread count. */
  decodeMs?: Record<string, number>;
}

export interface CpuReference {
  logits: Float32Array;
  /** The CPU's decode step in milliseconds (null where it was not asked for). */
  decodeMs: number | null;
}

/** The last position's logits for the probe tokens. */
export async function probeLogits(session: DecoderSession): Promise<Float32Array> {
  const vocab = session.manifest.architecture.vocabSize;
  const [rows] = await session.sequenceLogits([PROBE_IDS.map((i) => i % vocab)]);
  return rows![0]!;
}

/**
 * Milliseconds of one decode step on `session`, as the generator runs it: a prompt of 16 tokens, then single-token
 * steps over its cache; the median of 6 steps after one more that warms the provider up (shaders, buffers).
 */
export async function decodeStepMs(session: DecoderSession): Promise<number> {
  const vocab = session.manifest.architecture.vocabSize;
  const token = (i: number) => (i % (vocab - 1)) + 1;
  const prompt = Array.from({ length: DECODE_PROMPT }, (_, i) => token(i));
  const { cache } = await session.forward({ ids: [prompt], attentionMask: [prompt.map(() => 1)], positionIds: [prompt.map((_, i) => i)], logitsToKeep: 1 });
  try {
    const times: number[] = [];
    for (let step = 0; step <= DECODE_STEPS; step++) {
      const seen = DECODE_PROMPT + step;
      const started = performance.now();
      await session.forward({ ids: [[token(seen)]], attentionMask: [Array<number>(seen + 1).fill(1)], positionIds: [[seen]], cache });
      if (step > 0) times.push(performance.now() - started);
    }
    return median(times);
  } finally {
    cache.release(); // on a GPU, buffers nobody else would free
  }
}

/**
 * The CPU's side of a device's checks for the model in `dir`: its probe logits and, when `decodeThreads` is given,
 * its decode step time at that many threads. Read from `self-test.json` when stored for this conversion
 * (`conversion`: its converter and time) and this onnxruntime, else measured on a CPU session from `openCpu` (opened
 * with `decodeThreads` threads, released afterwards) and stored. A folder that cannot be written only means no cache.
 */
export async function cpuReference(
  dir: string,
  conversion: string,
  ortVersion: string,
  openCpu: () => Promise<DecoderSession>,
  decodeThreads: number | null = null,
): Promise<CpuReference> {
  const file = join(dir, SELF_TEST_FILE);
  const key = `${conversion}; onnxruntime ${ortVersion}`;
  const stored = await readStored(file, key);
  const storedMs = decodeThreads === null ? null : stored?.decodeMs[decodeThreads];
  if (stored && storedMs !== undefined) return { logits: stored.logits, decodeMs: storedMs };
  const cpu = await openCpu();
  let logits: Float32Array;
  let decodeMs: number | null;
  try {
    logits = stored?.logits ?? (await probeLogits(cpu));
    decodeMs = decodeThreads === null ? null : await decodeStepMs(cpu);
  } finally {
    await cpu.release();
  }
  const record: Stored = {
    key,
    ids: PROBE_IDS,
    logits: Buffer.from(logits.buffer, logits.byteOffset, logits.byteLength).toString('base64'),
    decodeMs: { ...stored?.decodeMs, ...(decodeMs === null ? {} : { [decodeThreads!]: decodeMs }) },
  };
  const partial = `${file}.${randomBytes(4).toString('hex')}.partial`;
  try {
    await writeFile(partial, JSON.stringify(record));
    await rename(partial, file);
  } catch {
    await rm(partial, { force: true }).catch(() => undefined);
  }
  return { logits, decodeMs };
}

async function readStored(file: string, key: string): Promise<{ logits: Float32Array; decodeMs: Record<string, number> } | null> {
  try {
    const record = JSON.parse(await readFile(file, 'utf8')) as Partial<Stored>;
    if (record.key !== key || JSON.stringify(record.ids) !== JSON.stringify(PROBE_IDS) || typeof record.logits !== 'string') return null;
    const bytes = Buffer.from(record.logits, 'base64');
    if (bytes.length === 0 || bytes.length % 4 !== 0) return null;
    // Only plausible times: a damaged entry is measured again.
    const decodeMs = Object.fromEntries(
      Object.entries(typeof record.decodeMs === 'object' && record.decodeMs !== null ? record.decodeMs : {}).filter(
        ([threads, ms]) => /^[1-9]\d{0,3}$/.test(threads) && typeof ms === 'number' && Number.isFinite(ms) && ms > 0,
      ),
    );
    return { logits: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)), decodeMs };
  } catch {
    return null; // missing, unreadable or damaged: computed again
  }
}

/**
 * The device must pick the same most likely token as the CPU and stay within 5 % of its logits' scale: a broken
 * provider is off by the whole scale, while fp16 kernels legitimately differ by a few percent (WebGPU on an H100:
 * 0.077 on a scale of 3.8, 2 %, for the full-size random model; trained weights have larger activations).
 */
export async function selfTest(device: DecoderSession, reference: Float32Array): Promise<void> {
  const x = await probeLogits(device);
  if (x.length !== reference.length) throw new Error(`self-test: ${x.length} logits, the CPU has ${reference.length}`);
  let scale = 0;
  let diff = 0;
  let argX = 0;
  let argY = 0;
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]!)) throw new Error(`self-test: logit ${i} is ${x[i]}`);
    scale = Math.max(scale, Math.abs(reference[i]!));
    diff = Math.max(diff, Math.abs(x[i]! - reference[i]!));
    if (x[i]! > x[argX]!) argX = i;
    if (reference[i]! > reference[argY]!) argY = i;
  }
  const tolerance = 0.05 * scale + 0.05;
  if (diff > tolerance) throw new Error(`self-test: logits differ from the CPU's by ${diff.toFixed(4)} (allowed ${tolerance.toFixed(4)})`);
  // A near tie may flip within the tolerance; a clear winner may not.
  if (argX !== argY && reference[argY]! - reference[argX]! > tolerance) throw new Error(`self-test: most likely token ${argX}, the CPU says ${argY}`);
}
