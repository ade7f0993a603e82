import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, probeMs, selfTest, usableProviders } from '../../../src-main/engine/device';
import type { DecoderSession } from '../../../src-main/engine/session';
import { convertTiny, type TinyModel } from './tiny-model';

let model: TinyModel;
beforeAll(async () => {
  model = await convertTiny();
});
afterAll(async () => {
  await model?.dispose();
});

describe('device choice', () => {
  it('cpu loads on the CPU with no fallback', async () => {
    const loaded = await loadModel(model.dir, 'cpu', { threads: 1 });
    expect(loaded.device).toBe('cpu');
    expect(loaded.fallbackReason).toBeNull();
    await loaded.session.release();
  });

  it('a device this platform lacks falls back to the CPU and says why', async () => {
    const device = process.platform === 'win32' ? 'coreml' : 'dml';
    const loaded = await loadModel(model.dir, device, { threads: 1 });
    expect(loaded.device).toBe('cpu');
    expect(loaded.fallbackReason).toMatch(new RegExp(`^${device}: `));
    await loaded.session.release();
  });

  // This build bundles WebGPU everywhere. With no adapter it fails to load and says so; with one (Mesa's lavapipe
  // on the CI machines, a real GPU elsewhere) the runtime graph runs there and its self-test agrees with the CPU.
  it('webgpu runs the model where an adapter exists, and otherwise falls back and says why', async () => {
    const loaded = await loadModel(model.dir, 'webgpu', { threads: 1 });
    if (loaded.device === 'webgpu') expect(loaded.fallbackReason).toBeNull();
    else expect(loaded.fallbackReason).toMatch(/^webgpu: /);
    await loaded.session.release();
  });

  it('auto keeps WebGPU only when it computes faster than the CPU', async () => {
    const cpuMs = await probeMs('cpu', 1);
    expect(cpuMs).toBeGreaterThan(0);
    expect(cpuMs).toBeLessThan(60_000);
    const gpuMs = await probeMs('webgpu', 1).catch(() => null);
    const loaded = await loadModel(model.dir, 'auto', { threads: 1 });
    await loaded.session.release();
    if (loaded.device === 'cuda') return; // a machine with CUDA installed tries it first
    // The providers the app lists (and that make fp16 the recommended download) count WebGPU as auto does.
    const listed = (await usableProviders()).includes('webgpu');
    if (gpuMs === null) {
      expect(loaded.device).toBe('cpu');
      expect(loaded.fallbackReason).toMatch(/^webgpu: /);
      expect(listed).toBe(false);
    } else if (gpuMs > 2 * cpuMs) {
      // A software adapter: the self-test would pass, but every step would crawl.
      expect(loaded.device).toBe('cpu');
      expect(loaded.fallbackReason).toMatch(/^webgpu: slower than the CPU on a test computation \(\d+\.\d ms against \d+\.\d ms\)/);
      expect(listed).toBe(false);
    } else if (gpuMs < cpuMs / 2) {
      expect(loaded.device).toBe('webgpu');
      expect(listed).toBe(true);
    }
  });

  it('rejects an unknown device', async () => {
    await expect(loadModel(model.dir, 'tpu' as never)).rejects.toThrow(/Unknown device "tpu"/);
  });

  it('the self-test accepts an agreeing device and rejects one whose logits are off', async () => {
    await selfTest(model.session, model.session);
    // A device that computes wrong numbers: the same session with its logits shifted for some tokens.
    const broken = {
      manifest: model.session.manifest,
      async forward(input: Parameters<DecoderSession['forward']>[0]) {
        const out = await model.session.forward(input);
        const logits = out.logits.slice();
        for (let i = 0; i < logits.length; i += 7) logits[i]! += 3;
        return { ...out, logits };
      },
    } as unknown as DecoderSession;
    await expect(selfTest(broken, model.session)).rejects.toThrow(/differ from the CPU's/);
  });
});
