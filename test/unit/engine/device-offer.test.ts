/** Which devices the settings offer, from the platform and the backends this onnxruntime build lists. */
import { describe, expect, it } from 'vitest';
import { offeredDevices } from '../../../src-main/engine/device';

// What onnxruntime-node 1.30's listSupportedBackends() answers on each platform's build.
const linuxBuild = ['cpu', 'webgpu', 'cuda', 'tensorrt'];
const windowsBuild = ['cpu', 'webgpu', 'dml', 'cuda', 'tensorrt'];
const macBuild = ['cpu', 'webgpu', 'coreml'];

describe('offered devices', () => {
  it('Linux: the CPU and WebGPU, CUDA only with its library installed, never DirectML or CoreML', () => {
    expect(offeredDevices('linux', linuxBuild, false)).toEqual(['cpu', 'webgpu']);
    expect(offeredDevices('linux', linuxBuild, true)).toEqual(['cpu', 'cuda', 'webgpu']);
    // Even a build that claimed them would not get them offered here.
    expect(offeredDevices('linux', [...linuxBuild, 'dml', 'coreml'], true)).toEqual(['cpu', 'cuda', 'webgpu']);
  });

  it('Windows: DirectML first, then CUDA with its library, then WebGPU; never CoreML', () => {
    expect(offeredDevices('win32', windowsBuild, false)).toEqual(['cpu', 'dml', 'webgpu']);
    expect(offeredDevices('win32', [...windowsBuild, 'coreml'], true)).toEqual(['cpu', 'dml', 'cuda', 'webgpu']);
  });

  it('macOS: CoreML and WebGPU; never DirectML nor CUDA', () => {
    expect(offeredDevices('darwin', [...macBuild, 'dml', 'cuda'], true)).toEqual(['cpu', 'coreml', 'webgpu']);
  });

  it('only what the build has: a CPU-only build offers the CPU alone', () => {
    expect(offeredDevices('linux', ['cpu'], true)).toEqual(['cpu']);
    expect(offeredDevices('win32', ['cpu'], true)).toEqual(['cpu']);
    expect(offeredDevices('freebsd', ['cpu', 'webgpu'], false)).toEqual(['cpu', 'webgpu']);
  });
});
