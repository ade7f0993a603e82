/**
 * Runs the device probe (engine/device.ts: a test computation timed on a GPU provider and on the CPU) off the
 * calling thread, and says in the app's own words why a provider cannot run it. Where the host is Node, the probe is
 * a child process whose standard error is caught: Dawn and the Vulkan loader log from native code straight to file
 * descriptor 2 ("vkCreateInstance: Found no drivers!", "maxDynamic… artificially reduced"), which `tsuzuki info`
 * and `generate` must not print, and what they say about a missing driver becomes the reason. In Electron, whose
 * packaged binary cannot run as Node, it is a worker thread, and the native log goes to the app's standard error.
 */
import { forkWorker, startWorker } from '../util/worker';
import { explainCudaFailure, missingCudaFiles, ortNativeFolder } from './cuda-diagnosis';
import type { ExecutionProvider } from './session';

export interface ProbeRequest {
  provider: ExecutionProvider;
  threads: number;
  /** The CPU's time when already measured. */
  cpuMs: number | null;
}
export interface ProbeTimes {
  cpuMs: number;
  deviceMs: number;
}
export type ProbeAnswer = ProbeTimes | { error: string };

/** A probe that hangs (a driver can) is given up after this long. */
const DEADLINE_MS = 120_000;
/** What is kept of the child's standard error: the driver's lines, not an unbounded stream. */
const LOG_KEEP = 64 * 1024;

/** The probe's timings; rejects with the reason, in words, where the provider cannot run the test computation. */
export async function probeOffThread(request: ProbeRequest): Promise<ProbeTimes> {
  const { answer, log } = await (process.versions.electron ? inWorker(request) : inChild(request));
  if ('error' in answer) throw new Error(reason(request.provider, answer.error, log));
  return answer;
}

/**
 * onnxruntime's message without its source location, and what the driver's log says about a missing driver; for
 * CUDA, which library is missing (cuda-diagnosis.ts).
 */
function reason(provider: ExecutionProvider, error: string, log: string): string {
  if (provider === 'cuda') {
    return explainCudaFailure({ message: error, log, platform: process.platform, folder: ortNativeFolder(), missingFiles: missingCudaFiles() });
  }
  const message = error.replace(/^\S+\.(?:cc|cpp|h):\d+ [\s\S]*? was false\. /, '').trim();
  const driver = /Found no drivers|VK_ERROR_INCOMPATIBLE_DRIVER/.test(log) ? 'no Vulkan driver found' : null;
  if (/Failed to get a WebGPU adapter/i.test(message)) return `no adapter (${driver ?? message})`;
  return driver ? `${message} (${driver})` : message;
}

function inChild(request: ProbeRequest): Promise<{ answer: ProbeAnswer; log: string }> {
  return new Promise((resolve) => {
    const child = forkWorker('device-probe', [JSON.stringify(request)]);
    let log = '';
    let answer: ProbeAnswer | null = null;
    let timedOut = false;
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      log += chunk.slice(0, LOG_KEEP - log.length);
    });
    // Whatever native code prints on standard output is no part of the answer.
    child.stdout?.resume();
    child.once('message', (message) => {
      answer = message as ProbeAnswer;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill();
    }, DEADLINE_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ answer: { error: `the probe could not start: ${error.message}` }, log });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const ended = timedOut
        ? `the test computation did not finish within ${DEADLINE_MS / 1000} s`
        : `the probe ended without an answer (${signal ?? `exit code ${code}`})${lastLine(log)}`;
      resolve({ answer: answer ?? { error: ended }, log });
    });
  });
}

function inWorker(request: ProbeRequest): Promise<{ answer: ProbeAnswer; log: string }> {
  return new Promise((resolve) => {
    const worker = startWorker('device-probe', { workerData: request });
    worker.once('message', (answer: ProbeAnswer) => {
      resolve({ answer, log: '' });
      void worker.terminate();
    });
    worker.once('error', (error) => resolve({ answer: { error: error.message }, log: '' }));
    worker.once('exit', (code) => resolve({ answer: { error: `the probe ended without an answer (exit code ${code})` }, log: '' }));
  });
}

/** The driver's last words, when a crash left some. */
function lastLine(log: string): string {
  const line = log.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('at ')).at(-1);
  return line ? `: ${line.slice(0, 200)}` : '';
}
