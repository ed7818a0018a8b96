#!/usr/bin/env bash
# Weight-activation quantization of a LLaMA-2-7B-shaped random bf16 checkpoint on one GPU, in one
# command: GPTQ W4A16 (reference), QuaRot W4A4 (rotate+gptq --act-bits 4), W8A8 (per-channel
# absmax weights, per-token activations: SmoothQuant's setting without smoothing) and FP8 W8A8;
# wall time and peak memory of quantization, and the evaluation time against full precision
# (issue 12: the activation quantizer must keep evaluation within 1.5x of full precision).
# Usage: bench/actquant_7b.sh PTQ_BINARY TOKENIZER_JSON [WORKDIR]
set -euo pipefail
PTQ=$1
TOK=$2
WORK=${3:-/tmp/ptq-bench}
LIKE=${LIKE:-llama-2-7b}
TEXT=${TEXT:-$(dirname "$0")/../resources/demo-text/austen-valid.txt}
NSAMPLES=${NSAMPLES:-128}
WINDOWS=${WINDOWS:-16}
LAYERS=${LAYERS:-}
NAME=$LIKE${LAYERS:+-$LAYERS}
mkdir -p "$WORK/results"
[ -f "$WORK/$NAME/config.json" ] || "$PTQ" make-checkpoint --like "$LIKE" ${LAYERS:+--layers $LAYERS} --out "$WORK/$NAME" --dtype bfloat16 --tokenizer "$TOK" >&2
COMMON=(--model "$WORK/$NAME" --device cuda --dtype bfloat16 --eval-text "$TEXT" --eval-seqlen 2048
        --eval-max-windows "$WINDOWS" --eval-batch 1 --calib "$TEXT" --nsamples "$NSAMPLES" --calib-seqlen 2048 --calib-batch 4)
SUMMARY='
import json, sys
r = json.load(sys.stdin)
act = r.get("activations") or {}
print(json.dumps({"run": sys.argv[1], "ppl": r.get("ppl"), "eval": r.get("eval"), "quantize_seconds": r.get("quantize_seconds"),
                  "seconds": r.get("seconds"), "peak_gpu_gib": (r.get("peak_gpu_bytes") or 0) / 2**30, "act": act.get("label")}))'
# Full precision: the evaluation time every W-A run is compared with.
/usr/bin/time -f "fp ppl wall %e s" "$PTQ" ppl --model "$WORK/$NAME" --text "$TEXT" --seqlen 2048 --max-windows "$WINDOWS" \
  --device cuda --dtype bfloat16
run() {
  local name=$1; shift
  "$PTQ" quantize "${COMMON[@]}" --results "$WORK/results" "$@" | python3 -c "$SUMMARY" "$name"
}
run gptq-w4a16 --method gptq --bits 4 --group 128
run rtn-w4a16 --method rtn --bits 4 --group 128                                   # eval time without act quant
run quarot-w4a4 --method rotate+gptq --bits 4 --group -1 --sym --act-bits 4
run w8a8-int --method rtn --bits 8 --group -1 --sym --sym-style absmax --act-bits 8
run w8a8-fp8 --method rtn --bits 8 --group -1 --format fp8_e4m3 --act-bits 8 --act-format fp8_e4m3
# Evaluation overhead of the activation quantizer: compare seconds.eval (or ppl) of rtn-w4a16
# with w8a8-int / w8a8-fp8 (same forward, weights dequantized in bf16 either way).
