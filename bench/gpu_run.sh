#!/usr/bin/env bash
# Everything for one GPU-machine session in one command: CUDA build (no Qt), the `gpu` tests, the benchmarks.
# Expects .carry/ with include/nlohmann, shared/parity and llama2.tokenizer.json. Writes logs to $OUT.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
prefix=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
{ cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DPTQ_BUILD_GUI=OFF -DCMAKE_PREFIX_PATH="$prefix" \
    -DPTQ_SHARED_DIR="$PWD/.carry/shared" && cmake --build build-gpu -j 16 --target ptq test_gpu; } >"$OUT/build.log" 2>&1
rc=$?
tail -30 "$OUT/build.log"
[ $rc -eq 0 ] || exit $rc
(cd build-gpu && ctest -L gpu --output-on-failure) 2>&1 | tee "$OUT/gpu-tests.log" | tail -20
for b in ${BENCH:-ppl_vs_hf}; do
  bash "bench/$b.sh" build-gpu/app/ptq .carry/llama2.tokenizer.json 2>&1 | tee "$OUT/$b.json"
done
