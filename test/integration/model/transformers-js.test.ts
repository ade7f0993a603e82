import { copyFile, link, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutoModelForCausalLM, Tensor, env } from '@huggingface/transformers';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DecoderSession } from '../../../src-main/engine/session';
import { convertCheckpoint } from '../../../src-main/model/convert/convert';
import { FIXTURES, golden, maxAbsDiff } from './golden';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'tsuzuki-tjs-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

it('the exported fp32 model runs unchanged under transformers.js with the same logits and greedy continuation', async () => {
  const out = join(tmp, 'converted');
  await convertCheckpoint(join(FIXTURES, 'tiny-safetensors-fp32'), out, { precision: 'fp32', blockSize: 32 });
  // transformers.js wants a hub-like folder: config.json beside onnx/model.onnx (and its data file).
  const repo = join(tmp, 'repo');
  await mkdir(join(repo, 'onnx'), { recursive: true });
  await copyFile(join(FIXTURES, 'tiny-safetensors-fp32', 'config.json'), join(repo, 'config.json'));
  await link(join(out, 'model.onnx'), join(repo, 'onnx', 'model.onnx'));
  await link(join(out, 'model.onnx.data'), join(repo, 'onnx', 'model.onnx.data'));
  env.allowRemoteModels = false;
  env.localModelPath = tmp;
  const model = await AutoModelForCausalLM.from_pretrained('repo', { dtype: 'fp32', local_files_only: true });
  const session = await DecoderSession.load(out);
  try {
    for (const entry of golden.weights.fp32.slice(0, 4)) {
      const ids = entry.ids;
      const inputIds = new Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]);
      const mask = new Tensor('int64', BigInt64Array.from(ids, () => 1n), [1, ids.length]);
      const { logits } = (await model({ input_ids: inputIds, attention_mask: mask })) as { logits: Tensor };
      const vocab = logits.dims[2]!;
      const last = (logits.data as Float32Array).slice((ids.length - 1) * vocab);
      const ours = (await session.sequenceLogits([ids]))[0]![0]!;
      expect(maxAbsDiff(last, ours)).toBeLessThan(1e-4);

      const generated = (await model.generate({ input_ids: inputIds, attention_mask: mask, max_new_tokens: 8, do_sample: false })) as Tensor;
      const continuation = (generated.tolist() as bigint[][])[0]!.slice(ids.length).map(Number);
      expect(continuation).toEqual(entry.greedy.slice(0, 8));
    }
  } finally {
    await session.release();
    await model.dispose();
  }
});
