#!/usr/bin/python3
"""Reference 4-bit quantizations of the trained fixture and what they cost in KL divergence and perplexity.

An oracle independent of the TypeScript converter: float64 numpy, written from llama.cpp's block formats as published
(ggml-quants.c, read to learn), not from Tsuzuki's code. Run with Debian's Python (numpy, sentencepiece):
    /usr/bin/python3 test/oracle/quantization_reference.py
It reads test/fixtures/quality/ (model/, heldout.txt) and writes test/fixtures/quality/reference.json: the held-out
token windows, and per quantization the mean per-position KL(fp32 ‖ quantized) in nats, the perplexity and the
top-1 agreement with fp32, so the tests can hold the converter's int4 to these numbers without Python.

Quantized, as the converter does: every layer's attn.c_attn, attn.c_proj, mlp.c_fc and mlp.c_proj, and the tied
token table (embedding and lm_head), blocks running along each matrix's input dimension. The rest stays fp32.
- q4_0: blocks of 32, d = (the value of largest magnitude) / -8, levels -8..7, d stored in fp16.
- q4_k: super-blocks of 256 = 8 sub-blocks of 32, each sub-block x ≈ scale·q - min with q in 0..15, scale and min
  fitted by weighted least squares over 20 candidate grids (weights av|x| + |x|), then both coded on 6 bits against
  the super-block's fp16 maxima.
- absmax7_b128: symmetric blocks of 128, scale = absmax / 7, levels -8..7 (the converter's int4 before scale search).
"""
import json
import math
import os
import struct

import numpy as np
import sentencepiece as spm

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURE = os.path.join(ROOT, 'test', 'fixtures', 'quality')
WINDOW = 128
WINDOWS = 24
EOS = 3


def load_safetensors(path):
    with open(path, 'rb') as f:
        size = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(size))
        body = f.read()
    dtypes = {'F16': '<f2', 'F32': '<f4'}
    return {
        name: np.frombuffer(body[a:b], dtype=dtypes[info['dtype']]).reshape(info['shape']).astype(np.float64)
        for name, info in header.items() if name != '__metadata__' for a, b in [info['data_offsets']]
    }


def fp16(x):
    return np.float64(np.float16(x))


# ---------------------------------------------------------------------------------------------- block formats
# Each takes a weight as [rows, k] (one output feature per row, blocks along k) and returns the dequantized values.

def q4_0(w):
    blocks = w.reshape(-1, 32)
    pick = np.argmax(np.abs(blocks), axis=1)
    d = blocks[np.arange(len(blocks)), pick] / -8
    inv = np.divide(1.0, d, out=np.zeros_like(d), where=d != 0)
    q = np.minimum(15, np.floor(blocks * inv[:, None] + 8.5))
    return ((q - 8) * np.array([fp16(v) for v in d])[:, None]).reshape(w.shape)


def absmax7(w, block):
    blocks = w.reshape(-1, block)
    scale = np.abs(blocks).max(axis=1) / 7
    inv = np.divide(1.0, scale, out=np.zeros_like(scale), where=scale != 0)
    q = np.clip(np.round(blocks * inv[:, None]), -8, 7)
    return (q * scale[:, None]).reshape(w.shape)


def make_qkx2_quants(x, weights, nmax=15, rmin=-1.0, rdelta=0.1, nstep=20):
    """x ≈ scale·L - min, L in 0..nmax, min ≥ 0: the least weighted squared error over nstep + 1 candidate grids,
    each grid placed by the best (scale, min) found so far, as llama.cpp's make_qkx2_quants does."""
    lo, hi = min(x.min(), 0.0), x.max()
    if hi == lo:
        return 0.0, -lo
    iscale = nmax / (hi - lo)
    scale = 1 / iscale
    L = np.clip(np.round(iscale * (x - lo)), 0, nmax)
    best = np.sum(weights * (scale * L + lo - x) ** 2)
    sw, sx = weights.sum(), np.sum(weights * x)
    for step in range(nstep + 1):
        iscale = (rmin + rdelta * step + nmax) / (hi - lo)
        L = np.clip(np.round(iscale * (x - lo)), 0, nmax)
        sl, sl2, sxl = np.sum(weights * L), np.sum(weights * L * L), np.sum(weights * L * x)
        D = sw * sl2 - sl * sl
        if D <= 0:
            continue
        this_scale = (sw * sxl - sx * sl) / D
        this_min = (sl2 * sx - sl * sxl) / D
        if this_min > 0:
            this_min = 0.0
            this_scale = sxl / sl2
        err = np.sum(weights * (this_scale * L + this_min - x) ** 2)
        if err < best:
            best, scale, lo = err, this_scale, this_min
    return scale, -lo


def q4_k(w):
    flat_in = np.ascontiguousarray(w).reshape(-1, 256)
    flat_out = np.empty_like(flat_in)
    for s, sup in enumerate(flat_in):
        subs = sup.reshape(8, 32)
        scales, mins = np.zeros(8), np.zeros(8)
        for j, x in enumerate(subs):
            av = math.sqrt(np.sum(x * x) / 32)
            scales[j], mins[j] = make_qkx2_quants(x, av + np.abs(x))
        max_scale, max_min = scales.max(), mins.max()
        d = fp16(max_scale / 63) if max_scale > 0 else 0.0
        dmin = fp16(max_min / 63) if max_min > 0 else 0.0
        ls = np.clip(np.round(scales * 63 / max_scale), 0, 63) if max_scale > 0 else np.zeros(8)
        lm = np.clip(np.round(mins * 63 / max_min), 0, 63) if max_min > 0 else np.zeros(8)
        rows = []
        for j, x in enumerate(subs):
            sd, sm = d * ls[j], dmin * lm[j]
            q = np.clip(np.round((x + sm) / sd), 0, 15) if sd > 0 else np.zeros(32)
            rows.append(sd * q - sm)
        flat_out[s] = np.concatenate(rows)
    return flat_out.reshape(w.shape)


