#!/usr/bin/env bash
# Wall time and peak GPU memory of GPTQ w4g128 and AWQ w4g128 on a LLaMA-2-7B-shaped random
# checkpoint with 128 calibration windows (GPTQ: 2048 tokens each, AWQ: 512 as in its reference) (the seeds report 17 min / 26.4 GB for GPTQ and
# 12 min / 11.7 GB for AWQ on an A800; target <= 2 min and <= 8 GB each on one H100).
# Usage: bench/quantize_7b.sh PTQ_BINARY TOKENIZER_JSON [WORKDIR]
set -euo pipefail
PTQ=$1
TOK=$2
WORK=${3:-/tmp/ptq-bench}
LIKE=${LIKE:-llama-2-7b}
CALIB=${CALIB:-$(dirname "$0")/../resources/demo-text/austen-valid.txt}
NSAMPLES=${NSAMPLES:-128}
LAYERS=${LAYERS:-}   # truncate the model to this many blocks (quick runs); empty = all
NAME=$LIKE${LAYERS:+-$LAYERS}
mkdir -p "$WORK"
[ -f "$WORK/$NAME/config.json" ] || "$PTQ" make-checkpoint --like "$LIKE" ${LAYERS:+--layers $LAYERS} --out "$WORK/$NAME" --dtype bfloat16 --tokenizer "$TOK" >&2
# One line per method. gptq_column_loop counts the layers by the column loop GPTQ ran (layer notes
# "gptq_column_loop: cuda_kernel" / "cuda_graph" / "eager"; on CUDA every layer should say cuda_kernel).
SUMMARY='
import collections, json, re, sys
j = json.load(sys.stdin)
loops = collections.Counter(m.group(1) for l in j["layers"] for m in [re.search(r"gptq_column_loop: (\w+)", l["note"])] if m)
print(json.dumps({"method": j["method"], "quantize_seconds": j["quantize_seconds"], "peak_gpu_gib": j["peak_gpu_bytes"] / 2**30,
                  "nsamples": int(sys.argv[2]), "calib_seqlen": int(sys.argv[3]), "device": j["device"], "layers": len(j["blocks"]), "calib_staging": j.get("calib_staging"),
                  "gptq_column_loop": dict(loops), "block_seconds": [round(b["seconds"], 2) for b in j["blocks"]],
                  "last_block_out_rel_mse": j["blocks"][-1]["out_rel_mse"]}))'
# Each method at its reference's calibration shape: GPTQ 128 x 2048 tokens, AWQ 128 x 512.
for method in ${METHODS:-gptq awq}; do
  seqlen=2048
  [ "$method" = awq ] && seqlen=512
  "$PTQ" quantize --model "$WORK/$NAME" --method "$method" --bits 4 --group 128 --calib "$CALIB" \
    --nsamples "$NSAMPLES" --calib-seqlen $seqlen --calib-batch ${CALIB_BATCH:-4} --device cuda --dtype bfloat16 --residency stream \
    | python3 -c "$SUMMARY" "$method" "$NSAMPLES" "$seqlen"
done
