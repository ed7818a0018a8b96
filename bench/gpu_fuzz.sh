#!/usr/bin/env bash
# Runs every libFuzzer harness (built here by scripts/fuzz, carried in .fuzzcarry/) at once on the GPU
# machine's CPU cores for FUZZ_SECONDS (default 540), WORKERS processes each (fork mode), and copies
# the logs and any reproducers to $OUT/fuzz/. FUZZ_ONLY=harness FUZZ_WORKERS=n runs that one harness
# alone on n processes (an hour of CPU in a few minutes of wall time).
set -u
S=${FUZZ_SECONDS:-540}
mkdir -p /tmp/fz && cp -r .fuzzcarry/* /tmp/fz/ && cd /tmp/fz || exit 1
declare -A workers=([fuzz_safetensors_header]=3 [fuzz_shard_index]=3 [fuzz_model_config]=4 [fuzz_tokenizer]=3 [fuzz_specs]=3)
if [ -n "${FUZZ_ONLY:-}" ]; then
  unset workers
  declare -A workers=([$FUZZ_ONLY]=${FUZZ_WORKERS:-$(nproc)})
fi
for h in "${!workers[@]}"; do
  mkdir -p work/$h findings/$h
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ./$h work/$h seeds/$h -fork=${workers[$h]} -max_total_time=$S -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix=findings/$h/ > $h.log 2>&1 < /dev/null &
done
wait
mkdir -p $OUT/fuzz
for h in "${!workers[@]}"; do
  echo "== $h (${workers[$h]} workers, ${S}s)"; grep -a -E '^#[0-9]+:' $h.log | tail -n 1; grep -a -E 'ERROR|SUMMARY|deadly|crash-' $h.log | head -n 3
  cp $h.log $OUT/fuzz/; cp findings/$h/* $OUT/fuzz/ 2>/dev/null
done
true
