#!/usr/bin/env bash
# Decode throughput of `ptq generate` against transformers' generate (bench/hf_generate.py) on the
# same GPU in the same command: a LLaMA-2-7B-shaped random bf16 checkpoint (`ptq make-checkpoint`,
# as bench/quantize_7b.sh), greedy, 16 prompts from the Austen test text (~100 tokens each, left-
# padded), exactly NEW new tokens each (--ignore-eos / min_new_tokens), batch 1 and 16, resident.
# Target: ptq not slower. Usage: bench/gpu_generate.sh PTQ_BINARY TOKENIZER_JSON [WORKDIR]
# (or BENCH=gpu_generate bench/gpu_run.sh). Prints one JSON line per batch size.
set -euo pipefail
PTQ=$1
TOK=$2
WORK=${3:-/tmp/ptq-bench}
LIKE=${LIKE:-llama-2-7b}
NEW=${NEW:-128}
TEXT=${TEXT:-$(dirname "$0")/../resources/demo-text/austen-test.txt}
mkdir -p "$WORK"
[ -f "$WORK/$LIKE/config.json" ] || "$PTQ" make-checkpoint --like "$LIKE" --out "$WORK/$LIKE" --dtype bfloat16 --tokenizer "$TOK" >&2
# 16 prompts: lines of ~400 characters from the test text (varying lengths: left padding is exercised).
python3 - "$TEXT" "$WORK/prompts.txt" <<'PY'
import sys
words = open(sys.argv[1], encoding="utf-8").read().split()
out, i = [], 1000
for k in range(16):
    n = 50 + 5 * k
    out.append(" ".join(words[i:i + n])); i += n
open(sys.argv[2], "w", encoding="utf-8").write("\n".join(out) + "\n")
PY
for batch in ${BATCHES:-1 16}; do
  # batch 1: the first 4 prompts one at a time; batch 16: all 16 in one left-padded batch.
  n=$([ "$batch" = 1 ] && echo 4 || echo 16)
  head -n "$n" "$WORK/prompts.txt" > "$WORK/prompts-$batch.txt"
  ours=$("$PTQ" generate --model "$WORK/$LIKE" --prompts "$WORK/prompts-$batch.txt" --max-new-tokens "$NEW" --ignore-eos \
         --batch "$batch" --device cuda --dtype bfloat16 --residency resident --warmup --json)
  hf=$(python3 "$(dirname "$0")/hf_generate.py" --model "$WORK/$LIKE" --prompts "$WORK/prompts-$batch.txt" \
       --max-new-tokens "$NEW" --batch "$batch" --dtype bfloat16)
  python3 - "$ours" "$hf" "$batch" <<'PY'
import json, sys
ours, hf = json.loads(sys.argv[1]), json.loads(sys.argv[2])
t = ours["timing"]
print(json.dumps({"batch": int(sys.argv[3]), "ptq_tokens_per_second": t["fp"]["tokens_per_second"],
                  "hf_tokens_per_second": hf["tokens_per_second"],
                  "speedup": t["fp"]["tokens_per_second"] / hf["tokens_per_second"],
                  "ptq": t, "hf": hf}))
PY
done
