/**
 * Times the compute probe on WebGPU against the CPU (see engine/device.ts) off the main thread: onnxruntime-node
 * runs a session synchronously, and on a software adapter the probe takes about a second.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { probeMs } from '../engine/device';

const { threads } = workerData as { threads: number };
let faster = false;
try {
  const cpu = await probeMs('cpu', threads);
  faster = (await probeMs('webgpu', threads, cpu)) < cpu;
} catch {
  // No adapter: not faster.
}
parentPort?.postMessage({ faster });