FORMATS = {'q4_0': q4_0, 'q4_k': q4_k, 'absmax7_b128': lambda w: absmax7(w, 128)}


def quantized_weights(weights, config, fmt):
    """The checkpoint with its matrices replaced by their dequantized values. Conv1D weights are [in, out]."""
    out = dict(weights)
    for i in range(config['n_layer']):
        for name in ('attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj'):
            key = f'transformer.h.{i}.{name}.weight'
            out[key] = fmt(weights[key].T).T
    out['transformer.wte.weight'] = fmt(weights['transformer.wte.weight'])
    return out


# ---------------------------------------------------------------------------------------------- the model

def layer_norm(x, g, b, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * g + b


def gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def logits(w, config, ids, seen=None):
    """GPT-2 forward over windows [n, t] → log-probabilities [n, t, vocab]. `seen(name, x)` is shown the input of each
    quantized matrix (by its checkpoint name, without the `transformer.` prefix)."""
    seen = seen or (lambda name, x: None)
    h, eps = config['n_head'], config['layer_norm_epsilon']
    n, t = ids.shape
    x = w['transformer.wte.weight'][ids] + w['transformer.wpe.weight'][:t]
    mask = np.triu(np.ones((t, t), dtype=bool), 1)
    for i in range(config['n_layer']):
        p = lambda name: w[f'transformer.h.{i}.{name}']
        a = layer_norm(x, p('ln_1.weight'), p('ln_1.bias'), eps)
        seen(f'h.{i}.attn.c_attn.weight', a)
        a = a @ p('attn.c_attn.weight') + p('attn.c_attn.bias')
        d = x.shape[-1]
        q, k, v = (a[..., j * d:(j + 1) * d].reshape(n, t, h, d // h).transpose(0, 2, 1, 3) for j in range(3))
        scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(d // h)
        scores[..., mask] = -np.inf
        probs = np.exp(scores - scores.max(-1, keepdims=True))
        probs /= probs.sum(-1, keepdims=True)
        context = (probs @ v).transpose(0, 2, 1, 3).reshape(n, t, d)
        seen(f'h.{i}.attn.c_proj.weight', context)
        x = x + context @ p('attn.c_proj.weight') + p('attn.c_proj.bias')
        y = layer_norm(x, p('ln_2.weight'), p('ln_2.bias'), eps)
        seen(f'h.{i}.mlp.c_fc.weight', y)
        y = gelu_tanh(y @ p('mlp.c_fc.weight') + p('mlp.c_fc.bias'))
        seen(f'h.{i}.mlp.c_proj.weight', y)
        x = x + y @ p('mlp.c_proj.weight') + p('mlp.c_proj.bias')
    z = layer_norm(x, w['transformer.ln_f.weight'], w['transformer.ln_f.bias'], eps)
    seen('wte.weight', z)
    z = z @ w['transformer.wte.weight'].T
    z -= z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def scores(reference, candidate, ids):
    """Mean KL(reference ‖ candidate) over every position; perplexity of each window's tokens after its first."""
    kl = np.sum(np.exp(reference) * (reference - candidate), axis=-1)
    nll = -np.take_along_axis(candidate[:, :-1], ids[:, 1:, None], axis=-1).mean()
    top1 = np.mean(reference.argmax(-1) == candidate.argmax(-1))
    return {'meanKl': float(kl.mean()), 'perplexity': float(math.exp(nll)), 'top1Agreement': float(top1)}


def mean_squares(weights, config, ids):
    """The mean square of each input channel of each quantized matrix over one row of tokens (what the converter's
    calibration measures), by checkpoint name."""
    found = {}
    logits(weights, config, np.array([ids]), lambda name, x: found.__setitem__(name, (x.reshape(-1, x.shape[-1]) ** 2).mean(0).tolist()))
    return found


def main():
    model_dir = os.path.join(FIXTURE, 'model')
    with open(os.path.join(model_dir, 'config.json')) as f:
        config = json.load(f)
    weights = load_safetensors(os.path.join(model_dir, 'model.safetensors'))
    sp = spm.SentencePieceProcessor(model_file=os.path.join(model_dir, 'spiece.model'))
    ids = []
    with open(os.path.join(FIXTURE, 'heldout.txt'), encoding='utf-8') as f:
        for line in f.read().splitlines():
            ids.extend(sp.encode(line) + [EOS])
    if len(ids) < WINDOW * WINDOWS:
        raise SystemExit(f'heldout.txt has {len(ids)} tokens; {WINDOW * WINDOWS} are needed')
    windows = np.array(ids[: WINDOW * WINDOWS]).reshape(WINDOWS, WINDOW)
    reference = logits(weights, config, windows)
    fp32 = scores(reference, reference, windows)
    result = {
        'about': 'Written by test/oracle/quantization_reference.py; see its docstring.',
        'windows': windows.tolist(),
        'fp32': {'perplexity': fp32['perplexity']},
        'calibration': {'ids': windows[:2].reshape(-1).tolist(), 'meanSquares': mean_squares(weights, config, windows[:2].reshape(-1))},
    }
    for name, fmt in FORMATS.items():
        result[name] = scores(reference, logits(quantized_weights(weights, config, fmt), config, windows), windows)
        print(name, result[name], flush=True)
    print('fp32', result['fp32'])
    with open(os.path.join(FIXTURE, 'reference.json'), 'w') as f:
        json.dump(result, f, separators=(',', ':'))
        f.write('\n')


if __name__ == '__main__':
    main()
