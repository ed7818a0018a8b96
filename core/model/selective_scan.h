#pragma once
// Mamba-1's selective scan (transformers' MambaMixer.slow_forward, steps 3.b-3.c) over a whole
// sequence, as a chunked scan in LibTorch ops instead of a per-token loop of small kernels:
//   h_t = exp(dt_t · A) ⊙ h_{t-1} + (dt_t · x_t) ⊗ B_t,   y_t = h_t · C_t,   h_0 = 0
// (per channel d and state n; dt ≥ 0 after softplus, A = -exp(A_log) < 0). Within a chunk of L
// steps the recurrence has a closed form in the cumulative sums s_t = Σ_{k≤t} dt_k·A of the log
// decays: h_t = exp(s_t)·h_start + Σ_{k≤t} exp(s_t − s_k)·(dt_k x_k) B_k. The masked segment sums
// s_t − s_k (k ≤ t; the entries k > t are set to −inf before exp) are ≤ 0, so no exp of a positive
// number is ever taken, and the cumulative sums restart at every chunk, so their rounding stays
// bounded by L steps. Between chunks the state h [B, D, N] is carried. Temporaries are
// O(B·D·N·L²) per chunk: memory is bounded by the chunk size, not the sequence length.
#include <ATen/ATen.h>

namespace ptq {

constexpr int64_t kDefaultScanChunk = 32;

// x, dt: [B, T, D]; A: [D, N]; Bm, C: [B, T, N]. Returns y [B, T, D] in float32 (every product and
// the state in float32, as transformers' slow path keeps its state); without the D·x skip term.
// `chunk` >= 1. If `last_state` is given it receives h_T [B, D, N]. `initial_state` [B, D, N]
// (float32) replaces h_0 = 0 (incremental decoding continues from the previous step's state).
at::Tensor selective_scan(const at::Tensor& x, const at::Tensor& dt, const at::Tensor& A, const at::Tensor& Bm,
                          const at::Tensor& C, int64_t chunk = kDefaultScanChunk, at::Tensor* last_state = nullptr,
                          const at::Tensor& initial_state = at::Tensor());

}  // namespace ptq
