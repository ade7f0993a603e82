import type { Tensor } from 'onnxruntime-node';
import { loadOrt } from '../../engine/session';
import type { Checkpoint } from '../format/checkpoint';
import { mlpActivation } from './gpt2-graph';
import { GraphBuilder } from './graph';

/** Mean squared activation entering each input channel of a matrix, by the weight's checkpoint name. */
export type ChannelImportance = Map<string, Float32Array>;

export interface Calibration {
  /** Tokens the statistics were measured on. */
  tokens: number;
  importance: ChannelImportance;
}

/** Calibration text is cut into rows of at most this many tokens (or the model's context, if shorter)… */
const WINDOW = 256;
/** …and at most this many tokens in all: enough for stable channel statistics, a few seconds on the 1.3B model. */
export const MAX_CALIBRATION_TOKENS = 512;

/** The tensors of one layer, in the order the layer graph takes them as inputs. */
const LAYER_TENSORS = [
  'ln_1.weight',
  'ln_1.bias',
  'attn.c_attn.weight',
  'attn.c_attn.bias',
  'attn.c_proj.weight',
  'attn.c_proj.bias',
  'ln_2.weight',
  'ln_2.bias',
  'mlp.c_fc.weight',
  'mlp.c_fc.bias',
  'mlp.c_proj.weight',
  'mlp.c_proj.bias',
] as const;
/** The matrices whose inputs the layer graph measures, in the order of its statistics outputs. */
const MEASURED = ['attn.c_attn.weight', 'attn.c_proj.weight', 'mlp.c_fc.weight', 'mlp.c_proj.weight'] as const;

/**
 * Runs the checkpoint's float32 model over `ids` (the calibration text) one layer at a time and measures, for every
 * matrix the converter quantizes, the mean square of each input channel: the weight an error in that channel carries
 * in the output (activation-aware quantization, as AWQ and llama.cpp's importance matrix use it).
 * One layer graph takes the layer's weights as inputs, so one onnxruntime session serves every layer and only one
 * layer's weights are in memory at a time.
 */
export async function calibrate(checkpoint: Checkpoint, ids: number[], onLayer?: (done: number, total: number) => void): Promise<Calibration> {
  const { config } = checkpoint;
  const width = Math.min(WINDOW, config.nPositions);
  const used = ids.slice(0, MAX_CALIBRATION_TOKENS);
  const rows = Math.max(1, Math.floor(used.length / width));
  const length = Math.min(width, used.length);
  const tokens = rows * length;
  if (length < 2) throw new RangeError('calibration needs at least two tokens');
  const d = config.nEmbd;

  let hidden = await embed(checkpoint, used.slice(0, tokens), length);
  const ort = await loadOrt();
  const graph = layerGraph(checkpoint);
  const session = await ort.InferenceSession.create(graph, { graphOptimizationLevel: 'all' });
  const importance: ChannelImportance = new Map();
  try {
    // Causal mask as an additive bias: 0 where a query may see a key, -1e9 where not.
    const mask = new Float32Array(length * length);
    for (let q = 0; q < length; q++) mask.fill(-1e9, q * length + q + 1, (q + 1) * length);
    for (let i = 0; i < config.nLayer; i++) {
      const feeds: Record<string, Tensor> = {
        hidden: new ort.Tensor('float32', hidden, [rows, length, d]),
        mask: new ort.Tensor('float32', mask, [length, length]),
      };
      for (const name of LAYER_TENSORS) {
        const full = `h.${i}.${name}`;
        feeds[name] = new ort.Tensor('float32', await checkpoint.readF32(full), checkpoint.info(full).shape);
      }
      const out = await session.run(feeds);
      hidden = out['next']!.data as Float32Array;
      MEASURED.forEach((name, j) => importance.set(`h.${i}.${name}`, out[`ms${j}`]!.data as Float32Array));
      onLayer?.(i + 1, config.nLayer);
    }
  } finally {
    await session.release();
  }
  const head = config.tieWordEmbeddings ? 'wte.weight' : 'lm_head.weight';
  importance.set(head, meanSquares(await finalNorm(checkpoint, hidden), d));
  return { tokens, importance };
}

/** Token plus position embeddings of `ids` cut into rows of `length`, `[rows · length, n_embd]`. */
async function embed(checkpoint: Checkpoint, ids: number[], length: number): Promise<Float32Array> {
  const d = checkpoint.config.nEmbd;
  const wte = await checkpoint.readF32('wte.weight');
  const wpe = await checkpoint.readF32('wpe.weight');
  const out = new Float32Array(ids.length * d);
  ids.forEach((id, t) => {
    const position = t % length;
    for (let c = 0; c < d; c++) out[t * d + c] = wte[id * d + c]! + wpe[position * d + c]!;
  });
  return out;
}

