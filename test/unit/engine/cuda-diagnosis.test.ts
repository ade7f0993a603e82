/**
 * The CUDA provider's failures in words. The messages and logs are onnxruntime's own, as users reported them
 * (microsoft/onnxruntime#8177, #11561, #20049, #22016; the providers_shared line is onnxruntime-node 1.30 here).
 */
import { describe, expect, it } from 'vitest';
import { cudaProviderFiles, explainCudaFailure } from '../../../src-main/engine/cuda-diagnosis';

const NODE_MESSAGE = 'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library';
const FOLDER = '/app/node_modules/onnxruntime-node/bin/napi-v6/linux/x64';
const linux = { message: NODE_MESSAGE, log: '', platform: 'linux' as const, folder: FOLDER, missingFiles: [] };

/** onnxruntime's log line when dlopen of the provider fails on one of its dependencies. */
const dlopenLog = (library: string) =>
  `2024-12-09 13:04:11.264813429 [E:onnxruntime:onnxruntime-node, provider_bridge_ort.cc:2146 Create] /onnxruntime_src/onnxruntime/core/session/provider_bridge_ort.cc:1988 onnxruntime::Provider& onnxruntime::ProviderLibrary::Get() [ONNXRuntimeError] : 1 : FAIL : Failed to load library ${FOLDER}/libonnxruntime_providers_cuda.so with error: ${library}: cannot open shared object file: No such file or directory\n`;

describe('CUDA failures in words', () => {
  it('the provider library missing (this project installs onnxruntime-node without it): names the files and how to get them', () => {
    const linuxText = explainCudaFailure({ ...linux, missingFiles: cudaProviderFiles('linux') });
    expect(linuxText).toContain(`${FOLDER} lacks libonnxruntime_providers_cuda.so and libonnxruntime_providers_shared.so`);
    expect(linuxText).toContain('npm rebuild onnxruntime-node --onnxruntime-node-install=cuda12');
    expect(linuxText).toContain('onnxruntime-gpu 1.30 wheel');
    // Windows: the install script fetches nothing there; copying is the way.
    const windows = explainCudaFailure({ ...linux, platform: 'win32', folder: 'C:\\app\\bin', missingFiles: cudaProviderFiles('win32') });
    expect(windows).toContain('C:\\app\\bin lacks onnxruntime_providers_cuda.dll and onnxruntime_providers_shared.dll');
    expect(windows).not.toContain('npm rebuild');
    expect(windows).toContain('onnxruntime-gpu 1.30 wheel');
  });

  it('a library the provider links against: names it and what it comes with', () => {
    expect(explainCudaFailure({ ...linux, log: dlopenLog('libcublasLt.so.12') })).toBe(
      'the CUDA provider needs libcublasLt.so.12 (cuBLAS for CUDA 12), which the loader could not open. Install it and put its folder on LD_LIBRARY_PATH',
    );
    expect(explainCudaFailure({ ...linux, log: dlopenLog('libcudnn_adv.so.9') })).toMatch(/needs libcudnn_adv\.so\.9 \(cuDNN 9 for CUDA 12\)/);
    expect(explainCudaFailure({ ...linux, log: dlopenLog('libcudart.so.12') })).toMatch(/needs libcudart\.so\.12 \(the CUDA 12 runtime\)/);
    expect(explainCudaFailure({ ...linux, log: dlopenLog('libcurand.so.10') })).toMatch(/needs libcurand\.so\.10 \(cuRAND for CUDA 12\)/);
    // The driver's own library: no driver.
    expect(explainCudaFailure({ ...linux, log: dlopenLog('libcuda.so.1') })).toBe('no NVIDIA driver: the loader could not open libcuda.so.1. Install the NVIDIA driver');
    // A file the loader names by path is named by its file name.
    expect(explainCudaFailure({ ...linux, log: dlopenLog('/usr/local/cuda/lib64/libcufft.so.11') })).toMatch(/needs libcufft\.so\.11 \(cuFFT for CUDA 12\)/);
  });

  it("Windows' loader names no library: says which to install", () => {
    const log =
      '[E:onnxruntime:Default, provider_bridge_ort.cc:1992 onnxruntime::TryGetProviderInfo_CUDA] D:\\a\\_work\\1\\s\\onnxruntime\\core\\session\\provider_bridge_ort.cc:1637 onnxruntime::ProviderLibrary::Get [ONNXRuntimeError] : 1 : FAIL : LoadLibrary failed with error 126 "" when trying to load "C:\\app\\onnxruntime_providers_cuda.dll"';
    expect(explainCudaFailure({ ...linux, platform: 'win32', log })).toMatch(/^a library the CUDA provider needs could not be loaded .*CUDA 12 runtime, cuBLAS and cuDNN 9 .*PATH$/);
  });

  it('no GPU, or a driver too old for CUDA 12', () => {
    const failure = (what: string) =>
      `/onnxruntime_src/onnxruntime/core/providers/cuda/cuda_call.cc:123 std::conditional_t<THRW, void, onnxruntime::common::Status> onnxruntime::CudaCall(ERRTYPE, const char*, const char*, ERRTYPE, const char*, const char*, int) [with ERRTYPE = cudaError; bool THRW = true] ${what} ; GPU=32635 ; hostname=5ace ; file=/onnxruntime_src/onnxruntime/core/providers/cuda/cuda_execution_provider.cc ; line=245 ; expr=cudaSetDevice(info_.device_id);`;
    expect(explainCudaFailure({ ...linux, message: failure('CUDA failure 100: no CUDA-capable device is detected') })).toMatch(/^no NVIDIA GPU found/);
    expect(explainCudaFailure({ ...linux, message: failure('CUDA failure 35: CUDA driver version is insufficient for CUDA runtime version') })).toBe(
      'the NVIDIA driver is too old for CUDA 12: update it',
    );
  });

  it('the bare message onnxruntime-node hands back, with no log to read: lists what may be missing', () => {
    expect(explainCudaFailure(linux)).toMatch(/CUDA 12 runtime, cuBLAS, cuDNN 9 or the NVIDIA driver is missing/);
    // Anything else is passed on as it is.
    expect(explainCudaFailure({ ...linux, message: 'out of memory' })).toBe('out of memory');
  });
});
