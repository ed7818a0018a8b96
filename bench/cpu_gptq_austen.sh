#!/usr/bin/env bash
# The issue-16 CPU target: `ptq quantize` of austen-small, GPTQ w3g128, 128 x 512 calibration windows
# from austen-train (seed 0), with its PPL on austen-test at seqlen 512, float32 on two cores
# (taskset), timed by /usr/bin/time for the whole command (target: <= 45 s wall on 2 idle cores).
# Prints one JSON line: wall, user, sys, max RSS, PPL, quantize_seconds and the run's total seconds (the
# evaluation is most of the difference), commit, load average before and after.
# User CPU seconds are the figure to compare on a loaded machine (wall time depends on the load).
# Usage: [THREADS=2] bench/cpu_gptq_austen.sh [PTQ_BINARY] [DATA_DIR] [CPU_CORES]
#   DATA_DIR holds models/austen-small and corpus/austen-{train,test}.txt (default /work/shared).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
PTQ=${1:-$here/../build/app/ptq}
DATA=${2:-/work/shared}
CORES=${3:-0,1}
commit=$(git -C "$here/.." rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$here/.." status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo true || echo false)
load=$(cut -d' ' -f1 /proc/loadavg)
out=$(mktemp) tim=$(mktemp)
trap 'rm -f "$out" "$tim"' EXIT
env PTQ_THREADS=${THREADS:-2} OMP_NUM_THREADS=${THREADS:-2} taskset -c "$CORES" /usr/bin/time -f '%e %U %S %M' -o "$tim" \
  "$PTQ" quantize --model "$DATA/models/austen-small" --method gptq --bits 3 --group 128 \
  --calib "$DATA/corpus/austen-train.txt" --nsamples 128 --calib-seqlen 512 --seed 0 \
  --eval-text "$DATA/corpus/austen-test.txt" --eval-seqlen 512 --device cpu --dtype float32 >"$out"
read -r wall user sys rss <"$tim"
python3 - "$out" "$wall" "$user" "$sys" "$rss" "$commit" "$dirty" "$load" "$(cut -d' ' -f1 /proc/loadavg)" "$CORES" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
wall, user, sys_s, rss = float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
print(json.dumps({"bench": "cpu_gptq_austen", "model": "austen-small", "bits": 3, "group": 128,
                  "ppl": j["ppl"], "wall_s": wall, "user_s": user, "sys_s": sys_s, "max_rss_kb": rss,
                  "quantize_seconds": j.get("quantize_seconds"), "total_seconds": j.get("seconds"),
                  "commit": sys.argv[6], "dirty": sys.argv[7] == "true", "cores": sys.argv[10],
                  "loadavg_before": float(sys.argv[8]), "loadavg_after": float(sys.argv[9])}))
PY
