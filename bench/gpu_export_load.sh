#!/usr/bin/env bash
# Exported checkpoints loaded by Hugging Face transformers on the GPU machine, against `ptq`'s own
# evaluation of the same folder (which dequantizes on load, core/io/checkpoint.h).
# For each format: `ptq quantize --method rtn --bits 4 --group 128 --sym --export DIR --export-format F`
# on a 2-layer llama-2-7b-shaped random checkpoint, then the perplexity of DIR by `ptq ppl` (float16,
# the exported weights dequantized) and by transformers' own quantized modules (bench/hf_ppl.py,
# float16). Same windows, same protocol: the relative PPL difference bounds how far the loaders'
# logits are from ptq's (their fp16 kernels and fp16 scales round; equal weights give < 1e-3).
# GPTQ needs optimum + gptqmodel (or auto-gptq), AWQ autoawq, compressed-tensors the
# compressed-tensors package: the script tries, and prints which were importable; a format whose
# loader is missing is reported as skipped with the import error.
# Usage (from the repository root, after bench/gpu_run.sh's build step or with BUILD=build-gpu):
#   OUT=/tmp/out bash bench/gpu_export_load.sh [.carry/llama2.tokenizer.json]
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/out}
TOK=${1:-.carry/llama2.tokenizer.json}
BUILD=${BUILD:-build-gpu}
WORK=${WORK:-/tmp/ptq-export-bench}
TEXT=${TEXT:-resources/demo-text/austen-test.txt}
mkdir -p "$OUT" "$WORK"
if [ ! -x "$BUILD/app/ptq" ]; then
  prefix=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPTQ_BUILD_GUI=OFF -DCMAKE_PREFIX_PATH="$prefix" \
    >"$OUT/export-build.log" 2>&1 && cmake --build "$BUILD" -j 16 --target ptq >>"$OUT/export-build.log" 2>&1 ||
    { tail -30 "$OUT/export-build.log"; exit 1; }
fi
PTQ=$BUILD/app/ptq
python3 - <<'PY' | tee "$OUT/export-packages.json"
import importlib, json
out = {}
for m in ["transformers", "optimum", "gptqmodel", "auto_gptq", "awq", "compressed_tensors", "vllm"]:
    try:
        mod = importlib.import_module(m)
        out[m] = getattr(mod, "__version__", "present")
    except Exception as e:  # noqa: BLE001 - report whatever failed
        out[m] = f"unavailable: {type(e).__name__}: {e}"[:200]
print(json.dumps(out, indent=1))
PY
BASE=$WORK/llama-2-7b-2l
[ -f "$BASE/config.json" ] || "$PTQ" make-checkpoint --like llama-2-7b --layers 2 --out "$BASE" --dtype float16 --tokenizer "$TOK" >/dev/null
for F in gptq gptq_v2 awq compressed-tensors; do
  DIR=$WORK/export-$F
  "$PTQ" quantize --model "$BASE" --method rtn --bits 4 --group 128 --sym --export "$DIR" --export-format "$F" --force \
    --device cuda --dtype float16 >"$OUT/export-$F-quantize.json" 2>"$OUT/export-$F-quantize.err" ||
    { echo "{\"format\": \"$F\", \"export\": \"failed\", \"error\": $(python3 -c 'import json,sys;print(json.dumps(open(sys.argv[1]).read()))' "$OUT/export-$F-quantize.err")}"; continue; }
  ours=$("$PTQ" ppl --model "$DIR" --text "$TEXT" --seqlen 2048 --max-windows 4 --device cuda --dtype float16 2>&1)
  hf=$(python3 bench/hf_ppl.py --model "$DIR" --text "$TEXT" --seqlen 2048 --max-windows 4 --dtype float16 2>"$OUT/export-$F-hf.err")
  python3 - "$F" "$ours" "$hf" "$OUT/export-$F-hf.err" <<'PY' | tee -a "$OUT/export-load.jsonl"
import json, sys
f, ours, hf, err = sys.argv[1:5]
rec = {"format": f}
try:
    rec["ptq"] = json.loads(ours)["ppl"]
except Exception:
    rec["ptq_error"] = ours[-400:]
try:
    rec["transformers"] = json.loads(hf)["ppl"]
except Exception:
    rec["transformers"] = "skipped: " + open(err).read()[-600:]
if isinstance(rec.get("transformers"), float) and "ptq" in rec:
    rec["ppl_rel_diff"] = abs(rec["ptq"] - rec["transformers"]) / rec["transformers"]
print(json.dumps(rec))
PY
done
