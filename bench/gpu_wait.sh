#!/usr/bin/env bash
# GPU-machine session, part 3: optional gpu test filter ($1), then waits up to $2 seconds for the
# background fuzz run (part 1) and copies its logs and any findings to $OUT.
set -u
if [ -n "${1:-}" ]; then /tmp/build-gpu/tests/test_gpu --shared "$PWD/.carry/shared" "$1" 2>&1 | tee $OUT/gpu-case.log | tail -n 5; fi
end=$(( $(date +%s) + ${2:-0} ))
while pgrep -f 'fuzz_.*-fork=3' >/dev/null && [ "$(date +%s)" -lt "$end" ]; do sleep 10; done
for f in /tmp/fuzz/*.log; do echo "== $f"; grep -a -E 'INFO: fuzzed|Done|crash: [1-9]|ERROR|SUMMARY' $f | tail -n 3; tail -n 1 $f; done
pgrep -f 'fuzz_.*-fork=3' >/dev/null && echo "fuzzers still running" || { mkdir -p $OUT/fuzz; cp /tmp/fuzz/*.log $OUT/fuzz/ 2>/dev/null; ls -la /tmp/fuzz/findings/*; }
