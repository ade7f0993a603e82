/**
 * Why onnxruntime-node's CUDA provider cannot run here, in words that say what to install.
 *
 * What onnxruntime-node 1.30 needs for CUDA (read from its package and install script, and from onnxruntime's
 * messages in its issue tracker):
 * - Its npm package carries no CUDA provider. On Linux x64 its install script downloads
 *   `libonnxruntime_providers_cuda.so` and `libonnxruntime_providers_shared.so` from the
 *   Microsoft.ML.OnnxRuntime.Gpu.Linux 1.30.0 NuGet package into `bin/napi-v6/linux/x64/`; this project skips that
 *   step (`.npmrc`: onnxruntime-node-install=skip). On Windows the script fetches nothing, so
 *   `onnxruntime_providers_cuda.dll` and `onnxruntime_providers_shared.dll` must be copied in by hand (from the
 *   `onnxruntime-gpu` 1.30 wheel's `onnxruntime/capi/`, which holds the same files for both systems). macOS and
 *   Linux arm64 have no CUDA build.
 * - The provider library itself links against the CUDA 12 runtime (libcudart.so.12), cuBLAS (libcublas.so.12,
 *   libcublasLt.so.12), cuFFT and cuRAND, and cuDNN 9 (libcudnn*.so.9), found on the loader's path
 *   (LD_LIBRARY_PATH, PATH on Windows), and an NVIDIA driver new enough for CUDA 12.
 * - A failure reaches JavaScript only as "OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared
 *   library"; which file was missing is in onnxruntime's log on standard error ("Failed to load library
 *   libonnxruntime_providers_cuda.so with error: libcublasLt.so.12: cannot open shared object file"), which the
 *   device probe's child process catches. Windows' loader names no file ("LoadLibrary failed with error 126").
 *   A missing GPU or an old driver fails later, at session creation: "CUDA failure 100: no CUDA-capable device is
 *   detected", "CUDA failure 35: CUDA driver version is insufficient for CUDA runtime version".
 */

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The provider's own files, which onnxruntime-node's folder must hold. */
export function cudaProviderFiles(platform: NodeJS.Platform): string[] {
  return platform === 'win32'
    ? ['onnxruntime_providers_cuda.dll', 'onnxruntime_providers_shared.dll']
    : ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'];
}

export interface CudaFailure {
  /** onnxruntime's error message. */
  message: string;
  /** What onnxruntime and the loader printed on standard error meanwhile ('' where it was not caught). */
  log: string;
  platform: NodeJS.Platform;
  /** onnxruntime-node's native folder, and which of `cudaProviderFiles` it lacks. */
  folder: string;
  missingFiles: string[];
}

/** What each CUDA library the provider loads comes with. */
const LIBRARIES: [RegExp, string][] = [
  [/^(?:lib)?cuda\.so|^nvcuda/, 'the NVIDIA driver'],
  [/^(?:lib)?cudart/, 'the CUDA 12 runtime'],
  [/^(?:lib)?cublas/, 'cuBLAS for CUDA 12'],
  [/^(?:lib)?cudnn/, 'cuDNN 9 for CUDA 12'],
  [/^(?:lib)?cufft/, 'cuFFT for CUDA 12'],
  [/^(?:lib)?curand/, 'cuRAND for CUDA 12'],
  [/^(?:lib)?nvrtc/, 'NVRTC for CUDA 12'],
];

/** The CUDA provider's failure in words: what is missing and how to get it. */
export function explainCudaFailure({ message, log, platform, folder, missingFiles }: CudaFailure): string {
  const text = `${message}\n${log}`;
  if (missingFiles.length > 0) {
    const fetch = platform === 'linux' ? 'reinstall onnxruntime-node with its CUDA step (`npm rebuild onnxruntime-node --onnxruntime-node-install=cuda12`, which downloads them), or ' : '';
    return `onnxruntime-node's CUDA provider is not installed: ${folder} lacks ${missingFiles.join(' and ')}. To use an NVIDIA GPU, ${fetch}copy them from the onnxruntime-gpu 1.30 wheel (onnxruntime/capi/) into that folder`;
  }
  // dlopen's words: "Failed to load library libonnxruntime_providers_cuda.so with error: libcublasLt.so.12: cannot open …"
  const missing = /with error: ([^\s:]+): cannot open shared object file/.exec(text)?.[1]?.split('/').at(-1);
  if (missing) {
    const what = LIBRARIES.find(([name]) => name.test(missing))?.[1];
    if (what === 'the NVIDIA driver') return `no NVIDIA driver: the loader could not open ${missing}. Install the NVIDIA driver`;
    return `the CUDA provider needs ${missing}${what ? ` (${what})` : ''}, which the loader could not open. Install it and put its folder on LD_LIBRARY_PATH`;
  }
  if (/LoadLibrary failed with error 126/.test(text)) {
    return 'a library the CUDA provider needs could not be loaded (Windows does not say which): install the CUDA 12 runtime, cuBLAS and cuDNN 9 and put their bin folders on PATH';
  }
  if (/CUDA failure 100\b|no CUDA-capable device/.test(text)) return 'no NVIDIA GPU found (CUDA sees no device): check that the GPU and its driver are installed';
  if (/CUDA failure 35\b|driver version is insufficient/.test(text)) return 'the NVIDIA driver is too old for CUDA 12: update it';
  if (/Failed to load shared library/.test(text)) {
    return "the CUDA provider could not be loaded: the CUDA 12 runtime, cuBLAS, cuDNN 9 or the NVIDIA driver is missing or not on the loader's path";
  }
  return message;
}

/** onnxruntime-node's native folder here, where its provider libraries are looked for. */
export function ortNativeFolder(): string {
  const entry = createRequire(import.meta.url).resolve('onnxruntime-node');
  return join(dirname(dirname(entry)), 'bin', 'napi-v6', process.platform, process.arch);
}

/** Which of the CUDA provider's own files that folder lacks (all of them where it cannot be found). */
export function missingCudaFiles(): string[] {
  const files = cudaProviderFiles(process.platform);
  try {
    const folder = ortNativeFolder();
    return files.filter((file) => !existsSync(join(folder, file)));
  } catch {
    return files;
  }
}
