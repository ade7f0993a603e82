/**
 * The device self-test: one forward pass of four tokens on the device, against the CPU's logits for the same
 * tokens. The CPU's logits are computed once per converted model and onnxruntime version and kept beside the model
 * (`self-test.json`): for the GPU's precision, fp16, the CPU session alone took 21 s to load and 5.3 GB of memory
 * (the CPU provider widens every weight to float32; 2 cores, the 1.3B model), which every start on a GPU paid.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DecoderSession } from './session';

export const SELF_TEST_FILE = 'self-test.json';

const PROBE_IDS = [1, 2, 3, 4];

interface Stored {
  /** The conversion and the onnxruntime that computed the logits: another of either recomputes them. */
  key: string;
  ids: number[];
  /** The last position's logits, float32 little-endian, base64. */
  logits: string;
}

/** The last position's logits for the probe tokens. */
export async function probeLogits(session: DecoderSession): Promise<Float32Array> {
  const vocab = session.manifest.architecture.vocabSize;
  const [rows] = await session.sequenceLogits([PROBE_IDS.map((i) => i % vocab)]);
  return rows![0]!;
}

/**
 * The CPU's probe logits for the model in `dir`: read from `self-test.json` when they were stored for this
 * conversion (`conversion`: its converter and time) and this onnxruntime, else computed on a CPU session from
 * `openCpu` (released afterwards) and stored. A folder that cannot be written only means no cache.
 */
export async function cpuReference(dir: string, conversion: string, ortVersion: string, openCpu: () => Promise<DecoderSession>): Promise<Float32Array> {
  const file = join(dir, SELF_TEST_FILE);
  const key = `${conversion}; onnxruntime ${ortVersion}`;
  const stored = await readStored(file, key);
  if (stored) return stored;
  const cpu = await openCpu();
  let logits: Float32Array;
  try {
    logits = await probeLogits(cpu);
  } finally {
    await cpu.release();
  }
  const record: Stored = { key, ids: PROBE_IDS, logits: Buffer.from(logits.buffer, logits.byteOffset, logits.byteLength).toString('base64') };
  const partial = `${file}.${randomBytes(4).toString('hex')}.partial`;
  try {
    await writeFile(partial, JSON.stringify(record));
    await rename(partial, file);
  } catch {
    await rm(partial, { force: true }).catch(() => undefined);
  }
  return logits;
}

async function readStored(file: string, key: string): Promise<Float32Array | null> {
  try {
    const record = JSON.parse(await readFile(file, 'utf8')) as Partial<Stored>;
    if (record.key !== key || JSON.stringify(record.ids) !== JSON.stringify(PROBE_IDS) || typeof record.logits !== 'string') return null;
    const bytes = Buffer.from(record.logits, 'base64');
    if (bytes.length === 0 || bytes.length % 4 !== 0) return null;
    return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
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
