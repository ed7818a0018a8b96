#!/usr/bin/env bash
# GPTQ w3g128 on austen-small, 128 x 512 calibration windows from austen-train (the reference's
# sampler), PPL on austen-test at seqlen 512: `ptq quantize` against IST-DASLab/gptq's own llama.py
# (bench/gptq_reference.py runs it unchanged but for the data and transformers-5 plumbing), in the
# same command, on the GPU and on two CPU cores (taskset; the issue's CPU target: <= 45 s wall for
# quantization and PPL). One JSON line per measurement.
# Usage: bench/gptq_vs_reference.sh PTQ_BINARY DATA_DIR REF_DIR [CPU_CORES]
#   DATA_DIR holds austen-small/ and austen-{train,test}.txt; REF_DIR gptq.py, quant.py.
set -euo pipefail
PTQ=$1
DATA=$2
REF=$3
CORES=${4:-0,1}
M=$DATA/austen-small
COMMON=(--calib "$DATA/austen-train.txt" --nsamples 128 --calib-seqlen 512 --seed 0)
commit=$(git -C "$(dirname "$0")/.." rev-parse --short HEAD 2>/dev/null || echo unknown)
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 || true)
tag() { python3 -c "import json,sys; j=json.loads(sys.stdin.read().strip().splitlines()[-1]); j.update(json.loads(sys.argv[1])); print(json.dumps(j))" "$1"; }
ptq_run() {  # DEVICE DTYPE: ptq's quantize + PPL, its own JSON trimmed to the numbers
  "$PTQ" quantize --model "$M" --method gptq --bits 3 --group 128 "${COMMON[@]}" --eval-text "$DATA/austen-test.txt" \
    --eval-seqlen 512 --device "$1" --dtype "$2" | python3 -c '
import json, sys
j = json.load(sys.stdin)
print(json.dumps({"impl": "ptq", "ppl": j["ppl"], "quantize_seconds": j["quantize_seconds"], "peak_gpu_bytes": j["peak_gpu_bytes"], "device": j["device"]}))'
}
meta="{\"bench\": \"gptq_vs_reference\", \"date\": \"$(date -u +%F)\", \"commit\": \"$commit\", \"gpu\": \"$gpu\", \"model\": \"austen-small\", \"bits\": 3, \"group\": 128}"
if [ -n "$gpu" ]; then
  python3 "$(dirname "$0")/gptq_reference.py" "$M" --ref "$REF" --calib "$DATA/austen-train.txt" --test "$DATA/austen-test.txt" \
    --device cuda:0 | tag "$meta"
  ptq_run cuda bfloat16 | tag "$meta"
fi
# Two CPU cores, float32 (both), wall and CPU time from /usr/bin/time for the whole command.
for impl in ptq ref; do
  if [ $impl = ptq ]; then
    cmd=(env PTQ_THREADS=2 OMP_NUM_THREADS=2 taskset -c "$CORES" /usr/bin/time -f '%e %U %S %M' -o /tmp/ptq-time "$PTQ" quantize --model "$M" --method gptq --bits 3 --group 128 "${COMMON[@]}" --eval-text "$DATA/austen-test.txt" --eval-seqlen 512 --device cpu --dtype float32)
    "${cmd[@]}" | python3 -c 'import json,sys; j=json.load(sys.stdin); print(json.dumps({"impl": "ptq", "ppl": j["ppl"], "quantize_seconds": j["quantize_seconds"], "device": "cpu"}))' >/tmp/ptq-out
  else
    CUDA_VISIBLE_DEVICES= OMP_NUM_THREADS=2 taskset -c "$CORES" /usr/bin/time -f '%e %U %S %M' -o /tmp/ptq-time python3 "$(dirname "$0")/gptq_reference.py" "$M" --ref "$REF" \
      --calib "$DATA/austen-train.txt" --test "$DATA/austen-test.txt" --device cpu --dtype float32 >/tmp/ptq-out
  fi
  read -r wall user sys rss </tmp/ptq-time
  tag "{\"cores\": \"$CORES\", \"wall_s\": $wall, \"user_s\": $user, \"sys_s\": $sys, \"max_rss_kb\": $rss}" </tmp/ptq-out | tag "$meta"
done
