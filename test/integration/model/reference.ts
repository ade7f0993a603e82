/**
 * A float64 GPT-2 forward pass written from the model's definition, over a checkpoint's own tensors — an
 * independent reference for the activations the golden fixtures do not cover (exact `gelu`, `relu`).
 */
import type { Checkpoint } from '../../../src-main/model/format/checkpoint';

export async function referenceLogits(checkpoint: Checkpoint, ids: number[]): Promise<Float64Array[]> {
  const { config } = checkpoint;
  const w = new Map<string, Float64Array>();
  for (const name of checkpoint.names()) w.set(name, Float64Array.from(await checkpoint.readF32(name)));
  const W = (name: string) => w.get(name)!;
  const e = config.nEmbd;
  const hd = config.headDim;
  const act = (x: number) => {
    if (config.activation === 'relu') return Math.max(0, x);
    if (config.activation === 'gelu') return 0.5 * x * (1 + erf(x / Math.SQRT2));
    return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
  };
  const layerNorm = (x: Float64Array, prefix: string) => {
    const mean = x.reduce((a, b) => a + b, 0) / e;
    const variance = x.reduce((a, v) => a + (v - mean) ** 2, 0) / e;
    const inv = 1 / Math.sqrt(variance + config.layerNormEpsilon);
    return x.map((v, i) => (v - mean) * inv * W(`${prefix}.weight`)[i]! + W(`${prefix}.bias`)[i]!);
  };
  /** Conv1D: weight `[in, out]`. */
  const conv1d = (x: Float64Array, prefix: string) => {
    const weight = W(`${prefix}.weight`);
    const y = Float64Array.from(W(`${prefix}.bias`));
    const out = y.length;
    for (let k = 0; k < x.length; k++) for (let n = 0; n < out; n++) y[n]! += x[k]! * weight[k * out + n]!;
    return y;
  };
  let h = ids.map((id, t) => Float64Array.from({ length: e }, (_, i) => W('wte.weight')[id * e + i]! + W('wpe.weight')[t * e + i]!));
  for (let l = 0; l < config.nLayer; l++) {
    const p = `h.${l}`;
    const qkv = h.map((x) => conv1d(layerNorm(x, `${p}.ln_1`), `${p}.attn.c_attn`));
    const attn = qkv.map((q, t) => {
      const out = new Float64Array(e);
      for (let head = 0; head < config.nHead; head++) {
        const o = head * hd;
        const scores = qkv.slice(0, t + 1).map((kv) => {
          let dot = 0;
          for (let d = 0; d < hd; d++) dot += q[o + d]! * kv[e + o + d]!;
          return dot / Math.sqrt(hd);
        });
        const max = Math.max(...scores);
        const exp = scores.map((s) => Math.exp(s - max));
        const sum = exp.reduce((a, b) => a + b, 0);
        exp.forEach((p, s) => {
          for (let d = 0; d < hd; d++) out[o + d]! += (p / sum) * qkv[s]![2 * e + o + d]!;
        });
      }
      return out;
    });
    h = h.map((x, t) => {
      const a = conv1d(attn[t]!, `${p}.attn.c_proj`);
      const r = x.map((v, i) => v + a[i]!);
      const m = conv1d(conv1d(layerNorm(r, `${p}.ln_2`), `${p}.mlp.c_fc`).map(act), `${p}.mlp.c_proj`);
      return r.map((v, i) => v + m[i]!);
    });
  }
  const head = W('lm_head.weight');
  return h.map((x) => {
    const f = layerNorm(x, 'ln_f');
    return Float64Array.from({ length: config.vocabSize }, (_, v) => {
      let dot = 0;
      for (let i = 0; i < e; i++) dot += f[i]! * head[v * e + i]!;
      return dot;
    });
  });
}

/** erf to about 1e-12: its Taylor series below 3, a continued fraction for erfc above. */
function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 200; n++) {
      term *= (-ax * ax) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (ax + f);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
  return Math.sign(x) * (1 - erfc);
}
