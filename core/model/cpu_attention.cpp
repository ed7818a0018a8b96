#include "core/model/cpu_attention.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/runtime/env_switch.h"

// Vectors of 8 floats through GCC's vector extension (GCC and Clang): one AVX register in the AVX2
// clone, two SSE registers in the generic one. They never cross a function boundary that is not inlined.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace ptq {
namespace {

constexpr int64_t kRowTile = 64;  // query rows per work item: its scores, [64, T] floats, stay in L2
typedef float f8 __attribute__((vector_size(32)));
#define PTQ_ALWAYS_INLINE inline __attribute__((always_inline))

PTQ_ALWAYS_INLINE f8 load8(const float* p) {
  f8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
PTQ_ALWAYS_INLINE void store8(float* p, f8 v) { std::memcpy(p, &v, sizeof v); }

// The one product both halves of attention are made of: c[u·cs + m] = Σ_{t<inner} a[u·as + t]·b[t·bs + m]
// for R rows u and `width` columns m, summed over t in order, in a vector lane (16 columns at a time) or in
// the scalar tail alike. Scores: a = q rows, t = the head dimension, b = Kᵀ; values: a = probabilities,
// t = the key position, b = V.
template <int R>
PTQ_ALWAYS_INLINE void product_rows(const float* a, int64_t as, int64_t inner, const float* b, int64_t bs, int64_t width,
                                    float* c, int64_t cs) {
  int64_t m = 0;
  for (; m + 16 <= width; m += 16) {
    f8 c0[R] = {}, c1[R] = {};
    const float* bp = b + m;
    for (int64_t t = 0; t < inner; ++t, bp += bs) {
      const f8 b0 = load8(bp), b1 = load8(bp + 8);
#pragma GCC unroll 4
      for (int u = 0; u < R; ++u) {
        const float x = a[u * as + t];
        c0[u] += x * b0;
        c1[u] += x * b1;
      }
    }
#pragma GCC unroll 4
    for (int u = 0; u < R; ++u) {
      store8(c + u * cs + m, c0[u]);
      store8(c + u * cs + m + 8, c1[u]);
    }
  }
  for (; m < width; ++m)
    for (int u = 0; u < R; ++u) {
      float acc = 0.f;
      for (int64_t t = 0; t < inner; ++t) acc += a[u * as + t] * b[t * bs + m];
      c[u * cs + m] = acc;
    }
}

// One row tile: query rows r0 .. r0+rows-1 (global positions), in groups of 4 rows, each group reading
// the columns up to its last row (group_cols); s and p have row stride ss, the tile's width.
struct TileArgs {
  const float* q;   // row r0
  int64_t qs;       // query row stride
  const float* kt;  // [D, T]
  const float* v;   // row 0 of this KV head
  int64_t vs;       // value row stride
  float* o;         // output row r0
  int64_t os;       // output row stride
  int64_t T, D, r0, rows, ss;
};

// The columns a row group reads: up to its last row (the causal bound), rounded up to whole vectors of
// 16 where the sequence has them (the extra scores are masked, their probabilities are 0).
PTQ_ALWAYS_INLINE int64_t group_cols(int64_t end_row, int64_t T) { return std::min((end_row + 15) / 16 * 16, T); }

PTQ_ALWAYS_INLINE void scores_impl(const TileArgs& a, float* s) {
  int64_t r = 0;
  for (; r + 4 <= a.rows; r += 4)
    product_rows<4>(a.q + r * a.qs, a.qs, a.D, a.kt, a.T, group_cols(a.r0 + r + 4, a.T), s + r * a.ss, a.ss);
  for (; r < a.rows; ++r)
    product_rows<1>(a.q + r * a.qs, a.qs, a.D, a.kt, a.T, group_cols(a.r0 + r + 1, a.T), s + r * a.ss, a.ss);
}

PTQ_ALWAYS_INLINE void values_impl(const TileArgs& a, const float* p) {
  int64_t r = 0;
  for (; r + 4 <= a.rows; r += 4)
    product_rows<4>(p + r * a.ss, a.ss, group_cols(a.r0 + r + 4, a.T), a.v, a.vs, a.D, a.o + r * a.os, a.os);
  for (; r < a.rows; ++r)
    product_rows<1>(p + r * a.ss, a.ss, group_cols(a.r0 + r + 1, a.T), a.v, a.vs, a.D, a.o + r * a.os, a.os);
}

void scores_generic(const TileArgs& a, float* s) { scores_impl(a, s); }
void values_generic(const TileArgs& a, const float* p) { values_impl(a, p); }
#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2,fma"))) void scores_avx2(const TileArgs& a, float* s) { scores_impl(a, s); }
__attribute__((target("avx2,fma"))) void values_avx2(const TileArgs& a, const float* p) { values_impl(a, p); }
#endif

struct TileKernels {
  void (*scores)(const TileArgs&, float*);
  void (*values)(const TileArgs&, const float*);
};

TileKernels tile_kernels() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (avx2) return {scores_avx2, values_avx2};
#endif
  return {scores_generic, values_generic};
}

// The tile's scores scaled (and soft-capped) in place, -inf above the diagonal: the matmul path's
// `scores.mul_(scale)`, `tanh(scores / cap) * cap` and causal mask, element by element.
void scale_and_mask(float* s, const TileArgs& a, float scale, float cap) {
  const float neg_inf = -std::numeric_limits<float>::infinity();
  for (int64_t r = 0; r < a.rows; ++r) {
    float* row = s + r * a.ss;
    const int64_t last = a.r0 + r;
    for (int64_t j = 0; j <= last; ++j) {
      float x = row[j] * scale;
      if (cap > 0.f) x = std::tanh(x / cap) * cap;
      row[j] = x;
    }
    for (int64_t j = last + 1; j < a.ss; ++j) row[j] = neg_inf;
  }
}

}  // namespace

