import type { Gpt2Config } from '../format/config';
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

/**
 * Which graph to build over the same weights:
 * - `optimum`: Hugging Face Optimum / transformers.js I/O (`past_key_values.{i}.*` in, `present.{i}.*` out, both
 *   `[batch, heads, length, head_dim]`), so the export runs unchanged in other ONNX tools.
 * - `runtime`: what Tsuzuki's engine runs. Its cache is position-major, `past.{i}.*` `[past, batch, heads, head_dim]`,
 *   and it returns only this step's keys and values, `new.{i}.*` `[seq, batch, heads, head_dim]`. The engine keeps one
 *   buffer per tensor and appends to it, so the first `past` positions are always one contiguous span that
 *   onnxruntime reads in place. With the Optimum layout every step concatenates the whole cache into a fresh
 *   `present` and onnxruntime-node copies it into JavaScript: at 512 tokens of context that was 86 of the 138 ms a
 *   1.3B int4 decode step took. Before the rows' own past comes `shared.{i}.*` `[shared, 1, heads, head_dim]`, keys and
 *   values every row sees: alternatives read their one prompt from there instead of a copy each. The attention
 *   mask spans shared, past and new positions. `logits_to_keep` (0 = every position, k = the last k) spares
 *   prefill the lm_head over positions nobody samples from.
 * - `device`: for a GPU session (engine/device-kv-cache.ts). Every cache tensor has the whole context's room,
 *   `past_key_values.{i}.*` / `present.{i}.*` `[batch, heads, capacity, head_dim]`, and attention is onnxruntime's
 *   fused GroupQueryAttention (kv_num_heads = heads), which writes the step's keys and values at each row's own
 *   length (`seqlens_k` = length - 1 after the step) and reads no further: a cache tensor keeps one size for its
 *   whole life (the provider reuses its buffers; with past and present bound to one buffer it writes in place), a cut
 *   is only a shorter length, and nothing is concatenated. `total_sequence_length` is the capacity (onnxruntime sizes
 *   `present` from it, so an empty past also gives a full-size present). Positions follow from the lengths (rows hold
 *   no padding), residual adds are fused into SkipLayerNormalization and biases into MatMulNBits / FastGelu.
 */
export type GraphLayout = 'optimum' | 'runtime' | 'device';

/** The MLP's activation of `x` (+ `bias`). FastGelu is the tanh form of gelu_new / gelu_fast / gelu_pytorch_tanh, with the bias add fused in. */
export function mlpActivation(g: GraphBuilder, activation: Gpt2Config['activation'], x: string, bias?: string): string {
  if (activation !== 'relu' && activation !== 'gelu') return g.op('FastGelu', bias ? [x, bias] : [x], {}, MS_DOMAIN);
  const y = bias ? g.op('Add', [x, bias]) : x;
  return activation === 'relu' ? g.op('Relu', [y]) : g.op('Gelu', [y], {}, MS_DOMAIN);
}

/** The decoder's I/O names for a layout. */
export function decoderIoNames(config: Gpt2Config, layout: GraphLayout = 'optimum') {
  const past: string[] = [];
  const present: string[] = [];
  const shared: string[] = [];
  const [inName, outName] = layout === 'runtime' ? ['past', 'new'] : ['past_key_values', 'present'];
  for (let i = 0; i < config.nLayer; i++) {
    past.push(`${inName}.${i}.key`, `${inName}.${i}.value`);
    present.push(`${outName}.${i}.key`, `${outName}.${i}.value`);
    if (layout === 'runtime') shared.push(`shared.${i}.key`, `shared.${i}.value`);
  }
  const inputs =
    layout === 'device'
      ? ['input_ids', 'seqlens_k', 'total_sequence_length', 'logits_to_keep', ...past]
      : ['input_ids', 'attention_mask', 'position_ids', ...(layout === 'runtime' ? ['logits_to_keep'] : []), ...shared, ...past];
  return { inputs, outputs: ['logits', ...present] };
}

