/**
 * Times the compute probe on a GPU provider against the CPU (see engine/device-probe.ts) off the main thread:
 * onnxruntime-node runs a session synchronously, and on a software adapter the probe takes about a second. Runs as a
 * child process where the host is Node (so that the driver's native log is caught), as a worker thread in Electron.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ProbeAnswer, ProbeRequest } from '../engine/device-probe';
import { probeAgainstCpu } from '../engine/device';

const { provider, threads, cpuMs } = (parentPort ? workerData : JSON.parse(process.argv[2] ?? '{}')) as ProbeRequest;
let answer: ProbeAnswer;
try {
  answer = await probeAgainstCpu(provider, threads, cpuMs);
} catch (error) {
  answer = { error: error instanceof Error ? error.message : String(error) };
}
if (parentPort) parentPort.postMessage(answer);
else process.send?.(answer, () => process.disconnect());
