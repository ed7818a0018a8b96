#!/usr/bin/env bash
# Issue 12's benchmark: SmoothQuant W8A8 and QuaRot W4A4 (+GPTQ) of the full LLaMA-2-7B shape
# (random bf16 checkpoint, 32 blocks) on one GPU, in the same command as GPTQ W4A16: wall time and
# peak GPU memory of quantization, PPL, and the evaluation time against full precision (the
# activation quantizer must keep evaluation within 1.5x of full precision). Also AWQ's transform
# before W4A8 and OS+ before W8A8 (the LLMC settings), unless SKIP_EXTRA=1.
# Usage: bench/gpu_wa_7b.sh PTQ_BINARY TOKENIZER_JSON [WORKDIR]
#   on the GPU machine after bench/gpu_run.sh's build: BENCH=gpu_wa_7b bash bench/gpu_run.sh
#   or directly: bash bench/gpu_wa_7b.sh build-gpu/app/ptq .carry/llama2.tokenizer.json
# Env: LAYERS (truncate to N blocks for a quick check), NSAMPLES (128), WINDOWS (eval windows, 16).
# Output: one JSON line per run (stdout), records under WORKDIR/results.
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
[ -f "$WORK/$NAME/config.json" ] || "$PTQ" make-checkpoint --like "$LIKE" ${LAYERS:+--layers $LAYERS} --out "$WORK/$NAME" \
  --dtype bfloat16 --tokenizer "$TOK" >&2
COMMON=(--model "$WORK/$NAME" --device cuda --dtype bfloat16 --residency stream --eval-text "$TEXT" --eval-seqlen 2048
        --eval-max-windows "$WINDOWS" --eval-batch 1 --calib "$TEXT" --nsamples "$NSAMPLES" --calib-seqlen 2048 --calib-batch 4)
SUMMARY='
import json, sys
r = json.load(sys.stdin)
act = r.get("activations") or {}
steps = {}
if r.get("record"):  # the record written under --results: seconds per step (load, quantize, ppl, ...)
    steps = json.load(open(r["record"])).get("metrics", {}).get("seconds", {})
print(json.dumps({"run": sys.argv[1], "run_id": r.get("run_id"), "act": act.get("label"), "ppl": r.get("ppl"),
                  "eval": r.get("eval"), "quantize_seconds": r.get("quantize_seconds"), "total_seconds": r.get("seconds"),
                  "step_seconds": steps, "peak_gpu_gib": (r.get("peak_gpu_bytes") or 0) / 2**30,
                  "layers": len(r.get("blocks") or []), "device": r.get("device"), "torch": r.get("torch")}))'
# Full precision: the evaluation time the W-A runs are compared with.
/usr/bin/time -f '{"run": "fp-ppl", "wall_seconds": %e, "max_rss_kib": %M}' "$PTQ" ppl --model "$WORK/$NAME" --text "$TEXT" \
  --seqlen 2048 --max-windows "$WINDOWS" --device cuda --dtype bfloat16
run() {
  local name=$1; shift
  /usr/bin/time -f "{\"run\": \"$name\", \"wall_seconds\": %e}" \
    "$PTQ" quantize "${COMMON[@]}" --results "$WORK/results" "$@" | python3 -c "$SUMMARY" "$name"
}
# The reference in the same command: GPTQ W4A16 g128.
run gptq-w4a16g128 --method gptq --bits 4 --group 128
# SmoothQuant W8A8: per-channel absmax weights, per-token dynamic activations (the reference's
# O1-style fake quant), alpha 0.5; and its per-tensor static-activation setting.
run smoothquant-w8a8 --method smoothquant+rtn --bits 8 --group -1 --sym --sym-style absmax --act-bits 8
run smoothquant-w8a8-static --method smoothquant+rtn --bits 8 --group -1 --sym --sym-style absmax --act-bits 8 \
  --act-granularity tensor --act-static absmax
# QuaRot W4A4: rotation + online Hadamard before down_proj, GPTQ weights, per-token activations.
run quarot-w4a4 --method rotate+gptq --bits 4 --group -1 --sym --act-bits 4
run quarot-rtn-w4a4 --method rotate+rtn --bits 4 --group -1 --sym --act-bits 4
if [ "${SKIP_EXTRA:-0}" != 1 ]; then
  run awq-gptq-w4a8g128 --method awq+gptq --bits 4 --group 128 --act-bits 8
  run osplus-w8a8 --method osplus+rtn --bits 8 --group -1 --sym --act-bits 8
fi
# Evaluation overhead of the activation quantizer: step_seconds.ppl of smoothquant-w8a8 / quarot-w4a4
# against gptq-w4a16g128's (the same bf16 forward without Q_a) and fp-ppl's wall time.
