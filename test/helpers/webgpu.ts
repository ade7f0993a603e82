import { probeOffThread } from '../../src-main/engine/device-probe';

/**
 * Why WebGPU tests cannot run here (no adapter, no driver…), or null where they can. Looked for in a process of its
 * own, so that a machine without an adapter skips them without Dawn's log in the run.
 */
export function webgpuSkipReason(): Promise<string | null> {
  return probeOffThread({ provider: 'webgpu', threads: 1, cpuMs: null }).then(
    () => null,
    (error: Error) => `no WebGPU adapter here: ${error.message}`,
  );
}