/**
 * The GPT-2 decoder, one graph for prefill and decode:
 * `input_ids, position_ids [batch, seq]`, `attention_mask [batch, past + seq]` (1 = token, 0 = padding, left
 * padding allowed) — or, in the device layout, `seqlens_k` and `total_sequence_length` instead of the mask and
 * positions — and the past keys and values (see `GraphLayout`) → `logits [batch, seq, vocab]` (float32) and the
 * keys and values to keep.
 * Reproduces transformers' GPT2LMHeadModel: Conv1D `[in, out]`, scores scaled by 1/sqrt(head_dim), tanh GELU for
 * gelu_new/gelu_fast, LayerNorm epsilon from the config.
 */
export async function buildGpt2Graph(
  g: GraphBuilder,
  config: Gpt2Config,
  compute: ComputeType,
  weights: WeightStore,
  layout: GraphLayout = 'optimum',
): Promise<void> {
  const { nHead, headDim, nEmbd } = config;
  const io = decoderIoNames(config, layout);
  const i64 = (...values: number[]) => g.constant('int64', [values.length], values);
  const scalarI64 = (value: number) => g.constant('int64', [], [value]);
  const scalar = (value: number) => g.constant(compute, [], [value]);
  const kvShape = (length: string) =>
    layout === 'runtime' ? [length, 'batch_size', nHead, headDim] : ['batch_size', nHead, length, headDim];

  const inputIds = g.input({ name: 'input_ids', type: 'int64', shape: ['batch_size', 'sequence_length'] });
  const seqLen = g.op('Gather', [g.op('Shape', [inputIds]), scalarI64(1)]);
  const device = layout === 'device' ? deviceInputs() : null;
  const attentionMask = device ? null : g.input({ name: 'attention_mask', type: 'int64', shape: ['batch_size', 'total_sequence_length'] });
  const positionIds = device ? device.positionIds : g.input({ name: 'position_ids', type: 'int64', shape: ['batch_size', 'sequence_length'] });
  const logitsToKeep = layout === 'optimum' ? null : g.input({ name: 'logits_to_keep', type: 'int64', shape: [] });
  const pastNames = io.inputs.slice(-2 * config.nLayer);
  const sharedNames = layout === 'runtime' ? io.inputs.slice(-4 * config.nLayer, -2 * config.nLayer) : [];
  const keptNames = io.outputs.slice(1);
  for (const name of sharedNames) g.input({ name, type: compute, shape: ['shared_sequence_length', 1, nHead, headDim] });
  for (const name of pastNames) g.input({ name, type: compute, shape: kvShape(device ? 'capacity' : 'past_sequence_length') });

  // Which keys each query may see: causal (query j sits at absolute position past + j) and not padding.
  const totalLen = attentionMask ? g.op('Gather', [g.op('Shape', [attentionMask]), scalarI64(1)]) : null;
  const pastLen = totalLen ? g.op('Sub', [totalLen, seqLen]) : null;
  const allowed = attentionMask ? maskOf(attentionMask) : null; // [batch, 1, seq, total]

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
        // int8 activations inside the kernel: about 3× faster on CPU than float activations (int4, block 32, rinna-1b's
        // matrix shapes on 2 threads: 28.9 against 86.9 ms a token).
        accuracy_level: 4,
      }, MS_DOMAIN);
    }
    const y = g.op('MatMul', [x, w.weight]);
    return bias ? g.op('Add', [y, bias]) : y;
  };
  const pair = (names: string[], i: number) => names.slice(2 * i, 2 * i + 2) as [string, string];
  let final: string;
  if (device) {
    // Each residual add joins the next LayerNorm (SkipLayerNormalization's fourth output is the sum, carried on),
    // and takes the bias of the projection before it.
    const skipNorm = async (x: string, bias: string, prefix: string) => {
      const [normed, , , sum] = g.node(
        'SkipLayerNormalization',
        [x, hidden, await weights.tensor(`${prefix}.weight`), await weights.tensor(`${prefix}.bias`), bias],
        { epsilon: { float: config.layerNormEpsilon } },
        { domain: MS_DOMAIN, outputs: 4 },
      );
      hidden = sum!;
      return normed!;
    };
    let x = await layerNorm(hidden, 'h.0.ln_1');
    for (let i = 0; i < config.nLayer; i++) {
      const p = `h.${i}`;
      const qkv = linear(x, await weights.linear(`${p}.attn.c_attn.weight`), await weights.tensor(`${p}.attn.c_attn.bias`));
      const context = deviceAttention(qkv, pair(pastNames, i), pair(keptNames, i));
      const y = await skipNorm(linear(context, await weights.linear(`${p}.attn.c_proj.weight`)), await weights.tensor(`${p}.attn.c_proj.bias`), `${p}.ln_2`);
      const act = await mlp(y, p);
      const next = i + 1 < config.nLayer ? `h.${i + 1}.ln_1` : 'ln_f';
      x = await skipNorm(linear(act, await weights.linear(`${p}.mlp.c_proj.weight`)), await weights.tensor(`${p}.mlp.c_proj.bias`), next);
    }
    final = x;
  } else {
    const splitHeads = (x: string) => g.op('Reshape', [x, i64(0, 0, nHead, headDim)]); // [batch, seq, heads, dim]
    const common = layout === 'runtime' ? runtimeCommon() : null;
    for (let i = 0; i < config.nLayer; i++) {
      const p = `h.${i}`;
      const x = await layerNorm(hidden, `${p}.ln_1`);
      const qkvW = await weights.linear(`${p}.attn.c_attn.weight`);
      const qkv = linear(x, qkvW, await weights.tensor(`${p}.attn.c_attn.bias`));
      const [q, k, v] = (g.node('Split', [qkv, i64(nEmbd, nEmbd, nEmbd)], { axis: 2 }, { outputs: 3 }) as [string, string, string]).map(splitHeads) as [string, string, string];
      const context = common
        ? runtimeAttention(common, q, k, v, pair(sharedNames, i), pair(pastNames, i), pair(keptNames, i))
        : optimumAttention(q, k, v, pair(pastNames, i), pair(keptNames, i));
      const attnW = await weights.linear(`${p}.attn.c_proj.weight`);
      hidden = g.op('Add', [hidden, linear(context, attnW, await weights.tensor(`${p}.attn.c_proj.bias`))]);
      const act = await mlp(await layerNorm(hidden, `${p}.ln_2`), p);
      const projW = await weights.linear(`${p}.mlp.c_proj.weight`);
      hidden = g.op('Add', [hidden, linear(act, projW, await weights.tensor(`${p}.mlp.c_proj.bias`))]);
    }
    final = await layerNorm(hidden, 'ln_f');
  }

  // Slice from -k to the end; -0 = 0 keeps every position.
  if (logitsToKeep) final = g.op('Slice', [final, g.op('Neg', [g.op('Unsqueeze', [logitsToKeep, i64(0)])]), i64(2 ** 53), i64(1)]);
  const head = config.tieWordEmbeddings ? table : await weights.tokenTable('lm_head.weight');
  let logits: string;
  if (head.kind === 'quant') {
    logits = linear(final, head.head);
  } else {
    // Gemm with transB reads the [vocab, n_embd] table in place (a MatMul would need a transposed copy).
    const flat = g.op('Reshape', [final, i64(-1, nEmbd)]);
    const product = g.op('Gemm', [flat, head.table], { transB: 1 });
    const shape = g.op('Concat', [g.op('Slice', [g.op('Shape', [final]), i64(0), i64(2)]), i64(config.vocabSize)], { axis: 0 });
    logits = g.op('Reshape', [product, shape]);
  }
  g.node(compute === 'float32' ? 'Identity' : 'Cast', [logits], compute === 'float32' ? {} : { to: 1 /* FLOAT */ }, { outputs: ['logits'] });
  g.output({ name: 'logits', type: 'float32', shape: ['batch_size', 'sequence_length', config.vocabSize] });
  const keptLength = { optimum: 'total_sequence_length', runtime: 'sequence_length', device: 'capacity' }[layout];
  for (const name of keptNames) g.output({ name, type: compute, shape: kvShape(keptLength) });

  /** The MLP up to its output projection: the activation of `x`'s first matrix product and its bias. */
  async function mlp(x: string, p: string): Promise<string> {
    const fcW = await weights.linear(`${p}.mlp.c_fc.weight`);
    const fcB = await weights.tensor(`${p}.mlp.c_fc.bias`);
    // MatMulNBits adds the bias itself; after a dense MatMul the activation does (FastGelu fuses it).
    return fcW.kind === 'quant' ? mlpActivation(g, config.activation, linear(x, fcW, fcB)) : mlpActivation(g, config.activation, linear(x, fcW), fcB);
  }

  /** Where each key may be seen from each query (`[batch, 1, seq, total]`): causal, and not padding. */
  function maskOf(mask: string): string {
    const queryPos = g.op('Range', [pastLen!, totalLen!, scalarI64(1)]);
    const keyPos = g.op('Range', [scalarI64(0), totalLen!, scalarI64(1)]);
    const causal = g.op('LessOrEqual', [g.op('Unsqueeze', [keyPos, i64(0)]), g.op('Unsqueeze', [queryPos, i64(1)])]);
    const notPadding = g.op('Cast', [g.op('Unsqueeze', [mask, i64(1, 2)])], { to: 9 /* BOOL */ });
    return g.op('And', [causal, notPadding]);
  }

  /**
   * The device layout's inputs beside the ids: each row's length after this step less one (`seqlens_k`, int32, as
   * GroupQueryAttention takes it) and the cache's capacity; positions are the row's length before the step onward.
   */
  function deviceInputs() {
    const seqlensK = g.input({ name: 'seqlens_k', type: 'int32', shape: ['batch_size'] });
    const capacity = g.input({ name: 'total_sequence_length', type: 'int32', shape: [] });
    const past = g.op('Sub', [g.op('Add', [g.op('Cast', [seqlensK], { to: 7 /* INT64 */ }), scalarI64(1)]), seqLen]); // [batch]
    const steps = g.op('Range', [scalarI64(0), seqLen, scalarI64(1)]);
    const positionIds = g.op('Add', [g.op('Unsqueeze', [past, i64(1)]), g.op('Unsqueeze', [steps, i64(0)])]); // [batch, seq]
    return { seqlensK, capacity, positionIds };
  }

  /** GroupQueryAttention over the packed q|k|v (`[batch, seq, 3 × n_embd]`), writing the step into the full-size cache. */
  function deviceAttention(qkv: string, [pastKey, pastValue]: [string, string], [presentKey, presentValue]: [string, string]): string {
    const [context] = g.node(
      'GroupQueryAttention',
      [qkv, '', '', pastKey, pastValue, device!.seqlensK, device!.capacity],
      { num_heads: nHead, kv_num_heads: nHead, scale: { float: 1 / Math.sqrt(headDim) } },
      { domain: MS_DOMAIN, outputs: [`${presentKey}/context`, presentKey, presentValue] },
    );
    return context!;
  }

  /** softmax(q·kᵀ / sqrt(d), masked) · v over the allowed keys; q, k, v `[batch, seq, heads, dim]` → `[batch, seq, n_embd]`. */
  function optimumAttention(q: string, k: string, v: string, [pastKey, pastValue]: [string, string], [presentKeyName, presentValueName]: [string, string]): string {
    const toHeads = (x: string) => g.op('Transpose', [x], { perm: [0, 2, 1, 3] });
    const query = g.op('Mul', [toHeads(q), scalar(1 / Math.sqrt(headDim))]);
    const [presentKey] = g.node('Concat', [pastKey, toHeads(k)], { axis: 2 }, { outputs: [presentKeyName] });
    const [presentValue] = g.node('Concat', [pastValue, toHeads(v)], { axis: 2 }, { outputs: [presentValueName] });
    const scores = g.op('MatMul', [query, g.op('Transpose', [presentKey!], { perm: [0, 1, 3, 2] })]);
    // Masked scores are replaced (not added to), so fp16 cannot overflow to -inf and a row of padding stays finite.
    const masked = g.constant(compute, [], [compute === 'float16' ? -65504 : -3.4028234663852886e38]);
    const probs = g.op('Softmax', [g.op('Where', [allowed!, scores, masked])], { axis: -1 });
    return g.op('Reshape', [g.op('Transpose', [g.op('MatMul', [probs, presentValue!])], { perm: [0, 2, 1, 3] }), i64(0, 0, nEmbd)]);
  }

  /**
   * The same attention without ever copying the past: scores against the shared positions, the row's past and this
   * step's keys are computed apart and joined (they are small), and so are the three parts of the weighted sum.
   * com.microsoft FusedMatMul's `transBatchB` reads each position-major `[length, batch, heads, dim]` part as
   * `[batch, heads, length, dim]` in place (the shared part, `[length, 1, heads, dim]`, broadcasts over the batch).
   * Scores and softmax run in float32 even in an fp16 model: scores rounded to half precision cost it a digit.
   */
  function runtimeAttention(
    s: ReturnType<typeof runtimeCommon>,
    q: string,
    k: string,
    v: string,
    [sharedKey, sharedValue]: [string, string],
    [pastKey, pastValue]: [string, string],
    [newKeyName, newValueName]: [string, string],
  ): string {
    const [newKey] = g.node('Transpose', [k], { perm: [1, 0, 2, 3] }, { outputs: [newKeyName] });
    const [newValue] = g.node('Transpose', [v], { perm: [1, 0, 2, 3] }, { outputs: [newValueName] });
    const query = g.op('Transpose', [g.op('Mul', [q, scalar(1 / Math.sqrt(headDim))])], { perm: [0, 2, 1, 3] }); // [batch, heads, seq, dim]
    const toFloat = (x: string) => (compute === 'float32' ? x : g.op('Cast', [x], { to: 1 /* FLOAT */ }));
    const score = (keys: string) => toFloat(g.op('FusedMatMul', [query, keys], { transB: 1, transBatchB: 1 }, MS_DOMAIN));
    const scores = g.op('Concat', [score(sharedKey), score(pastKey), score(newKey!)], { axis: 3 }); // [batch, heads, seq, total]
    const attention = g.op('Softmax', [g.op('Add', [scores, s.maskBias])], { axis: -1 });
    const probs = compute === 'float32' ? attention : g.op('Cast', [attention], { to: 10 /* FLOAT16 */ });
    const weigh = (from: string, to: string, values: string) =>
      g.op('FusedMatMul', [g.op('Slice', [probs, from, to, i64(3)]), values], { transBatchB: 1 }, MS_DOMAIN);
    const context = g.op('Sum', [
      weigh(i64(0), s.sharedEnd, sharedValue),
      weigh(s.sharedEnd, s.pastEnd, pastValue),
      weigh(s.pastEnd, i64(2 ** 53), newValue!),
    ]); // [batch, heads, seq, dim]
    return g.op('Reshape', [g.op('Transpose', [context], { perm: [0, 2, 1, 3] }), i64(0, 0, nEmbd)]);
  }

  /**
   * What every layer's runtime attention needs, computed once: where the shared and past parts end along the keys,
   * and the mask as an additive float32 bias, 0 where a key may be seen and -1e9 where not (softmax gives those
   * exactly 0; onnxruntime broadcasts Add far faster than Where).
   */
  function runtimeCommon() {
    return {
      sharedEnd: g.op('Slice', [g.op('Shape', [sharedNames[0]!]), i64(0), i64(1)]),
      pastEnd: g.op('Unsqueeze', [pastLen!, i64(0)]), // shared + past: where this step's keys start
      maskBias: g.op('Where', [allowed!, g.constant('float32', [], [0]), g.constant('float32', [], [-1e9])]), // [batch, 1, seq, total]
    };
  }
}
