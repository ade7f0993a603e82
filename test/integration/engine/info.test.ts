/**
 * `tsuzuki info` speaks only in its own words: Dawn and the Vulkan loader log from native code straight to standard
 * error while the WebGPU probe looks for an adapter, so the probe runs in a child process that catches that log and
 * the command reports the adapter's state on standard output.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { AppInfo } from '../../../src-main/contract/contract';

const bin = fileURLToPath(new URL('../../../bin/tsuzuki.js', import.meta.url));

function info(env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, 'info'], { env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const states = /^(no adapter \(.+\)|faster than the CPU on a test computation \(.+\)|slower than the CPU on a test computation \(.+\), as a software or weak GPU is)$/;

describe('tsuzuki info', () => {
  it("prints nothing on standard error with this machine's GPU drivers, and the WebGPU adapter's state on standard output", async () => {
    const r = await info({});
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const { onnxruntime } = JSON.parse(r.stdout) as AppInfo;
    expect(onnxruntime.webgpu).toMatch(states);
    expect(onnxruntime.providers.includes('webgpu')).toBe(onnxruntime.webgpu!.startsWith('faster'));
  });

  // The Vulkan loader reads its drivers from these variables: pointing them nowhere is a machine without a driver.
  it.runIf(process.platform === 'linux')('says there is no Vulkan driver, in its own words, where none is installed', async () => {
    const r = await info({ VK_ICD_FILENAMES: '/nonexistent/icd.json', VK_DRIVER_FILES: '/nonexistent/icd.json' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const { onnxruntime } = JSON.parse(r.stdout) as AppInfo;
    expect(onnxruntime.webgpu).toBe('no adapter (no Vulkan driver found)');
    expect(onnxruntime.providers).toEqual(['cpu']);
  });
});
