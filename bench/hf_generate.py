#!/usr/bin/env python3
"""Decode throughput of Hugging Face transformers' generate, the peer of `ptq generate --json`:
the same prompts (one per line of --prompts, tokenized without special tokens, left-padded),
greedy, exactly --max-new-tokens new tokens per prompt (min_new_tokens = max_new_tokens, as
ptq's --ignore-eos), its KV cache (DynamicCache), batch --batch. One untimed 2-token warm-up.
Prints one JSON object: seconds, new_tokens, tokens_per_second (prefill included, as ptq's)."""
import argparse, json, time

import torch
from tokenizers import Tokenizer
from transformers import AutoModelForCausalLM

ap = argparse.ArgumentParser()
ap.add_argument("--model", required=True)
ap.add_argument("--prompts", required=True)
ap.add_argument("--max-new-tokens", type=int, default=128)
ap.add_argument("--batch", type=int, default=1)
ap.add_argument("--dtype", default="bfloat16")
a = ap.parse_args()

dtype = {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}[a.dtype]
tok = Tokenizer.from_file(f"{a.model}/tokenizer.json")
prompts = [l.rstrip("\r\n") for l in open(a.prompts, encoding="utf-8") if l.strip()]
model = AutoModelForCausalLM.from_pretrained(a.model, dtype=dtype, device_map="cuda").eval()


def batches():
    for s in range(0, len(prompts), a.batch):
        ids = [tok.encode(p, add_special_tokens=False).ids for p in prompts[s : s + a.batch]]
        L = max(len(x) for x in ids)
        input_ids = torch.tensor([[0] * (L - len(x)) + x for x in ids], device="cuda")
        mask = torch.tensor([[0] * (L - len(x)) + [1] * len(x) for x in ids], device="cuda")
        yield input_ids, mask


def run(n):
    total = 0
    for input_ids, mask in batches():
        out = model.generate(input_ids=input_ids, attention_mask=mask, do_sample=False, max_new_tokens=n,
                             min_new_tokens=n, pad_token_id=0, use_cache=True)
        total += (out.shape[1] - input_ids.shape[1]) * out.shape[0]
    return total


with torch.no_grad():
    run(2)
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    t0 = time.time()
    n = run(a.max_new_tokens)
    torch.cuda.synchronize()
    sec = time.time() - t0
print(json.dumps({"seconds": sec, "new_tokens": n, "tokens_per_second": n / sec, "batch": a.batch,
                  "peak_gpu_bytes": torch.cuda.max_memory_allocated(), "attn": model.config._attn_implementation,
                  "torch": torch.__version__, "gpu": torch.cuda.get_device_name(0)}))
