/**
 * Chooses where a model runs. `auto` tries the GPU execution providers this platform may have (DirectML on
 * Windows, CoreML on macOS, CUDA where its libraries are installed, then WebGPU) and keeps the first that computes
 * faster than the CPU (a quick probe, before the model is loaded there), whose one-token self-test agrees with
 * the CPU (self-test.ts), and whose decode step of the model itself is faster than the CPU's (what was measured is
 * in `LoadedModel.probe`); otherwise the model runs on the CPU, which is normal where no GPU computes faster. When a
 * GPU that passed the probe, or an explicitly named device, fails, the reason is recorded for the UI. (Which
 * precision to convert to — fp16 for GPUs, int4 for the CPU — is the model library's choice; any converted precision
 * is tried on any device, and the self-test decides.)
 */
import { availableParallelism } from 'node:os';
import { GraphBuilder } from '../model/convert/graph';
import { readManifest } from '../model/format/manifest';
import { TsuzukiError } from '../contract/errors';
import { explainCudaFailure, missingCudaFiles, ortNativeFolder } from './cuda-diagnosis';
import { probeOffThread, type ProbeTimes } from './device-probe';
import { cpuReference, decodeStepMs, selfTest } from './self-test';
import { DecoderSession, loadOrt, type ExecutionProvider } from './session';

export const DEVICES = ['auto', 'cpu', 'cuda', 'dml', 'webgpu', 'coreml'] as const;
export type Device = (typeof DEVICES)[number];
export type ConcreteDevice = Exclude<Device, 'auto'>;

export interface LoadedModel {
  session: DecoderSession;
  device: ConcreteDevice;
  /** Why the requested or preferred device is not used (null when it is). */
  fallbackReason: string | null;
  loadMs: number;
  /**
   * What decided `auto` (null for a named device, or where no GPU could be measured): the decode step of the device
   * kept, or the last measurement a GPU lost on, the compute probe or the model's decode step.
   */
  probe: DeviceProbe | null;
}

export interface DeviceProbe {
  device: ConcreteDevice;
  /** `compute`: the test computation (before the model is loaded there); `decode`: one decode step of the model. */
  test: 'compute' | 'decode';
  deviceMs: number;
  cpuMs: number;
}

/** `auto` keeps a device only where it was measured faster than the CPU. */
export function fasterThanCpu({ deviceMs, cpuMs }: ProbeTimes): boolean {
  return deviceMs < cpuMs;
}

/** A probe's result in words: which test, and both times. */
export function describeProbe({ test, deviceMs, cpuMs }: Omit<DeviceProbe, 'device'>): string {
  const what = test === 'decode' ? 'a decode step of this model' : 'a test computation';
  return `${fasterThanCpu({ deviceMs, cpuMs }) ? 'faster' : 'slower'} than the CPU on ${what} (${deviceMs.toFixed(1)} ms against ${cpuMs.toFixed(1)} ms)`;
}

export interface LoadOptions {
  /** CPU intra-op threads. Default: every core up to 8 (decode is memory-bound; more threads only contend). */
  threads?: number;
}

/** GPU providers `auto` tries, best first; WebGPU (any GPU with a Vulkan, Metal or D3D12 driver) comes last. */
function candidates(platform: NodeJS.Platform): ConcreteDevice[] {
  if (platform === 'win32') return ['dml', 'cuda', 'webgpu'];
  if (platform === 'darwin') return ['coreml', 'webgpu'];
  return ['cuda', 'webgpu'];
}

export function defaultThreads(): number {
  return Math.max(1, Math.min(8, availableParallelism()));
}

/**
 * Backends this onnxruntime build can use here. CUDA ships separately (its provider library is downloaded at
 * install time, or not), so `auto` only counts it when that library is present; a named `cuda` is always tried.
 */
async function availableBackends(forAuto: boolean): Promise<Set<string>> {
  const ort = await import('onnxruntime-node');
  const names = new Set(ort.listSupportedBackends().map((b) => b.name));
  if (forAuto && names.has('cuda') && missingCudaFiles().length > 0) names.delete('cuda');
  return names;
}

/**
 * The execution providers a model can run on here: of the devices offered, those the probe finds computing faster
 * than the CPU, as `auto` would (measured once per process). `cpu` is always among them.
 */
export async function usableProviders(): Promise<string[]> {
  return (await deviceOffers()).filter((offer) => offer.runnable).map((offer) => offer.device);
}

/**
 * The devices this platform and this onnxruntime build can provide: the CPU, then the GPU providers `auto` tries
 * here that the build has (DirectML only on Windows, CoreML only on macOS; CUDA only with its library installed).
 */
