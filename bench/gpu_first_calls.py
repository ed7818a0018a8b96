#!/usr/bin/env python3
# Usage: python3 bench/gpu_first_calls.py   (prints one JSON line of seconds)
# One-off costs of the first CUDA calls a 7B GPTQ block makes, against the second call.
import os, time, json, torch
os.environ.setdefault("PYTORCH_CUDA_ALLOC_CONF", "pinned_use_cuda_host_register:True,pinned_num_register_threads:8")
def t(f):
    torch.cuda.synchronize(); t0 = time.perf_counter(); r = f(); torch.cuda.synchronize(); return time.perf_counter() - t0, r
res = {}
res["init"], _ = t(lambda: torch.zeros(1, device="cuda"))
x = torch.randn(8192, 4096, device="cuda", dtype=torch.bfloat16)
w = torch.randn(4096, 4096, device="cuda", dtype=torch.bfloat16)
res["gemm_first"], _ = t(lambda: x @ w.T); res["gemm_second"], _ = t(lambda: x @ w.T)
q = torch.randn(4, 32, 2048, 128, device="cuda", dtype=torch.bfloat16)
sd = lambda: torch.nn.functional.scaled_dot_product_attention(q, q, q, is_causal=True)
res["sdpa_first"], _ = t(sd); res["sdpa_second"], _ = t(sd)
torch.backends.cuda.matmul.allow_tf32 = True
xf = x.float()
res["hess_tf32_first"], _ = t(lambda: xf.T @ xf); res["hess_tf32_second"], _ = t(lambda: xf.T @ xf)
for n in (4096, 11008):
    a = torch.randn(n, n, device="cuda"); H = a @ a.T / n + torch.eye(n, device="cuda")
    res[f"chol{n}_first"], L = t(lambda: torch.linalg.cholesky(H)); res[f"chol{n}_second"], L = t(lambda: torch.linalg.cholesky(H))
    res[f"cholinv{n}"], Hi = t(lambda: torch.cholesky_inverse(L)); res[f"cholinv{n}_second"], Hi = t(lambda: torch.cholesky_inverse(L))
    res[f"chol_upper{n}"], U = t(lambda: torch.linalg.cholesky(Hi, upper=True))
    Hf = H.flip(0, 1)
    res[f"chol_flip_trtri{n}"], R = t(lambda: torch.linalg.solve_triangular(torch.linalg.cholesky(Hf).flip(0, 1), torch.eye(n, device="cuda"), upper=True))
    res[f"flip_vs_ref_maxrel{n}"] = ((R - U).abs().max() / U.abs().max()).item()
def pin(k):
    return [torch.empty(4 * 2048 * 4096, dtype=torch.bfloat16, pin_memory=True) for _ in range(k)]
res["pinned_2GiB_first"], bufs = t(lambda: pin(32)); del bufs
res["pinned_2GiB_cached"], bufs = t(lambda: pin(32)); del bufs
d = torch.empty(4 * 2048 * 4096, dtype=torch.bfloat16, device="cuda"); h = torch.empty(4 * 2048 * 4096, dtype=torch.bfloat16, pin_memory=True)
res["d2h_64MiB"], _ = t(lambda: h.copy_(d, non_blocking=True)); res["h2d_64MiB"], _ = t(lambda: d.copy_(h, non_blocking=True))
print(json.dumps({k: round(v, 5) if isinstance(v, float) else v for k, v in res.items()}))