/** ln_f over every position: what the lm_head reads. */
async function finalNorm(checkpoint: Checkpoint, hidden: Float32Array): Promise<Float32Array> {
  const d = checkpoint.config.nEmbd;
  const gain = await checkpoint.readF32('ln_f.weight');
  const bias = await checkpoint.readF32('ln_f.bias');
  const out = new Float32Array(hidden.length);
  for (let start = 0; start < hidden.length; start += d) {
    let mean = 0;
    for (let c = 0; c < d; c++) mean += hidden[start + c]!;
    mean /= d;
    let variance = 0;
    for (let c = 0; c < d; c++) variance += (hidden[start + c]! - mean) ** 2;
    const inv = 1 / Math.sqrt(variance / d + checkpoint.config.layerNormEpsilon);
    for (let c = 0; c < d; c++) out[start + c] = (hidden[start + c]! - mean) * inv * gain[c]! + bias[c]!;
  }
  return out;
}

function meanSquares(values: Float32Array, channels: number): Float32Array {
  const sums = new Float64Array(channels);
  for (let i = 0; i < values.length; i++) sums[i % channels]! += values[i]! * values[i]!;
  const positions = values.length / channels;
  return Float32Array.from(sums, (s) => s / positions);
}

/**
 * One GPT-2 layer in float32 with its weights as inputs: `hidden [rows, length, n_embd]` and the causal `mask`
 * bias in, `next` (the layer's output) and `ms0`…`ms3` (mean squares of the inputs of c_attn, attn.c_proj, c_fc and
 * mlp.c_proj, per channel) out.
 */
function layerGraph(checkpoint: Checkpoint): Uint8Array {
  const { nEmbd: d, nHead, headDim, nInner, layerNormEpsilon, activation } = checkpoint.config;
  const g = new GraphBuilder();
  const i64 = (...values: number[]) => g.constant('int64', [values.length], values);
  const hidden = g.input({ name: 'hidden', type: 'float32', shape: ['rows', 'length', d] });
  const mask = g.input({ name: 'mask', type: 'float32', shape: ['length', 'length'] });
  const w = Object.fromEntries(
    LAYER_TENSORS.map((name) => [name, g.input({ name, type: 'float32', shape: checkpoint.info(`h.0.${name}`).shape })]),
  ) as Record<(typeof LAYER_TENSORS)[number], string>;
  const stats: string[] = [];
  const measure = (x: string) => {
    stats.push(g.op('ReduceMean', [g.op('Mul', [x, x])], { axes: [0, 1], keepdims: 0 }));
    return x;
  };
  const layerNorm = (x: string, gain: string, bias: string) =>
    g.op('LayerNormalization', [x, gain, bias], { axis: -1, epsilon: { float: layerNormEpsilon } });
  const linear = (x: string, weight: string, bias: string) => g.op('Add', [g.op('MatMul', [x, weight]), bias]);
  const heads = (x: string) => g.op('Transpose', [g.op('Reshape', [x, i64(0, 0, nHead, headDim)])], { perm: [0, 2, 1, 3] });

  const x = measure(layerNorm(hidden, w['ln_1.weight'], w['ln_1.bias']));
  const [q, k, v] = g.node('Split', [linear(x, w['attn.c_attn.weight'], w['attn.c_attn.bias']), i64(d, d, d)], { axis: 2 }, { outputs: 3 }) as [string, string, string];
  const scores = g.op('Mul', [g.op('MatMul', [heads(q), g.op('Transpose', [heads(k)], { perm: [0, 1, 3, 2] })]), g.constant('float32', [], [1 / Math.sqrt(headDim)])]);
  const probs = g.op('Softmax', [g.op('Add', [scores, mask])], { axis: -1 });
  const context = measure(g.op('Reshape', [g.op('Transpose', [g.op('MatMul', [probs, heads(v)])], { perm: [0, 2, 1, 3] }), i64(0, 0, d)]));
  const attended = g.op('Add', [hidden, linear(context, w['attn.c_proj.weight'], w['attn.c_proj.bias'])]);
  const y = measure(layerNorm(attended, w['ln_2.weight'], w['ln_2.bias']));
  const act = measure(mlpActivation(g, activation, g.op('MatMul', [y, w['mlp.c_fc.weight']]), w['mlp.c_fc.bias']));
  g.node('Add', [attended, linear(act, w['mlp.c_proj.weight'], w['mlp.c_proj.bias'])], {}, { outputs: ['next'] });
  g.output({ name: 'next', type: 'float32', shape: ['rows', 'length', d] });
  stats.forEach((name, j) => {
    g.node('Identity', [name], {}, { outputs: [`ms${j}`] });
    g.output({ name: `ms${j}`, type: 'float32', shape: [j === 3 ? nInner : d] });
  });
  return g.encode({ name: 'calibration-layer', dataFile: '', opset: 17, producer: 'tsuzuki' });
}
