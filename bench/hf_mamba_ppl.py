#!/usr/bin/env python3
"""Prefill throughput and peak GPU memory of transformers' MambaForCausalLM on its slow path
(MambaMixer.slow_forward: the per-token selective-scan loop), with the protocol of `ptq ppl`:
text tokenized without special tokens, non-overlapping windows, no BOS, mean CE over seqlen-1
targets per window, PPL = exp(mean). The CUDA kernels (mamba_ssm, causal_conv1d) are forced off
even where installed or fetchable, so the comparison is against the slow path. One JSON line."""
import argparse, json, time

import torch
import transformers
from tokenizers import Tokenizer
from transformers import MambaForCausalLM
from transformers.models.mamba import modeling_mamba

ap = argparse.ArgumentParser()
ap.add_argument("--model", required=True)
ap.add_argument("--text", required=True)
ap.add_argument("--seqlen", type=int, default=2048)
ap.add_argument("--dtype", default="bfloat16")
ap.add_argument("--max-windows", type=int, default=0)
ap.add_argument("--warmup", type=int, default=1)
a = ap.parse_args()

dtype = {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}[a.dtype]
tok = Tokenizer.from_file(f"{a.model}/tokenizer.json")
ids = tok.encode(open(a.text, encoding="utf-8").read(), add_special_tokens=False).ids
n = len(ids) // a.seqlen
if a.max_windows:
    n = min(n, a.max_windows)
t_load = time.time()
model = MambaForCausalLM.from_pretrained(a.model, dtype=dtype, device_map="cuda").eval()
load_s = time.time() - t_load
# transformers 5.x: causal_conv1d_fn, selective_scan_fn, ... are decorated with
# use_kernel_func_from_hub_with_fallback: without the hub kernels (the GPU machine is offline and has
# neither mamba_ssm nor causal_conv1d) each runs its pure-torch fallback, which is what is measured.
windows = torch.tensor(ids[: n * a.seqlen]).view(n, a.seqlen).cuda()
with torch.no_grad():
    for _ in range(a.warmup):
        model(windows[:1], use_cache=False)
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    t0 = time.time()
    nlls = []
    for i in range(n):
        logits = model(windows[i : i + 1], use_cache=False).logits
        nlls.append(torch.nn.functional.cross_entropy(logits[0, :-1, :].float(), windows[i, 1:]))
    torch.cuda.synchronize()
    sec = time.time() - t0
mean = torch.stack(nlls).mean().item()
print(json.dumps({
    "ppl": float(torch.exp(torch.tensor(mean))), "tokens": n * a.seqlen, "windows": n, "seqlen": a.seqlen,
    "seconds": sec, "tokens_per_second": n * a.seqlen / sec, "peak_gpu_bytes": torch.cuda.max_memory_allocated(),
    "load_seconds": load_s, "path": "torch fallbacks (no hub kernels)", "torch": torch.__version__,
    "transformers": transformers.__version__, "gpu": torch.cuda.get_device_name(0)}))