export function offeredDevices(platform: NodeJS.Platform, backends: readonly string[], cudaLibrary: boolean): ConcreteDevice[] {
  const built = new Set(backends);
  return ['cpu', ...candidates(platform).filter((d) => built.has(d) && (d !== 'cuda' || cudaLibrary))];
}

/** Why an offered device cannot run now: the probe failed on it (no adapter, no driver…), or it lost to the CPU. */
type DeviceBlock = 'unavailable' | 'slower';

export interface DeviceOffer {
  device: ConcreteDevice;
  /** Computes faster than the CPU here (always true of the CPU): what `auto` would use. */
  runnable: boolean;
  blocked: DeviceBlock | null;
  /** What the probe found, in the engine's words (null for the CPU). */
  detail: string | null;
}

/** Each device offered here, probed (one after the other: probes timed together would count each other's runs). */
export async function deviceOffers(): Promise<DeviceOffer[]> {
  const ort = await import('onnxruntime-node');
  const devices = offeredDevices(process.platform, ort.listSupportedBackends().map((b) => b.name), missingCudaFiles().length === 0);
  const offers: DeviceOffer[] = [];
  for (const device of devices) {
    if (device === 'cpu') {
      offers.push({ device, runnable: true, blocked: null, detail: null });
      continue;
    }
    const state = await providerState(device);
    offers.push({ device, runnable: state.blocked === null, blocked: state.blocked, detail: state.state });
  }
  return offers;
}

/**
 * A GPU provider as `auto` sees it here, measured once per process (off this thread: the app's main process must
 * not stall for it): whether it computes faster than the CPU, and what the probe found, in words.
 */
export function providerState(provider: Exclude<ExecutionProvider, 'cpu'>): Promise<ProviderState> {
  let state = probed.get(provider);
  if (!state) {
    state = probeOffThread({ provider, threads: defaultThreads(), cpuMs: null }).then(
      (times) => ({ blocked: fasterThanCpu(times) ? null : ('slower' as const), state: compared(times) }),
      (error: Error) => ({ blocked: 'unavailable' as const, state: error.message }),
    );
    probed.set(provider, state);
  }
  return state;
}

interface ProviderState {
  blocked: DeviceBlock | null;
  state: string;
}
const probed = new Map<ExecutionProvider, Promise<ProviderState>>();

function compared(times: ProbeTimes): string {
  return `${describeProbe({ test: 'compute', ...times })}${fasterThanCpu(times) ? '' : ', as a software or weak GPU is'}`;
}

export async function loadModel(dir: string, device: Device = 'auto', options: LoadOptions = {}): Promise<LoadedModel> {
  const started = performance.now();
  const threads = options.threads ?? defaultThreads();
  if (!DEVICES.includes(device)) {
    throw new TsuzukiError('invalid_argument', `Unknown device "${String(device)}"; use one of ${DEVICES.join(', ')}.`);
  }
  // A folder that is no model fails here, not after seconds of probing devices for it.
  await readManifest(dir);
  const wanted = device === 'auto' ? candidates(process.platform) : device === 'cpu' ? [] : [device];
  const available = wanted.length ? await availableBackends(device === 'auto') : new Set<string>();
  // `auto` quietly skips what this machine lacks; a named device that is missing is a reason to report.
  const tried = device === 'auto' ? wanted.filter((d) => available.has(d)) : wanted;
  const reasons: string[] = [];
  let cpuProbeMs: number | null = null;
  let probe: DeviceProbe | null = null;
  for (const d of tried) {
    let session: DecoderSession | null = null;
    try {
      // onnxruntime drops an unknown provider with a warning and runs on the CPU: check first.
      if (!available.has(d)) throw new Error(`not available in this build of onnxruntime on ${process.platform}`);
      if (d === 'cuda' && device === 'cuda') await checkCuda(threads);
      if (device === 'auto') {
        // A software adapter (Mesa's lavapipe, which many Linux machines without a GPU driver have) passes the
        // self-test but runs a step hundreds of times slower than the CPU: measure before loading the model there.
        // The probe runs apart, so that a device without a driver fails there and logs nothing here. A GPU that fails
        // it or loses to the CPU is no GPU to use: the CPU is then the plan, not a fallback to warn about.
        const times: ProbeTimes | null = await probeOffThread({ provider: d, threads, cpuMs: cpuProbeMs }).catch(() => null);
        if (!times) continue;
        cpuProbeMs = times.cpuMs;
        probe = { device: d, test: 'compute', ...times };
        if (!fasterThanCpu(times)) continue;
      }
      session = await DecoderSession.load(dir, { executionProvider: d satisfies ExecutionProvider, threads });
      const { converter, createdAt } = session.manifest;
      const openCpu = () => DecoderSession.load(dir, { executionProvider: 'cpu', threads });
      // `auto` also asks for the CPU's decode step: measured once per model, onnxruntime and thread count.
      const reference = await cpuReference(dir, `${converter} ${createdAt}`, (await loadOrt()).env.versions.common, openCpu, device === 'auto' ? threads : null);
      await selfTest(session, reference.logits);
      if (reference.decodeMs !== null) {
        // The compute probe says what the device can do; the model's own decode step (many small kernels, a host
        // round trip per step) says whether it does it here. A named device is not second-guessed by speed.
        probe = { device: d, test: 'decode', deviceMs: await decodeStepMs(session), cpuMs: reference.decodeMs };
        if (!fasterThanCpu(probe)) {
          await session.release().catch(() => undefined);
          continue;
        }
      }
      return { session, device: d, fallbackReason: null, loadMs: performance.now() - started, probe };
    } catch (error) {
      await session?.release().catch(() => undefined);
      const message = error instanceof Error ? error.message : String(error);
      reasons.push(`${d}: ${d === 'cuda' ? explainCuda(message) : message}`);
    }
  }
  const cpu = await DecoderSession.load(dir, { executionProvider: 'cpu', threads });
  const fallbackReason = device === 'cpu' || (device === 'auto' && reasons.length === 0) ? null : reasons.join('; ');
  return { session: cpu, device: 'cpu', fallbackReason, loadMs: performance.now() - started, probe };
}

