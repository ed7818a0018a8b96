#!/usr/bin/env python3
"""Reference perplexity with Hugging Face transformers, same protocol and windows as `ptq ppl`:
text tokenized without special tokens, non-overlapping windows, no BOS, mean CE over seqlen-1
targets per window, PPL = exp(mean). Prints one JSON object (tokens/s, peak GPU memory)."""
import argparse, json, time

import torch
from tokenizers import Tokenizer
from transformers import AutoModelForCausalLM

ap = argparse.ArgumentParser()
ap.add_argument("--model", required=True)
ap.add_argument("--text", required=True)
ap.add_argument("--seqlen", type=int, default=2048)
ap.add_argument("--dtype", default="bfloat16")
ap.add_argument("--max-windows", type=int, default=0)
ap.add_argument("--warmup", type=int, default=1)
ap.add_argument("--batch", type=int, default=1)
a = ap.parse_args()

dtype = {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}[a.dtype]
tok = Tokenizer.from_file(f"{a.model}/tokenizer.json")
ids = tok.encode(open(a.text, encoding="utf-8").read(), add_special_tokens=False).ids
n = len(ids) // a.seqlen
if a.max_windows:
    n = min(n, a.max_windows)
t_load = time.time()
model = AutoModelForCausalLM.from_pretrained(a.model, dtype=dtype, device_map="cuda").eval()
load_s = time.time() - t_load
windows = torch.tensor(ids[: n * a.seqlen]).view(n, a.seqlen).cuda()
with torch.no_grad():
    for _ in range(a.warmup):
        model(windows[:1])
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    t0 = time.time()
    nlls = []
    for i in range(0, n, a.batch):
        w = windows[i : i + a.batch]
        logits = model(w).logits
        for r in range(w.shape[0]):  # one mean NLL per window, as at batch 1
            nlls.append(torch.nn.functional.cross_entropy(logits[r, :-1, :].float(), w[r, 1:]))
    torch.cuda.synchronize()
    sec = time.time() - t0
mean = torch.stack(nlls).mean().item()
print(json.dumps({
    "ppl": float(torch.exp(torch.tensor(mean))), "tokens": n * a.seqlen, "windows": n, "seconds": sec,
    "tokens_per_second": n * a.seqlen / sec, "peak_gpu_bytes": torch.cuda.max_memory_allocated(),
    "load_seconds": load_s, "batch": a.batch, "attn": model.config._attn_implementation,
    "torch": torch.__version__, "gpu": torch.cuda.get_device_name(0)}))
