#!/usr/bin/env python3
"""Writes an RTN-quantized copy of a Llama checkpoint, computed without the engine.

Independent reference for tests/test_quantize_pipeline.cpp: pure Python (no numpy, no torch), the
formulas of shared/README.md in float32 arithmetic (each operation rounded to float32, as the CPU
does; double then float32 rounding is exact for one +, -, * or /):
  asymmetric: min = min(w, 0), max = max(w, 0), scale = (max - min) / (2^b - 1), zero = round(-min / scale)
  symmetric:  max = max|w|, min = -max, zero = 2^(b-1)
  all-zero group: min, max = -1, +1
  code = clamp(round(w / scale) + zero, 0, 2^b - 1), w' = scale * (code - zero); round = half to even.
Every linear layer inside the decoder blocks is quantized; the rest is copied. Tensors are written
as float32 (the quantized ones dequantized), with config.json and tokenizer.json beside them, so
`ptq ppl --model OUT` evaluates the quantized model through the plain fp forward pass.

usage: rtn_checkpoint.py MODEL_DIR OUT_DIR BITS GROUP(-1 = per channel) sym|asym
"""
import json
import os
import shutil
import struct
import sys
from array import array

LINEAR = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    header.pop("__metadata__", None)
    tensors = {}
    for name, info in header.items():
        a, b = info["data_offsets"]
        raw = data[a:b]
        if info["dtype"] == "BF16":
            halves = array("H")
            halves.frombytes(raw)
            words = array("I", (h << 16 for h in halves))
            values = array("f")
            values.frombytes(words.tobytes())
        elif info["dtype"] == "F32":
            values = array("f")
            values.frombytes(raw)
        else:
            raise SystemExit(f"{path}: {name} has dtype {info['dtype']}, expected BF16 or F32")
        tensors[name] = (info["shape"], values)
    return tensors


def f32(xs):
    """Rounds a list of doubles to float32 values."""
    return array("f", xs).tolist()


def quantize_group(g, bits, sym):
    maxq = float(2**bits - 1)
    lo, hi = min(min(g), 0.0), max(max(g), 0.0)
    if sym:
        hi = max(-lo, hi)
        lo = -hi
    if lo == 0.0 and hi == 0.0:
        lo, hi = -1.0, 1.0
    scale = f32([f32([hi - lo])[0] / maxq])[0]
    zero = float(2 ** (bits - 1)) if sym else float(round(f32([-lo / scale])[0]))
    ys = f32([w / scale for w in g])
    codes = [min(max(float(round(y)) + zero, 0.0), maxq) for y in ys]
    return f32([scale * (c - zero) for c in codes])


def quantize(shape, values, bits, group, sym):
    rows, cols = shape
    gs = cols if group == -1 else group
    if cols % gs:
        raise SystemExit(f"group {gs} does not divide {cols}")
    out = []
    for start in range(0, rows * cols, gs):
        out.extend(quantize_group(values[start:start + gs].tolist(), bits, sym))
    return array("f", out)


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        shape, values = tensors[name]
        blob = values.tobytes()
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def main():
    if len(sys.argv) != 6 or sys.argv[5] not in ("sym", "asym"):
        raise SystemExit(__doc__)
    model, out, bits, group, sym = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "sym"
    tensors = read_safetensors(os.path.join(model, "model.safetensors"))
    quantized = 0
    for name, (shape, values) in tensors.items():
        if ".layers." in name and name.endswith(".weight") and name.split(".")[-2] in LINEAR:
            tensors[name] = (shape, quantize(shape, values, bits, group, sym))
            quantized += 1
    os.makedirs(out, exist_ok=True)
    write_safetensors(os.path.join(out, "model.safetensors"), tensors)
    for f in ("config.json", "tokenizer.json", "tokenizer_config.json"):
        if os.path.exists(os.path.join(model, f)):
            shutil.copy(os.path.join(model, f), out)
    print(json.dumps({"quantized_layers": quantized, "bits": bits, "group": group, "sym": sym}))


if __name__ == "__main__":
    main()
