/**
 * Times the compute probe on WebGPU against the CPU (see engine/device.ts) off the main thread: onnxruntime-node
 * runs a session synchronously, and on a software adapter the probe takes about a second.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { probeAgainstCpu } from '../engine/device';

const { threads } = workerData as { threads: number };
let faster = false;
try {
  const { cpuMs, deviceMs } = await probeAgainstCpu('webgpu', threads);
  faster = deviceMs < cpuMs;
} catch {
  // No adapter: not faster.
}
parentPort?.postMessage({ faster });
