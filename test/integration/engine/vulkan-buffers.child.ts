/**
 * Child of vulkan-buffers.test.ts, started with the buffer-log layer in its environment: runs a small graph on
 * onnxruntime's WebGPU provider for each row count given as an argument and prints one JSON line for the session's
 * creation, one per run and one for its release: the Vulkan buffers created and destroyed during each.
 */
import { loadOrt } from '../../../src-main/engine/session';
import { GraphBuilder } from '../../../src-main/model/convert/graph';
import { readBufferLog } from '../../helpers/vulkan-buffers';

const WIDTH = 64;
const log = process.env.TSUZUKI_VK_BUFFER_LOG!;

// x [rows, 64] · w [64, 64], then tanh: a weight, an intermediate and an output per run.
const g = new GraphBuilder();
const x = g.input({ name: 'x', type: 'float32', shape: ['rows', WIDTH] });
const w = g.constant('float32', [WIDTH, WIDTH], Array.from({ length: WIDTH * WIDTH }, (_, i) => ((i % 7) - 3) / 64));
g.output({ name: g.op('Tanh', [g.op('MatMul', [x, w])]), type: 'float32', shape: ['rows', WIDTH] });

const ort = await loadOrt();
const session = await ort.InferenceSession.create(g.encode({ name: 'buffers', dataFile: '', opset: 17, producer: 'tsuzuki' }), {
  executionProviders: ['webgpu'],
});
let seen = 0;
const report = async (line: Record<string, unknown>) => {
  const records = await readBufferLog(log);
  console.log(JSON.stringify({ ...line, records: records.slice(seen) }));
  seen = records.length;
};
await report({ step: 'session' });
for (const rows of process.argv.slice(2).map(Number)) {
  await session.run({ x: new ort.Tensor('float32', new Float32Array(rows * WIDTH).fill(0.5), [rows, WIDTH]) });
  await report({ step: 'run', rows });
}
await session.release();
await report({ step: 'released' });
