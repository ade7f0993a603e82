import type { Gpt2Config } from './config';
import { MS_DOMAIN, type GraphBuilder } from './graph';

/** A matrix for `x @ W`, as the weight store wrote it. */
export type LinearWeight =
  | { kind: 'dense'; weight: string }
  /** `MatMulNBits` layout: W^T `[N, blocks, blob]`, scales, zero points. */
  | { kind: 'quant'; data: string; scales: string; zeroPoints: string; bits: 4 | 8; blockSize: number; k: number; n: number };

/** The vocabulary table, read by the embedding lookup and (tied or not) the lm_head. */
export type TokenTable =
  | { kind: 'dense'; table: string }
  /** Block-quantized `[V, D]`: `gather` names are shaped for `GatherBlockQuantized`, `head` for `MatMulNBits`. */
  | {
      kind: 'quant';
      gather: { data: string; scales: string; zeroPoints: string };
      head: Extract<LinearWeight, { kind: 'quant' }>;
    };

/**
 * Writes the weights as the graph asks for them, in model order, and returns initializer names. It decides the
 * storage (fp32, fp16, block-quantized); the graph only decides which operators read them.
 */
export interface WeightStore {
  /** A vector or small table stored as-is in the compute type (LayerNorm, biases, position embeddings). */
  tensor(name: string): Promise<string>;
  /** A Hugging Face Conv1D weight `[in, out]`. */
  linear(name: string): Promise<LinearWeight>;
  /** `[rows, n_embd]` table: `wte.weight`, or `lm_head.weight` when not tied. */
  tokenTable(name: string): Promise<TokenTable>;
}

export type ComputeType = 'float32' | 'float16';

/** The decoder's I/O names, as Hugging Face Optimum and transformers.js name them. */
export function decoderIoNames(config: Gpt2Config) {
  const past: string[] = [];
  const present: string[] = [];
  for (let i = 0; i < config.nLayer; i++) {
    past.push(`past_key_values.${i}.key`, `past_key_values.${i}.value`);
    present.push(`present.${i}.key`, `present.${i}.value`);
  }
  return { inputs: ['input_ids', 'attention_mask', 'position_ids', ...past], outputs: ['logits', ...present] };
}

/**
 * The GPT-2 decoder, one graph for prefill and decode:
 * `input_ids, position_ids [batch, seq]`, `attention_mask [batch, past + seq]` (1 = token, 0 = padding, left
 * padding allowed), `past_key_values.{i}.key|value [batch, heads, past, head_dim]` →
 * `logits [batch, seq, vocab]` (float32) and `present.{i}.key|value [batch, heads, past + seq, head_dim]`.
 * Reproduces transformers' GPT2LMHeadModel: Conv1D `[in, out]`, scores scaled by 1/sqrt(head_dim), tanh GELU for
 * gelu_new/gelu_fast, LayerNorm epsilon from the config.
 */
