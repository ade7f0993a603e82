import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, selfTest } from '../../../src-main/engine/device';
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

  // This build bundles WebGPU everywhere; with no GPU adapter (as on the CI machines) it fails to load and says so.
  it.each(['webgpu', process.platform === 'win32' ? 'coreml' : 'dml'] as const)(
    'an unavailable device (%s) falls back to the CPU and says why',
    async (device) => {
      const loaded = await loadModel(model.dir, device, { threads: 1 });
      expect(loaded.device).toBe('cpu');
      expect(loaded.fallbackReason).toMatch(new RegExp(`^${device}: `));
      await loaded.session.release();
    },
  );

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
