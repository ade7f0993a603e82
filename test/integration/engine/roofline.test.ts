import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kvBytesPerStep, measureBandwidth, weightBytesPerStep } from '../../../src-main/engine/roofline';
import { convertTiny, type TinyModel } from './tiny-model';

let model: TinyModel;
beforeAll(async () => {
  model = await convertTiny();
});
afterAll(async () => {
  await model?.dispose();
});

describe('the decode roofline', () => {
  it('counts every weight a step reads once, and the position table not at all', async () => {
    // The fixture's GPT-2 (n_embd 64, n_inner 256, 2 layers, vocabulary 1000), counted from its shapes: per layer
    // two LayerNorms, c_attn, c_proj, c_fc and the MLP's c_proj with their biases; then ln_f and the tied wte,
    // which the lm_head reads in full. wpe (256 × 64) is only looked up.
    const e = 64, inner = 256;
    const layer = 2 * 2 * e + (e * 3 * e + 3 * e) + (e * e + e) + (e * inner + inner) + (inner * e + e);
    expect(await weightBytesPerStep(model.dir)).toBe(4 * (2 * layer + 2 * e + 1000 * e));
  });

  it('counts the keys and values of every layer at the cache type', () => {
    const manifest = model.session.manifest;
    expect(kvBytesPerStep(manifest, 100)).toBe(2 * 2 * 100 * 64 * 4);
    expect(kvBytesPerStep({ ...manifest, kvType: 'float16' }, 100)).toBe(2 * 2 * 100 * 64 * 2);
  });

  it('measures a positive bandwidth with onnxruntime', async () => {
    const bw = await measureBandwidth(1, { megabytes: 16, runs: 3 });
    expect(bw.medianGBs).toBeGreaterThan(0);
    expect(bw.bestGBs).toBeGreaterThanOrEqual(bw.medianGBs);
  });
});
