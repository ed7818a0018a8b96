#!/usr/bin/env bash
# HQQ, OWQ and QuIP (quip: LDLQ, quip+gptq) against GPTQ on a LLaMA-2-7B-shaped random bf16 checkpoint, at w4g128 and w2g128:
# wall time and peak GPU memory in the same command (issue 13: HQQ should take well under a minute
# on a 7B shape). HQQ runs without calibration; GPTQ and OWQ with 128 x 2048 tokens (gptq sampler).
# Usage: [BITS="4 2"] [METHODS="hqq gptq owq quip quip+gptq"] [LAYERS=N] bench/baselines_7b.sh PTQ_BINARY TOKENIZER_JSON [WORKDIR]
set -euo pipefail
PTQ=$1
TOK=$2
WORK=${3:-/tmp/ptq-bench}
LIKE=${LIKE:-llama-2-7b}
CALIB=${CALIB:-$(dirname "$0")/../resources/demo-text/austen-valid.txt}
NSAMPLES=${NSAMPLES:-128}
LAYERS=${LAYERS:-}
NAME=$LIKE${LAYERS:+-$LAYERS}
mkdir -p "$WORK"
[ -f "$WORK/$NAME/config.json" ] || "$PTQ" make-checkpoint --like "$LIKE" ${LAYERS:+--layers $LAYERS} --out "$WORK/$NAME" --dtype bfloat16 --tokenizer "$TOK" >&2
SUMMARY='
import json, sys
j = json.load(sys.stdin)
print(json.dumps({"method": j["method"], "bits": int(sys.argv[1]), "group": 128, "quantize_seconds": j["quantize_seconds"],
                  "peak_gpu_gib": j["peak_gpu_bytes"] / 2**30, "bits_per_weight": j.get("size", {}).get("bits_per_weight"),
                  "device": j["device"], "layers": len(j["blocks"])}))'
for bits in ${BITS:-4 2}; do
  for method in ${METHODS:-hqq gptq owq quip quip+gptq}; do
    calib=()
    [ "$method" = hqq ] || calib=(--calib "$CALIB" --nsamples "$NSAMPLES" --calib-seqlen 2048 --calib-batch ${CALIB_BATCH:-4})
    "$PTQ" quantize --model "$WORK/$NAME" --method "$method" --bits $bits --group 128 "${calib[@]}" \
      --device cuda --dtype bfloat16 --residency stream | python3 -c "$SUMMARY" $bits
  done
done