export async function buildGpt2Graph(
  g: GraphBuilder,
  config: Gpt2Config,
  compute: ComputeType,
  weights: WeightStore,
): Promise<void> {
  const { nHead, headDim, nEmbd } = config;
  const i64 = (...values: number[]) => g.constant('int64', [values.length], values);
  const scalarI64 = (value: number) => g.constant('int64', [], [value]);
  const scalar = (value: number) => g.constant(compute, [], [value]);
  const kv = (name: string) => ({ name, type: compute, shape: ['batch_size', nHead, name.startsWith('past') ? 'past_sequence_length' : 'total_sequence_length', headDim] });

  const inputIds = g.input({ name: 'input_ids', type: 'int64', shape: ['batch_size', 'sequence_length'] });
  const attentionMask = g.input({ name: 'attention_mask', type: 'int64', shape: ['batch_size', 'total_sequence_length'] });
  const positionIds = g.input({ name: 'position_ids', type: 'int64', shape: ['batch_size', 'sequence_length'] });
  for (let i = 0; i < config.nLayer; i++) {
    g.input(kv(`past_key_values.${i}.key`));
    g.input(kv(`past_key_values.${i}.value`));
  }

  // Which keys each query may see: causal (query j sits at absolute position past + j) and not padding.
  const seqLen = g.op('Gather', [g.op('Shape', [inputIds]), scalarI64(1)]);
  const totalLen = g.op('Gather', [g.op('Shape', [attentionMask]), scalarI64(1)]);
  const pastLen = g.op('Sub', [totalLen, seqLen]);
  const queryPos = g.op('Range', [pastLen, totalLen, scalarI64(1)]);
  const keyPos = g.op('Range', [scalarI64(0), totalLen, scalarI64(1)]);
  const causal = g.op('LessOrEqual', [g.op('Unsqueeze', [keyPos, i64(0)]), g.op('Unsqueeze', [queryPos, i64(1)])]);
  const notPadding = g.op('Cast', [g.op('Unsqueeze', [attentionMask, i64(1, 2)])], { to: 9 /* BOOL */ });
  const allowed = g.op('And', [causal, notPadding]); // [batch, 1, seq, total]
  // Masked scores are replaced (not added to), so fp16 cannot overflow to -inf and a row of padding stays finite.
  const masked = scalar(compute === 'float16' ? -65504 : -3.4028234663852886e38);

  const table = await weights.tokenTable('wte.weight');
  const tokens =
    table.kind === 'dense'
      ? g.op('Gather', [table.table, inputIds])
      : g.op('GatherBlockQuantized', [table.gather.data, inputIds, table.gather.scales, table.gather.zeroPoints], {
          gather_axis: 0,
          quantize_axis: 1,
          block_size: table.head.blockSize,
          bits: table.head.bits,
        }, MS_DOMAIN);
  const positions = g.op('Gather', [await weights.tensor('wpe.weight'), positionIds]);
  let hidden = g.op('Add', [tokens, positions]);

  const layerNorm = async (x: string, prefix: string) =>
    g.op('LayerNormalization', [x, await weights.tensor(`${prefix}.weight`), await weights.tensor(`${prefix}.bias`)], {
      axis: -1,
      epsilon: { float: config.layerNormEpsilon },
    });
  /** x @ W (+ b when `bias` is given). */
  const linear = (x: string, w: LinearWeight, bias?: string) => {
    if (w.kind === 'quant') {
      return g.op('MatMulNBits', [x, w.data, w.scales, w.zeroPoints, '', bias ?? ''].slice(0, bias ? 6 : 4), {
        K: w.k,
        N: w.n,
        bits: w.bits,
        block_size: w.blockSize,
        // int8 activations inside the kernel: about 3× faster on CPU than float activations (see DESIGN.md).
        accuracy_level: 4,
      }, MS_DOMAIN);
    }
    const y = g.op('MatMul', [x, w.weight]);
    return bias ? g.op('Add', [y, bias]) : y;
  };
  const toHeads = (x: string) => g.op('Transpose', [g.op('Reshape', [x, i64(0, 0, nHead, headDim)])], { perm: [0, 2, 1, 3] });

  for (let i = 0; i < config.nLayer; i++) {
    const p = `h.${i}`;
    const x = await layerNorm(hidden, `${p}.ln_1`);
    const qkvW = await weights.linear(`${p}.attn.c_attn.weight`);
    const qkv = linear(x, qkvW, await weights.tensor(`${p}.attn.c_attn.bias`));
    // Attention in plain ONNX operators: com.microsoft MultiHeadAttention (fed the same mask as attention bias) was
    // no faster on this CPU, within run-to-run noise (4 rinna-width int4 layers, 1 thread, CPU time per decode step:
    // 14-18 ms either way at 32 past tokens, 24-37 ms at 512), and onnxruntime fuses the score MatMul itself.
    const [q, k, v] = g.node('Split', [qkv, i64(nEmbd, nEmbd, nEmbd)], { axis: 2 }, { outputs: 3 }) as [string, string, string];
    const query = g.op('Mul', [toHeads(q), scalar(1 / Math.sqrt(headDim))]);
    const [presentKey] = g.node('Concat', [`past_key_values.${i}.key`, toHeads(k)], { axis: 2 }, { outputs: [`present.${i}.key`] });
    const [presentValue] = g.node('Concat', [`past_key_values.${i}.value`, toHeads(v)], { axis: 2 }, { outputs: [`present.${i}.value`] });
    const scores = g.op('MatMul', [query, g.op('Transpose', [presentKey!], { perm: [0, 1, 3, 2] })]);
    const probs = g.op('Softmax', [g.op('Where', [allowed, scores, masked])], { axis: -1 });
    const context = g.op('Reshape', [
      g.op('Transpose', [g.op('MatMul', [probs, presentValue!])], { perm: [0, 2, 1, 3] }),
      i64(0, 0, nEmbd),
    ]);
    const attnW = await weights.linear(`${p}.attn.c_proj.weight`);
    hidden = g.op('Add', [hidden, linear(context, attnW, await weights.tensor(`${p}.attn.c_proj.bias`))]);

    const y = await layerNorm(hidden, `${p}.ln_2`);
    const fcW = await weights.linear(`${p}.mlp.c_fc.weight`);
    const fcB = await weights.tensor(`${p}.mlp.c_fc.bias`);
    let act: string;
    if (config.activation === 'relu') act = g.op('Relu', [linear(y, fcW, fcB)]);
    else if (config.activation === 'gelu') act = g.op('Gelu', [linear(y, fcW, fcB)], {}, MS_DOMAIN);
    // FastGelu is the tanh form of gelu_new / gelu_fast / gelu_pytorch_tanh, with the bias add fused in.
    else act = fcW.kind === 'dense' ? g.op('FastGelu', [linear(y, fcW), fcB], {}, MS_DOMAIN) : g.op('FastGelu', [linear(y, fcW, fcB)], {}, MS_DOMAIN);
    const projW = await weights.linear(`${p}.mlp.c_proj.weight`);
    hidden = g.op('Add', [hidden, linear(act, projW, await weights.tensor(`${p}.mlp.c_proj.bias`))]);
  }

  const final = await layerNorm(hidden, 'ln_f');
  const head = config.tieWordEmbeddings ? table : await weights.tokenTable('lm_head.weight');
  let logits: string;
  if (head.kind === 'quant') {
    logits = linear(final, head.head);
  } else {
    // Gemm with transB reads the [vocab, n_embd] table in place (a MatMul would need a transposed copy).
    const flat = g.op('Reshape', [final, i64(-1, nEmbd)]);
    const product = g.op('Gemm', [flat, head.table], { transB: 1 });
    const shape = g.op('Concat', [g.op('Shape', [inputIds]), i64(config.vocabSize)], { axis: 0 });
    logits = g.op('Reshape', [product, shape]);
  }
  g.node(compute === 'float32' ? 'Identity' : 'Cast', [logits], compute === 'float32' ? {} : { to: 1 /* FLOAT */ }, { outputs: ['logits'] });
  g.output({ name: 'logits', type: 'float32', shape: ['batch_size', 'sequence_length', config.vocabSize] });
  for (let i = 0; i < config.nLayer; i++) {
    g.output(kv(`present.${i}.key`));
    g.output(kv(`present.${i}.value`));
  }
}
