#!/usr/bin/env bash
# GPU-machine session, part 2: rebuilds ptq + test_gpu (build from part 1 in /tmp/build-gpu), runs the
# gpu-labelled tests with their log in $OUT, and reports the background fuzz run's progress.
set -u
cmake --build /tmp/build-gpu -j 12 --target ptq test_gpu > $OUT/build.log 2>&1; echo build rc $?
grep -a -A5 'error:' $OUT/build.log | head -30
(cd /tmp/build-gpu && ctest -L gpu --output-on-failure) > $OUT/gpu-tests.log 2>&1; echo ctest rc $?
tail -n 40 $OUT/gpu-tests.log
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'
for f in /tmp/fuzz/*.log; do echo "== $f"; tail -n 2 $f; done
