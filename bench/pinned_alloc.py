#!/usr/bin/env python3
# Usage: PYTORCH_CUDA_ALLOC_CONF=... python3 bench/pinned_alloc.py reg8|reg16|hostalloc|fault  (a label; "fault" = pageable)
# First pinned allocation of 2 GiB (32 x 64 MiB) under LibTorch's cudaHostRegister allocator, by the
# number of register threads; and plain page faulting of 2 GiB on one thread. One process per setting.
import os, sys, time, json, torch
torch.zeros(1, device="cuda"); torch.cuda.synchronize()
t0 = time.perf_counter()
if sys.argv[1] == "fault":
    b = [torch.empty(4 * 2048 * 4096, dtype=torch.bfloat16).fill_(0) for _ in range(32)]
else:
    b = [torch.empty(4 * 2048 * 4096, dtype=torch.bfloat16, pin_memory=True) for _ in range(32)]
print(json.dumps({"setting": sys.argv[1], "conf": os.environ.get("PYTORCH_CUDA_ALLOC_CONF"), "seconds_2GiB": round(time.perf_counter() - t0, 4)}))
