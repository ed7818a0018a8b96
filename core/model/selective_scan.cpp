#include "core/model/selective_scan.h"

#include <limits>

#include "core/runtime/errors.h"

namespace ptq {

namespace {

struct Chunk {
  at::Tensor u;   // dt·x      [B, L, D]
  at::Tensor s;   // Σ dt·A    [B, D, N, L] (cumulative within the chunk, ≤ 0)
  at::Tensor Bt;  // B         [B, N, L]
  at::Tensor Ct;  // C         [B, N, L]
};

// y of the chunk [B, D, L] given the state h [B, D, N] at its start.
at::Tensor chunk_output(const Chunk& c, const at::Tensor& h) {
  const int64_t L = c.s.size(-1);
  // seg[b,d,n,t,k] = s_t − s_k, kept for k ≤ t; −inf above the diagonal so exp gives 0 there.
  at::Tensor seg = c.s.unsqueeze(-1) - c.s.unsqueeze(-2);
  at::Tensor upper = at::ones({L, L}, c.s.options().dtype(at::kBool)).triu(1);
  at::Tensor decay = at::exp(seg.masked_fill(upper, -std::numeric_limits<float>::infinity()));
  // W[b,d,t,k] = Σ_n C_t[n] · decay[b,d,n,t,k] · B_k[n]
  at::Tensor cb = c.Ct.unsqueeze(-1) * c.Bt.unsqueeze(-2);  // [B, N, t, k]
  at::Tensor W = (decay * cb.unsqueeze(1)).sum(2);           // [B, D, t, k]
  at::Tensor y = at::matmul(W, c.u.transpose(1, 2).unsqueeze(-1)).squeeze(-1);  // [B, D, t]
  // From the carried state: Σ_n C_t[n] · exp(s_t) · h[n]
  return y + (at::exp(c.s) * h.unsqueeze(-1) * c.Ct.unsqueeze(1)).sum(2);
}

// State at the end of the chunk: exp(s_L)·h + Σ_k exp(s_L − s_k)·u_k·B_k.
at::Tensor chunk_state(const Chunk& c, const at::Tensor& h) {
  at::Tensor s_last = c.s.narrow(-1, c.s.size(-1) - 1, 1);  // [B, D, N, 1]
  at::Tensor w = at::exp(s_last - c.s);                      // ≤ 1: s is non-increasing
  at::Tensor add = (w * c.Bt.unsqueeze(1) * c.u.transpose(1, 2).unsqueeze(2)).sum(-1);
  return at::exp(s_last.squeeze(-1)) * h + add;
}

}  // namespace

at::Tensor selective_scan(const at::Tensor& x, const at::Tensor& dt, const at::Tensor& A, const at::Tensor& Bm,
                          const at::Tensor& C, int64_t chunk, at::Tensor* last_state,
                          const at::Tensor& initial_state) {
  if (chunk < 1) throw Error("selective scan: chunk size must be >= 1, got " + std::to_string(chunk));
  if (x.dim() != 3 || dt.sizes() != x.sizes() || A.dim() != 2 || A.size(0) != x.size(2) || Bm.dim() != 3 ||
      C.sizes() != Bm.sizes() || Bm.size(0) != x.size(0) || Bm.size(1) != x.size(1) || Bm.size(2) != A.size(1))
    throw Error("selective scan: inconsistent shapes (x [B,T,D], dt [B,T,D], A [D,N], B and C [B,T,N])");
  const int64_t Bsz = x.size(0), T = x.size(1), D = x.size(2), N = A.size(1);
  const at::Tensor x32 = x.to(at::kFloat), dt32 = dt.to(at::kFloat), A32 = A.to(at::kFloat);
  const at::Tensor B32 = Bm.to(at::kFloat), C32 = C.to(at::kFloat);
  at::Tensor h = initial_state.defined() ? initial_state.to(at::kFloat) : at::zeros({Bsz, D, N}, x32.options());
  std::vector<at::Tensor> ys;
  for (int64_t t0 = 0; t0 < T; t0 += chunk) {
    const int64_t L = std::min(chunk, T - t0);
    Chunk c;
    at::Tensor dtc = dt32.narrow(1, t0, L);
    c.u = dtc * x32.narrow(1, t0, L);
    // dt·A [B, L, D, N] -> cumulative over the chunk's steps -> [B, D, N, L]
    c.s = (dtc.unsqueeze(-1) * A32).cumsum(1).permute({0, 2, 3, 1});
    c.Bt = B32.narrow(1, t0, L).transpose(1, 2);
    c.Ct = C32.narrow(1, t0, L).transpose(1, 2);
    ys.push_back(chunk_output(c, h));
    h = chunk_state(c, h);
  }
  if (last_state) *last_state = h;
  if (ys.empty()) return at::zeros({Bsz, 0, D}, x32.options());
  return at::cat(ys, -1).transpose(1, 2);
}

}  // namespace ptq
