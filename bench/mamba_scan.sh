#!/usr/bin/env bash
# Mamba-1 prefill on the GPU: `ptq ppl` (chunked selective scan in LibTorch ops) against
# transformers' MambaForCausalLM slow path (per-token scan loop; bench/hf_mamba_ppl.py forces it),
# same GPU, same command, same windows. A mamba-1.4b-shaped bf16 checkpoint from make-checkpoint
# (LAYERS of its 48 blocks, default 8: the per-token loop is slow), the Austen test text.
# One JSON line per measurement: ptq resident at each scan chunk size (PTQ_SCAN_CHUNK), ptq
# streamed, HF slow path; each with commit, GPU, versions.
# Usage: bench/mamba_scan.sh PTQ_BINARY TOKENIZER_JSON [WORKDIR]   (BENCH=mamba_scan bench/gpu_run.sh)
set -euo pipefail
PTQ=$1
TOK=$2
WORK=${3:-/tmp/ptq-bench}
LIKE=${LIKE:-mamba-1.4b}
LAYERS=${LAYERS:-8}
SEQLEN=${SEQLEN:-2048}
WINDOWS=${WINDOWS:-4}
CHUNKS=${CHUNKS:-"16 32 64"}
TEXT=${TEXT:-$(dirname "$0")/../resources/demo-text/austen-test.txt}
DIR="$WORK/$LIKE-$LAYERS"
mkdir -p "$WORK"
[ -f "$DIR/config.json" ] || "$PTQ" make-checkpoint --like "$LIKE" --layers "$LAYERS" --out "$DIR" --dtype bfloat16 --tokenizer "$TOK" >&2
commit=$(git -C "$(dirname "$0")" rev-parse HEAD 2>/dev/null || echo unknown)
gpu=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | head -1)
line() {  # $1: label, $2: JSON of the run
  python3 - "$1" "$2" "$commit" "$gpu" "$LIKE" "$LAYERS" <<'PY'
import json, sys
label, run, commit, gpu, like, layers = sys.argv[1:7]
r = json.loads(run)
print(json.dumps({"bench": "mamba_scan", "run": label, "like": like, "layers": int(layers), "commit": commit,
                  "gpu": gpu, "tokens_per_second": r["tokens_per_second"], "peak_gpu_bytes": r["peak_gpu_bytes"],
                  "ppl": r["ppl"], "detail": r}))
PY
}
ppl_args=(ppl --model "$DIR" --text "$TEXT" --seqlen "$SEQLEN" --max-windows "$WINDOWS" --device cuda --dtype bfloat16 --warmup 1)
for c in $CHUNKS; do
  line "ptq_resident_chunk$c" "$(PTQ_SCAN_CHUNK=$c "$PTQ" "${ppl_args[@]}" --residency resident)"
done
line "ptq_stream_chunk32" "$(PTQ_SCAN_CHUNK=32 "$PTQ" "${ppl_args[@]}" --residency stream)"
line "hf_slow_path" "$(python3 "$(dirname "$0")/hf_mamba_ppl.py" --model "$DIR" --text "$TEXT" --seqlen "$SEQLEN" \
  --max-windows "$WINDOWS" --dtype bfloat16)"
