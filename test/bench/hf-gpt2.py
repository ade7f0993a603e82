"""The peer on a CUDA machine: transformers' GPT-2 on the checkpoint Tsuzuki converted (the bench's random one).

    python3 test/bench/hf-gpt2.py CHECKPOINT_DIR IDS.json OUT.json [LOGITS.json ...]

IDS.json is a JSON list of token ids; each LOGITS.json is what `tsuzuki logits --model <converted> --device <d>
--ids <the same ids>` printed. Writes to OUT.json (and prints):
1) agreement of the last position's logits: each LOGITS.json, and transformers in fp16, against transformers in
   fp32 (largest and mean difference, top-1, top-10 overlap, KL divergence);
2) transformers' fp16 speed: prefill of 128/512/900 tokens, decode at batch 1 and 3 from an empty cache and after
   512 tokens (greedy, KV cache, eager; medians). A development tool, never part of the app or the tests.
"""
import json, sys, time, statistics
import torch
import transformers
from transformers import GPT2LMHeadModel

src, ids_file, out = sys.argv[1], sys.argv[2], sys.argv[3]
logit_files = sys.argv[4:]
report = {"torch": torch.__version__, "transformers": transformers.__version__, "gpu": torch.cuda.get_device_name(0)}

dev = torch.device("cuda")
t = time.perf_counter()
m32 = GPT2LMHeadModel.from_pretrained(src, dtype=torch.float32).to(dev).eval()
report["load32_s"] = round(time.perf_counter() - t, 2)
ids = json.load(open(ids_file))

with torch.no_grad():
    ref32 = m32(torch.tensor([ids], device=dev)).logits[0, -1].float().cpu()
    m16 = m32.half()
    ref16 = m16(torch.tensor([ids], device=dev)).logits[0, -1].float().cpu()

def compare(a, b):
    d = (a - b).abs()
    ta, tb = a.topk(10).indices.tolist(), b.topk(10).indices.tolist()
    pa, pb = torch.log_softmax(a.double(), -1), torch.log_softmax(b.double(), -1)
    return {"maxAbsDiff": round(d.max().item(), 5), "meanAbsDiff": round(d.mean().item(), 6), "scale": round(a.abs().max().item(), 3),
            "top1Same": ta[0] == tb[0], "top10Overlap": len(set(ta) & set(tb)), "klNats": float((pa.exp() * (pa - pb)).sum())}

report["hf16_vs_hf32"] = compare(ref32, ref16)
for f in logit_files:
    j = json.load(open(f))
    ours = torch.tensor(j["results"][0]["logits"], dtype=torch.float32)
    report[f"{j['executionProvider']}_vs_hf32"] = compare(ref32, ours)
    report[f"{j['executionProvider']}_vs_hf16"] = compare(ref16, ours)
json.dump(report, open(out, "w"), indent=1)

def sync():
    torch.cuda.synchronize()

def prefill_ms(n, reps=5):
    x = torch.randint(4, 44928, (1, n), device=dev)
    times = []
    for _ in range(reps + 1):
        sync(); t = time.perf_counter(); m16(x, use_cache=True); sync(); times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times[1:])

def decode_tps(ctx, batch, steps=32):
    x = torch.randint(4, 44928, (batch, ctx), device=dev)
    rates = []
    for _ in range(3):
        o = m16(x, use_cache=True); past = o.past_key_values; tok = o.logits[:, -1].argmax(-1, keepdim=True)
        sync(); t = time.perf_counter()
        for _ in range(steps):
            o = m16(tok, past_key_values=past, use_cache=True); past = o.past_key_values; tok = o.logits[:, -1].argmax(-1, keepdim=True)
        sync(); rates.append(steps * batch / (time.perf_counter() - t))
    return round(statistics.median(rates), 1)

with torch.no_grad():
    prefill_ms(8)
    report["hf16_prefill"] = {n: {"ms": round(ms, 2), "tokensPerSecond": round(n / ms * 1000)} for n in (128, 512, 900) for ms in [prefill_ms(n)]}
    report["hf16_decode"] = {"batch1Empty": decode_tps(8, 1), "batch3Empty": decode_tps(8, 3), "batch1After512": decode_tps(512, 1), "batch3After512": decode_tps(512, 3)}
report["peakGpuMB"] = round(torch.cuda.max_memory_allocated() / 2**20)
json.dump(report, open(out, "w"), indent=1)
print(json.dumps(report))