/**
 * Before a named `cuda` loads the model: the provider's own files must be there, and a test computation must run in
 * the probe's child process, whose standard error holds onnxruntime's word on which library is missing (the error
 * onnxruntime-node hands back names none). Throws what is missing, in words (cuda-diagnosis.ts).
 */
async function checkCuda(threads: number): Promise<void> {
  if (missingCudaFiles().length > 0) throw new Error(explainCuda(''));
  await probeOffThread({ provider: 'cuda', threads, cpuMs: null });
}

function explainCuda(message: string): string {
  return explainCudaFailure({ message, log: '', platform: process.platform, folder: ortNativeFolder(), missingFiles: missingCudaFiles() });
}

/**
 * The probe on `provider` and on the CPU (`cpuMs` when already measured), one after the other: timed together,
 * each would count the other's runs.
 */
export async function probeAgainstCpu(provider: ExecutionProvider, threads: number, cpuMs: number | null = null) {
  const cpu = cpuMs ?? (await probeMs('cpu', threads));
  return { cpuMs: cpu, deviceMs: await probeMs(provider, threads, cpu) };
}

/** Side of the probe's square matrices: 8 products of 512 × 512 are 2 GFLOP, a few ms on a CPU, far less on a GPU. */
const PROBE_SIZE = 512;
const PROBE_PRODUCTS = 8;

/**
 * Milliseconds `provider` takes for a chain of matrix products (the best of three runs after a warm-up, which
 * compiles shaders): compute-bound and with little to upload, so it compares the devices, not the bus. A run slower
 * than `enough` ends the probe early: a software adapter need not be timed three times to lose.
 */
export async function probeMs(provider: ExecutionProvider, threads: number, enough = Infinity): Promise<number> {
  const g = new GraphBuilder();
  const x = g.input({ name: 'x', type: 'float32', shape: [PROBE_SIZE, PROBE_SIZE] });
  let y = x;
  for (let i = 0; i < PROBE_PRODUCTS; i++) y = g.op('MatMul', [y, x]);
  g.output({ name: y, type: 'float32', shape: [PROBE_SIZE, PROBE_SIZE] });
  const ort = await loadOrt();
  const session = await ort.InferenceSession.create(g.encode({ name: 'probe', dataFile: '', opset: 17, producer: 'tsuzuki' }), {
    executionProviders: [provider],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
  });
  try {
    // Entries of 1/size keep every product's entries at 1/size: no overflow, no denormals.
    const feeds = { x: new ort.Tensor('float32', new Float32Array(PROBE_SIZE * PROBE_SIZE).fill(1 / PROBE_SIZE), [PROBE_SIZE, PROBE_SIZE]) };
    await session.run(feeds);
    let best = Infinity;
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      await session.run(feeds);
      best = Math.min(best, performance.now() - started);
      if (best >= enough) break;
    }
    return best;
  } finally {
    await session.release();
  }
}
