import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceOffers, describeProbe, fasterThanCpu, loadModel, probeMs, usableProviders } from '../../../src-main/engine/device';
import { missingCudaFiles } from '../../../src-main/engine/cuda-diagnosis';
import { probeOffThread } from '../../../src-main/engine/device-probe';
import { cpuReference, decodeStepMs, probeLogits, SELF_TEST_FILE, selfTest } from '../../../src-main/engine/self-test';
import { DecoderSession } from '../../../src-main/engine/session';
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
    expect(loaded.probe).toBeNull();
    await loaded.session.release();
  });

  it('a device this platform lacks falls back to the CPU and says why', async () => {
    const device = process.platform === 'win32' ? 'coreml' : 'dml';
    const loaded = await loadModel(model.dir, device, { threads: 1 });
    expect(loaded.device).toBe('cpu');
    expect(loaded.fallbackReason).toMatch(new RegExp(`^${device}: `));
    await loaded.session.release();
  });

  // This project installs onnxruntime-node without its CUDA provider (.npmrc); where it is missing, a named `cuda` says
  // which files, where, and how to get them.
  it.runIf(missingCudaFiles().length > 0)('cuda without its provider library falls back and says what to install', async () => {
    const loaded = await loadModel(model.dir, 'cuda', { threads: 1 });
    await loaded.session.release();
    expect(loaded.device).toBe('cpu');
    expect(loaded.fallbackReason).toMatch(/^cuda: onnxruntime-node's CUDA provider is not installed: .*onnxruntime-node.* lacks .*onnxruntime_providers_cuda\.(so|dll)/);
    expect(loaded.fallbackReason).toContain('onnxruntime-gpu 1.30 wheel');
  });

  // This build bundles WebGPU everywhere. With no adapter it fails to load and says so; with one (Mesa's lavapipe
  // on the CI machines, a real GPU elsewhere) the runtime graph runs there and its self-test agrees with the CPU.
  it('webgpu runs the model where an adapter exists, and otherwise falls back and says why', async () => {
    const loaded = await loadModel(model.dir, 'webgpu', { threads: 1 });
    // A named device is not second-guessed by speed.
    expect(loaded.probe).toBeNull();
    if (loaded.device === 'webgpu') {
      expect(loaded.fallbackReason).toBeNull();
      // The CPU's side of the self-test, kept for the next start.
      expect(JSON.parse(await readFile(join(model.dir, SELF_TEST_FILE), 'utf8')).key).toMatch(/^tsuzuki-convert \d+ .*; onnxruntime \d+\.\d+\.\d+$/);
    } else expect(loaded.fallbackReason).toMatch(/^webgpu: /);
    await loaded.session.release();
  });

  // Three probes and a model load, each probe in a process of its own: slow on a busy two-core machine.
  it('auto keeps WebGPU only when it computes faster than the CPU, and otherwise runs on the CPU without a warning', { timeout: 180_000 }, async () => {
    const cpuMs = await probeMs('cpu', 1);
    expect(cpuMs).toBeGreaterThan(0);
    expect(cpuMs).toBeLessThan(60_000);
    const gpuMs = await probeOffThread({ provider: 'webgpu', threads: 1, cpuMs }).then(
      (times) => times.deviceMs,
      () => null,
    );
    const loaded = await loadModel(model.dir, 'auto', { threads: 1 });
    await loaded.session.release();
    if (loaded.device === 'cuda') return; // a machine with CUDA installed tries it first
    // What decided is recorded, and the choice follows its numbers.
    if (gpuMs !== null) {
      const probe = loaded.probe!;
      expect(probe.device).toBe('webgpu');
      expect(loaded.device).toBe(fasterThanCpu(probe) ? 'webgpu' : 'cpu');
      expect(describeProbe(probe)).toMatch(/^(faster|slower) than the CPU on (a test computation|a decode step of this model) \(\d+\.\d ms against \d+\.\d ms\)$/);
    } else expect(loaded.probe).toBeNull();
    // The providers the app lists (and that make fp16 the recommended download) count WebGPU as auto does.
    const listed = (await usableProviders()).includes('webgpu');
    // A machine without a GPU that beats the CPU is a normal machine: the CPU is the plan, not a fallback.
    if (gpuMs === null) {
      expect(loaded.device).toBe('cpu');
      expect(loaded.fallbackReason).toBeNull();
      expect(listed).toBe(false);
    } else if (gpuMs > 2 * cpuMs) {
      // A software adapter: the self-test would pass, but every step would crawl.
      expect(loaded.device).toBe('cpu');
      expect(loaded.fallbackReason).toBeNull();
      expect(listed).toBe(false);
    } else if (gpuMs < cpuMs / 2) {
      expect(loaded.device).toBe('webgpu');
      expect(listed).toBe(true);
    }
  });

  // The Vulkan loader reads its drivers from these variables (the probe's process inherits them): pointing them
  // nowhere is a machine without a driver. Dawn's own log of it stays in that process; the reason is in words.
  it.runIf(process.platform === 'linux')('auto without a Vulkan driver runs on the CPU, as a machine without a GPU does: no warning', async () => {
    const saved = { VK_ICD_FILENAMES: process.env.VK_ICD_FILENAMES, VK_DRIVER_FILES: process.env.VK_DRIVER_FILES };
    process.env.VK_ICD_FILENAMES = process.env.VK_DRIVER_FILES = '/nonexistent/icd.json';
    try {
      const loaded = await loadModel(model.dir, 'auto', { threads: 1 });
      await loaded.session.release();
      if (loaded.device === 'cuda') return; // a machine with CUDA installed tries it first
      expect(loaded.device).toBe('cpu');
      expect(loaded.fallbackReason).toBeNull();
      expect(loaded.probe).toBeNull(); // nothing could be measured
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it("offers this platform's and this build's devices, each runnable or not with the probe's reason", { timeout: 180_000 }, async () => {
    const offers = await deviceOffers();
    const devices = offers.map((o) => o.device);
    expect(offers[0]).toEqual({ device: 'cpu', runnable: true, blocked: null, detail: null });
    if (process.platform !== 'win32') expect(devices).not.toContain('dml');
    if (process.platform !== 'darwin') expect(devices).not.toContain('coreml');
    for (const offer of offers.slice(1)) {
      expect(offer.runnable).toBe(offer.blocked === null);
      if (offer.blocked === 'slower') expect(offer.detail).toMatch(/^slower than the CPU on a test computation/);
      if (offer.blocked === 'unavailable') expect(offer.detail).toMatch(/\S/);
    }
    expect(await usableProviders()).toEqual(offers.filter((o) => o.runnable).map((o) => o.device));
  });

  it('rejects an unknown device', async () => {
    await expect(loadModel(model.dir, 'tpu' as never)).rejects.toThrow(/Unknown device "tpu"/);
  });

  it('the self-test accepts an agreeing device and rejects one whose logits are off', async () => {
    const reference = await probeLogits(model.session);
    await selfTest(model.session, reference);
    // A device that computes wrong numbers: the same session with its logits shifted for some tokens.
    const forward = model.session.forward.bind(model.session);
    const broken = Object.assign(Object.create(model.session) as DecoderSession, {
      async forward(input: Parameters<DecoderSession['forward']>[0]) {
        const out = await forward(input);
        const logits = out.logits.slice();
        for (let i = 0; i < logits.length; i += 7) logits[i]! += 3;
        return { ...out, logits };
      },
    });
    await expect(selfTest(broken, reference)).rejects.toThrow(/differ from the CPU's/);
  });

  it("keeps the CPU's self-test logits beside the model: computed once per conversion and onnxruntime", async () => {
    await rm(join(model.dir, SELF_TEST_FILE), { force: true });
    let opened = 0;
    const openCpu = () => {
      opened++;
      return DecoderSession.load(model.dir, { threads: 1 });
    };
    const expected = await probeLogits(model.session);
    const first = await cpuReference(model.dir, 'conversion A', '1.30.0', openCpu);
    expect(first).toEqual({ logits: expected, decodeMs: null });
    expect(opened).toBe(1);
    expect((await cpuReference(model.dir, 'conversion A', '1.30.0', openCpu)).logits).toEqual(expected);
    expect(opened).toBe(1);
    // Another conversion into the same folder, or another onnxruntime: computed again.
    await cpuReference(model.dir, 'conversion B', '1.30.0', openCpu);
    await cpuReference(model.dir, 'conversion B', '1.31.0', openCpu);
    expect(opened).toBe(3);
    // A damaged file is computed again and replaced.
    await writeFile(join(model.dir, SELF_TEST_FILE), '{"key": "conversion B; onnxruntime 1.31.0", "ids": [1, 2');
    expect((await cpuReference(model.dir, 'conversion B', '1.31.0', openCpu)).logits).toEqual(expected);
    expect(opened).toBe(4);
    expect(JSON.parse(await readFile(join(model.dir, SELF_TEST_FILE), 'utf8')).key).toBe('conversion B; onnxruntime 1.31.0');
  });

  it("keeps the CPU's decode step time beside the model: measured once per conversion, onnxruntime and thread count", async () => {
    await rm(join(model.dir, SELF_TEST_FILE), { force: true });
    let opened = 0;
    const openCpu = (threads: number) => () => {
      opened++;
      return DecoderSession.load(model.dir, { threads });
    };
    const first = await cpuReference(model.dir, 'conversion A', '1.30.0', openCpu(1), 1);
    expect(first.decodeMs).toBeGreaterThan(0);
    expect(opened).toBe(1);
    // Stored: the logits alone, or the same thread count, open no CPU session.
    expect(await cpuReference(model.dir, 'conversion A', '1.30.0', openCpu(1))).toEqual({ logits: first.logits, decodeMs: null });
    expect(await cpuReference(model.dir, 'conversion A', '1.30.0', openCpu(1), 1)).toEqual(first);
    expect(opened).toBe(1);
    // Another thread count is measured and kept beside the first.
    const two = await cpuReference(model.dir, 'conversion A', '1.30.0', openCpu(2), 2);
    expect(two.logits).toEqual(first.logits);
    expect(opened).toBe(2);
    const stored = JSON.parse(await readFile(join(model.dir, SELF_TEST_FILE), 'utf8'));
    expect(stored.decodeMs).toEqual({ 1: first.decodeMs, 2: two.decodeMs });
    // A damaged time is measured again; another conversion drops the old times.
    await writeFile(join(model.dir, SELF_TEST_FILE), JSON.stringify({ ...stored, decodeMs: { 1: -3, 2: 'fast' } }));
    expect((await cpuReference(model.dir, 'conversion A', '1.30.0', openCpu(1), 1)).decodeMs).toBeGreaterThan(0);
    expect(opened).toBe(3);
    await cpuReference(model.dir, 'conversion B', '1.30.0', openCpu(1), 1);
    expect(opened).toBe(4);
    expect(Object.keys(JSON.parse(await readFile(join(model.dir, SELF_TEST_FILE), 'utf8')).decodeMs)).toEqual(['1']);
  });

  // The decode probe `auto` runs after a device's self-test, here on WebGPU wherever an adapter exists (lavapipe on
  // the CI machines): the model's decode step, timed on the device and on the CPU, decides.
  it('the decode probe times the decode step of the model on WebGPU and on the CPU', { timeout: 180_000 }, async () => {
    let session: DecoderSession;
    try {
      session = await DecoderSession.load(model.dir, { executionProvider: 'webgpu', threads: 1 });
    } catch (error) {
      expect((error as Error).message).toMatch(/webgpu/);
      return; // no adapter: the test above covers the fallback
    }
    try {
      const deviceMs = await decodeStepMs(session);
      const { decodeMs: cpuMs } = await cpuReference(model.dir, 'decode probe', '1.30.0', () => DecoderSession.load(model.dir, { threads: 1 }), 1);
      expect(deviceMs).toBeGreaterThan(0);
      expect(cpuMs).toBeGreaterThan(0);
      // The steps leave the session as it was: it still agrees with the CPU.
      await selfTest(session, await probeLogits(model.session));
    } finally {
      await session.release();
    }
  });

  it('a folder where the logits cannot be stored still gets its self-test, every time', async () => {
    // A directory where the file should be: it can be neither read nor replaced (root ignores permissions).
    await rm(join(model.dir, SELF_TEST_FILE), { force: true });
    await mkdir(join(model.dir, SELF_TEST_FILE));
    try {
      let opened = 0;
      const openCpu = () => {
        opened++;
        return DecoderSession.load(model.dir, { threads: 1 });
      };
      const expected = await probeLogits(model.session);
      expect((await cpuReference(model.dir, 'x', '1', openCpu)).logits).toEqual(expected);
      expect((await cpuReference(model.dir, 'x', '1', openCpu, 1)).decodeMs).toBeGreaterThan(0);
      expect(opened).toBe(2);
    } finally {
      await rm(join(model.dir, SELF_TEST_FILE), { recursive: true, force: true });
    }
  });
});
