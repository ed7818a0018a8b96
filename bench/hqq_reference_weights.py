#!/usr/bin/env python3
"""HQQ as its reference computes it (mobiusml/hqq hqq/core/quantize.py Quantizer.quantize, whose
optimize_weights is optimize.py optimize_weights_proximal = optimize_weights_proximal_legacy), on the
CPU (the reference's float32 solver), for every linear layer of austen-small's decoder blocks, written
back as a float32 model folder so that `ptq ppl` evaluates the reference's weights with the same
protocol as `ptq quantize --method hqq` (the two PPLs agree when the port is exact). Also prints,
per setting, the weight error statistics that explain HQQ against RTN (gptq quant.py's min/max with
the range including 0 and an integer zero, what `ptq quantize --method rtn` does).

Needs only torch (Debian's python3-torch works) and the reference's hqq/core (no transformers, no
safetensors package: the file is read and written by hand):
  mkdir -p .carry/hqqref/hqq/core .carry/hqqref/termcolor
  for f in __init__ quantize optimize utils bitpack; do   # mobiusml/hqq at e0b1d00
    git --git-dir=HQQ.git show HEAD:hqq/core/$f.py > .carry/hqqref/hqq/core/$f.py; done
  git --git-dir=HQQ.git show HEAD:hqq/__init__.py > .carry/hqqref/hqq/__init__.py
  echo 'def colored(s, *a, **k): return s' > .carry/hqqref/termcolor/__init__.py
  python3 bench/hqq_reference_weights.py --model ../shared/models/austen-small --out /tmp/hqqref
  for d in /tmp/hqqref/*/; do build/app/ptq ppl --model $d --text shared/corpus/austen-test.txt \
      --seqlen 512 --max-windows 16; done"""
import argparse, json, os, shutil, struct, sys

import torch

ap = argparse.ArgumentParser()
ap.add_argument("--model", required=True)
ap.add_argument("--out", required=True)
ap.add_argument("--hqq", default=".carry/hqqref")
ap.add_argument("--group", type=int, default=64)
a = ap.parse_args()
sys.path.insert(0, a.hqq)
if not hasattr(torch, "compile"):  # torch 1.13 (Debian's): hqq decorates a forward it never runs here
    torch.compile = lambda *args, **kw: (lambda f: f)
from hqq.core.quantize import Quantizer  # noqa: E402

DT = {"BF16": torch.bfloat16, "F16": torch.float16, "F32": torch.float32}


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        lo, hi = v["data_offsets"]
        t = torch.frombuffer(bytearray(data[lo:hi]), dtype=DT[v["dtype"]]).reshape(v["shape"])
        out[k] = t.float()
    return out


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for k, t in tensors.items():
        b = t.contiguous().float().numpy().tobytes()
        header[k] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for b in blobs:
            f.write(b)


def rtn(W, bits, g):  # gptq quant.py: range including 0, integer zero, per group of g input columns
    x = W.reshape(-1, g)
    xmin = torch.minimum(x.min(1, keepdim=True)[0], torch.zeros(1))
    xmax = torch.maximum(x.max(1, keepdim=True)[0], torch.zeros(1))
    maxq = 2**bits - 1
    scale = (xmax - xmin) / maxq
    zero = torch.round(-xmin / scale)
    q = torch.clamp(torch.round(x / scale) + zero, 0, maxq)
    return (scale * (q - zero)).reshape(W.shape)


def hqq(W, bits, g, axis, optimize=True):
    W_q, meta = Quantizer.quantize(W, nbits=bits, channel_wise=True, group_size=g, optimize=optimize,
                                   round_zero=(bits == 4), axis=axis, bitpack=False, device="cpu")
    return ((W_q.float() - meta["zero"].float()) * meta["scale"].float()).reshape(W.shape)


def stats(pairs):
    """Weight error statistics over all layers: mean |e| / mean |W|, relative Frobenius, the mean
    |e| on the 1% largest |W| of each layer (relative to their mean |W|), and the share of weights
    whose error exceeds half of RTN's step (clipped or shifted off RTN's grid)."""
    num = {"mean_abs": 0.0, "fro": 0.0, "top1pct": 0.0}
    for W, Wq in pairs:
        e = (W - Wq).abs()
        num["mean_abs"] += float(e.mean() / W.abs().mean())
        num["fro"] += float((W - Wq).norm() / W.norm())
        k = max(1, W.numel() // 100)
        idx = W.abs().flatten().topk(k).indices
        num["top1pct"] += float(e.flatten()[idx].mean() / W.abs().flatten()[idx].mean())
    return {k: round(v / len(pairs), 5) for k, v in num.items()}


src = read_safetensors(os.path.join(a.model, "model.safetensors"))
settings = [("rtn", b, None) for b in (3, 4)] + [("hqq", b, ax) for b in (3, 4) for ax in (1, 0)]
for name, bits, axis in settings:
    tag = f"{name}_w{bits}g{a.group}" + ("" if axis is None else f"_axis{axis}")
    out, pairs = {}, []
    for k, W in src.items():
        if k.startswith("model.layers.") and k.endswith("_proj.weight"):
            Wq = rtn(W, bits, a.group) if name == "rtn" else hqq(W.clone(), bits, a.group, axis)
            pairs.append((W, Wq))
            out[k] = Wq
        else:
            out[k] = W
    d = os.path.join(a.out, tag)
    os.makedirs(d, exist_ok=True)
    write_safetensors(os.path.join(d, "model.safetensors"), out)
    for f in ("config.json", "tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(a.model, f), d)
    print(json.dumps({"setting": tag, "dir": d, **stats(pairs)}), flush=True)
