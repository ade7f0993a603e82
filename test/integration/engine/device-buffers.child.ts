/**
 * Child of device-buffers.test.ts, started with the Vulkan buffer log in its environment: loads the model folder
 * given as the first argument on WebGPU and decodes greedily, one row and then three, printing one JSON line per
 * step with the Vulkan buffers created and destroyed during it.
 */
import { DecoderSession } from '../../../src-main/engine/session';
import { readBufferLog } from '../../helpers/vulkan-buffers';

const [dir, steps] = [process.argv[2]!, Number(process.argv[3])];
const log = process.env.TSUZUKI_VK_BUFFER_LOG!;
const session = await DecoderSession.load(dir, { executionProvider: 'webgpu', threads: 1 });
let seen = (await readBufferLog(log)).length;
const report = async (line: Record<string, unknown>) => {
  const records = await readBufferLog(log);
  console.log(JSON.stringify({ ...line, records: records.slice(seen) }));
  seen = records.length;
};

const prompt = Array.from({ length: 20 }, (_, i) => (i * 37 + 11) % 1000);
const argmax = (row: Float32Array) => row.reduce((best, v, i) => (v > row[best]! ? i : best), 0);
for (const rows of [1, 3]) {
  const first = await session.forward({ ids: [prompt], attentionMask: [prompt.map(() => 1)], positionIds: [prompt.map((_, i) => i)], logitsToKeep: 1 });
  const shared = first.cache;
  await report({ rows, step: 'prefill' });
  const cache = session.newCache(rows, steps);
  let next = Array<number>(rows).fill(argmax(first.logits));
  for (let step = 0; step < steps; step++) {
    const seen = shared.length + cache.length;
    const out = await session.forward({
      ids: next.map((id) => [id]),
      attentionMask: next.map(() => Array<number>(seen + 1).fill(1)),
      positionIds: next.map(() => [seen]),
      cache,
      shared,
    });
    const vocab = out.dims[2];
    next = next.map((_, r) => argmax(out.logits.subarray(r * vocab, (r + 1) * vocab)));
    await report({ rows, step });
  }
  cache.release();
  shared.release();
}
await session.release();
