#!/usr/bin/env python3
"""HQQ as its reference computes it (mobiusml/hqq hqq/core/quantize.py Quantizer.quantize with
optimize_weights_proximal_legacy, the code in .carry/hqqref at the commit in its COMMIT file) against
gptq.py-style RTN, on austen-small, with the perplexity protocol of `ptq ppl` / tests/test_baselines.cpp
(text tokenized without special tokens, non-overlapping windows of 512, the first 16, mean CE over the
511 targets of each window). Every linear layer of the decoder blocks is replaced by its dequantized
weight in float32. Prints one JSON object per setting.

Setup (the GPU machine has torch, transformers and tokenizers; nothing else is needed):
  mkdir -p .carry/hqqref/hqq/core .carry/hqqref/termcolor .carry/austen-small
  for f in __init__ quantize optimize utils bitpack; do   # mobiusml/hqq at e0b1d00 (its COMMIT file)
    git --git-dir=HQQ.git show HEAD:hqq/core/$f.py > .carry/hqqref/hqq/core/$f.py; done
  git --git-dir=HQQ.git show HEAD:hqq/__init__.py > .carry/hqqref/hqq/__init__.py
  echo 'def colored(s, *a, **k): return s' > .carry/hqqref/termcolor/__init__.py   # hqq only prints with it
  cp shared/models/austen-small/{config.json,model.safetensors,tokenizer.json,tokenizer_config.json} .carry/austen-small/
  cp shared/corpus/austen-test.txt .carry/
  python3 bench/hqq_reference_austen.py            # --device cuda: the reference's float16 solver"""
import argparse, json, sys

import torch
from tokenizers import Tokenizer
from transformers import AutoModelForCausalLM

ap = argparse.ArgumentParser()
ap.add_argument("--model", default=".carry/austen-small")
ap.add_argument("--text", default=".carry/austen-test.txt")
ap.add_argument("--hqq", default=".carry/hqqref")
ap.add_argument("--device", default="cpu")
a = ap.parse_args()
sys.path.insert(0, a.hqq)
from hqq.core.quantize import Quantizer  # noqa: E402

tok = Tokenizer.from_file(f"{a.model}/tokenizer.json")
ids = tok.encode(open(a.text, encoding="utf-8").read(), add_special_tokens=False).ids
windows = torch.tensor(ids[: 16 * 512]).view(16, 512)


def ppl(model):
    with torch.no_grad():
        nll = [torch.nn.functional.cross_entropy(model(windows[i : i + 1]).logits[0, :-1].float(), windows[i, 1:])
               for i in range(16)]
    return float(torch.exp(torch.stack(nll).mean()))


def rtn(W, bits, g):  # gptq quant.py: range including 0, integer zero, per group of g input columns
    x = W.reshape(-1, g)
    xmin = torch.minimum(x.min(1, keepdim=True)[0], torch.zeros(1))
    xmax = torch.maximum(x.max(1, keepdim=True)[0], torch.zeros(1))
    maxq = 2**bits - 1
    scale = (xmax - xmin) / maxq
    zero = torch.round(-xmin / scale)
    q = torch.clamp(torch.round(x / scale) + zero, 0, maxq)
    return (scale * (q - zero)).reshape(W.shape)


def hqq(W, bits, g, axis, optimize):
    W_q, meta = Quantizer.quantize(W.to(a.device), nbits=bits, channel_wise=True, group_size=g, optimize=optimize,
                                   round_zero=(bits == 4), axis=axis, bitpack=False, device=a.device)
    return ((W_q.float() - meta["zero"].float()) * meta["scale"].float()).reshape(W.shape).cpu()


def run(name, fn):
    model = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32).eval()
    errs = []
    for layer in model.model.layers:
        for mod in layer.modules():
            if isinstance(mod, torch.nn.Linear):
                W = mod.weight.data.float()
                Wq = fn(W)
                errs.append(float((W - Wq).norm() / W.norm()))
                mod.weight.data = Wq
    print(json.dumps({"setting": name, "ppl": ppl(model), "mean_weight_rel_error": sum(errs) / len(errs)}), flush=True)


run("fp", lambda W: W)
for bits in (3, 4):
    run(f"rtn w{bits}g64", lambda W: rtn(W, bits, 64))
    for axis in (1, 0):
        run(f"hqq w{bits}g64 axis={axis}", lambda W: hqq(W, bits, 64, axis, True))
        run(f"hqq w{bits}g64 axis={axis} optimize=False", lambda W: hqq(W, bits, 64, axis, False))