bool cpu_causal_attention_applies(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
  static const bool off = env_switch_set("PTQ_NO_CPU_ATTENTION");
  if (off || !q.defined() || !k.defined() || !v.defined() || !q.device().is_cpu() || !k.device().is_cpu() ||
      !v.device().is_cpu())
    return false;
  if (q.scalar_type() != at::kFloat || k.scalar_type() != at::kFloat || v.scalar_type() != at::kFloat) return false;
  if (q.requires_grad() || k.requires_grad() || v.requires_grad()) return false;
  if (q.dim() != 4 || k.dim() != 4 || v.dim() != 4 || !k.sizes().equals(v.sizes())) return false;
  const int64_t Hq = q.size(1), Hkv = k.size(1);
  return q.size(0) == k.size(0) && q.size(2) == k.size(2) && q.size(3) == k.size(3) && Hkv > 0 && Hq % Hkv == 0;
}

at::Tensor cpu_causal_attention(const at::Tensor& q_in, const at::Tensor& k, const at::Tensor& v_in, double scale,
                                double softcap) {
  const int64_t B = q_in.size(0), Hq = q_in.size(1), T = q_in.size(2), D = q_in.size(3), Hkv = k.size(1);
  const at::Tensor q = q_in.stride(3) == 1 ? q_in : q_in.contiguous();
  const at::Tensor v = v_in.stride(3) == 1 ? v_in : v_in.contiguous();
  const at::Tensor kt = k.transpose(2, 3).contiguous();  // [B, Hkv, D, T]
  at::Tensor out = at::empty({B, T, Hq, D}, q.options());
  const int64_t tiles = (T + kRowTile - 1) / kRowTile, rep = Hq / Hkv;
  const TileKernels kern = tile_kernels();
  const float fscale = static_cast<float>(scale), fcap = static_cast<float>(softcap);
  const float *qp = q.data_ptr<float>(), *ktp = kt.data_ptr<float>(), *vp = v.data_ptr<float>();
  float* op = out.data_ptr<float>();
  at::parallel_for(0, B * Hq * tiles, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> s(static_cast<size_t>(kRowTile * T)), p(s.size());
    for (int64_t item = begin; item < end; ++item) {
      const int64_t t = item % tiles, h = (item / tiles) % Hq, b = item / (tiles * Hq), g = h / rep;
      TileArgs a;
      a.r0 = t * kRowTile;
      a.rows = std::min(kRowTile, T - a.r0);
      a.ss = group_cols(a.r0 + a.rows, T);  // the tile's width: columns 0 .. its last row, padded
      a.T = T;
      a.D = D;
      a.qs = q.stride(2);
      a.q = qp + b * q.stride(0) + h * q.stride(1) + a.r0 * a.qs;
      a.kt = ktp + (b * Hkv + g) * D * T;
      a.vs = v.stride(2);
      a.v = vp + b * v.stride(0) + g * v.stride(1);
      a.os = Hq * D;
      a.o = op + ((b * T + a.r0) * Hq + h) * D;
      kern.scores(a, s.data());
      scale_and_mask(s.data(), a, fscale, fcap);
      at::Tensor st = at::from_blob(s.data(), {a.rows, a.ss}, q.options());
      at::Tensor pt = at::from_blob(p.data(), {a.rows, a.ss}, q.options());
      at::_softmax_out(pt, st, 1, false);
      kern.values(a, p.data());
    }
  });
  return out.transpose(1, 2);
}

}  // namespace ptq
