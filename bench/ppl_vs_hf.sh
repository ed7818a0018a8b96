#!/usr/bin/env bash
# Perplexity throughput and peak GPU memory of `ptq ppl` against Hugging Face transformers, on the
# same GPU in the same command: bf16, seqlen 2048, a LLaMA-2-7B-shaped random checkpoint with the
# Llama-2 tokenizer, on the Austen test text. Usage: bench/ppl_vs_hf.sh PTQ_BINARY TOKENIZER_JSON [WORKDIR]
set -euo pipefail
PTQ=$1
TOK=$2
WORK=${3:-/tmp/ptq-bench}
LIKE=${LIKE:-llama-2-7b}
TEXT=${TEXT:-$(dirname "$0")/../resources/demo-text/austen-test.txt}
mkdir -p "$WORK"
[ -f "$WORK/$LIKE/config.json" ] || "$PTQ" make-checkpoint --like "$LIKE" --out "$WORK/$LIKE" --dtype bfloat16 --tokenizer "$TOK" >&2
ours_res=$("$PTQ" ppl --model "$WORK/$LIKE" --text "$TEXT" --seqlen 2048 --device cuda --dtype bfloat16 --warmup 1 --residency resident --batch ${BATCH:-4})
ours_str=$("$PTQ" ppl --model "$WORK/$LIKE" --text "$TEXT" --seqlen 2048 --device cuda --dtype bfloat16 --warmup 1 --residency stream --batch 4)
# transformers at its best batch size of 1, 2 and 4 (the fastest is the peer)
hf=$(for b in 1 2 4; do python3 "$(dirname "$0")/hf_ppl.py" --model "$WORK/$LIKE" --text "$TEXT" --seqlen 2048 --dtype bfloat16 --batch $b; done |
  python3 -c 'import json,sys; print(json.dumps(max((json.loads(l) for l in sys.stdin), key=lambda j: j["tokens_per_second"])))')
python3 - "$ours_res" "$ours_str" "$hf" <<'PY'
import json, sys
res, strm, hf = (json.loads(x) for x in sys.argv[1:4])
out = {"hf": hf, "ptq_resident": res, "ptq_stream": strm,
       "speedup_resident": res["tokens_per_second"] / hf["tokens_per_second"],
       "speedup_stream": strm["tokens_per_second"] / hf["tokens_per_second"],
       "memory_ratio_resident": res["peak_gpu_bytes"] / hf["peak_gpu_bytes"],
       "memory_ratio_stream": strm["peak_gpu_bytes"] / hf["peak_gpu_bytes"],
       "ppl_rel_diff": abs(res["ppl"] - hf["ppl"]) / hf["ppl"]}
print(json.dumps(out, indent=1))
PY
