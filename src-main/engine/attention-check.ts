/**
 * Whether onnxruntime's GroupQueryAttention computes right on a provider, measured once per process on a small
 * graph against the CPU's. onnxruntime 1.30's WebGPU kernel for a step of 32 positions or more (its flash-attention
 * prefill) goes wrong from the query at the adapter's subgroup size onward when that is small: Mesa's lavapipe
 * (subgroups of 8 on AVX2, 4 on SSE, 16 with LP_NATIVE_VECTOR_WIDTH=512) errs by 1e-2 there, which becomes whole
 * units of logits in a model, while steps of up to 31 positions are right. Such a device runs long steps in chunks.
 */
import type * as OrtModule from 'onnxruntime-node';
import { GraphBuilder, MS_DOMAIN } from '../model/convert/graph';
import type { ExecutionProvider } from './session';

/** The longest step checked: one beyond the last length the short kernel serves. */
const LONG = 32;
const HEADS = 2;
const HEAD_DIM = 16;
/** Far above float32 rounding (1e-7 here), far below what the broken kernel gives (1e-2). */
const TOLERANCE = 1e-4;

/**
 * The most positions one step may hold on `provider`: Infinity where every length computes right, 31 where only
 * short steps do. Rejects where even short steps are wrong (the device graph cannot run there).
 */
export function attentionStepLimit(ort: typeof OrtModule, provider: ExecutionProvider): Promise<number> {
  if (provider === 'cpu') return Promise.resolve(Infinity);
  let limit = checked.get(provider);
  if (!limit) {
    limit = measure(ort, provider);
    checked.set(provider, limit);
  }
  return limit;
}
const checked = new Map<ExecutionProvider, Promise<number>>();

async function measure(ort: typeof OrtModule, provider: ExecutionProvider): Promise<number> {
  const g = new GraphBuilder();
  const width = HEADS * HEAD_DIM;
  const qkv = g.input({ name: 'qkv', type: 'float32', shape: [1, 'seq', 3 * width] });
  const past = g.input({ name: 'past', type: 'float32', shape: [1, HEADS, 0, HEAD_DIM] });
  const seqlens = g.input({ name: 'seqlens_k', type: 'int32', shape: [1] });
  const total = g.input({ name: 'total', type: 'int32', shape: [] });
  g.node('GroupQueryAttention', [qkv, '', '', past, past, seqlens, total], { num_heads: HEADS, kv_num_heads: HEADS }, { domain: MS_DOMAIN, outputs: ['out', 'key', 'value'] });
  g.output({ name: 'out', type: 'float32', shape: [1, 'seq', width] });
  const model = g.encode({ name: 'attention-check', dataFile: '', opset: 17, producer: 'tsuzuki' });
  const [device, cpu] = await Promise.all([
    ort.InferenceSession.create(model, { executionProviders: [provider], logSeverityLevel: 3 }),
    ort.InferenceSession.create(model, { executionProviders: ['cpu'], logSeverityLevel: 3 }),
  ]);
  try {
    const wrong = async (seq: number) => {
      const values = Float32Array.from({ length: seq * 3 * width }, (_, i) => Math.sin(i * 0.37));
      const feeds = {
        qkv: new ort.Tensor('float32', values, [1, seq, 3 * width]),
        past: new ort.Tensor('float32', new Float32Array(0), [1, HEADS, 0, HEAD_DIM]),
        seqlens_k: new ort.Tensor('int32', Int32Array.of(seq - 1), [1]),
        total: new ort.Tensor('int32', Int32Array.of(seq), []),
      };
      const [a, b] = [(await device.run(feeds))['out']!.data as Float32Array, (await cpu.run(feeds))['out']!.data as Float32Array];
      return a.some((v, i) => !(Math.abs(v - b[i]!) <= TOLERANCE));
    };
    if (!(await wrong(LONG))) return Infinity;
    if (await wrong(LONG - 1)) throw new Error(`its attention kernel (GroupQueryAttention) computes wrong results on this adapter`);
    return LONG - 1;
  } finally {
    await Promise.all([device.release(), cpu.release()]);
  }
}
