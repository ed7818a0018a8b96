// The tiled float32 CPU attention (core/model/cpu_attention.h) against the matmul path it replaces,
// both measured against a float64 reference, over a table of shapes: grouped and plain heads,
// sequences shorter than a vector, not a multiple of 16 or of the 64-row tile, head sizes with a
// scalar tail, Gemma 2's soft-capping. Then the property the header states: a row's result does not
// depend on the batch it runs in or on the thread count.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

#include "core/model/cpu_attention.h"
#include "tests/check.h"

using namespace ptq;

namespace {

struct AttentionShape {
  const char* name;
  int64_t B, Hq, Hkv, T, D;
  double softcap;
};

const std::vector<AttentionShape>& attention_shapes() {
  static const std::vector<AttentionShape> rows = {
      {"grouped heads, T 40 (parity fixtures)", 2, 4, 2, 40, 16, 0.0},
      {"austen-small shape, T 512", 1, 6, 2, 512, 64, 0.0},
      {"plain heads, T 7 (shorter than a vector)", 2, 4, 4, 7, 32, 0.0},
      {"T 133 (no whole tile of 64 at the end), D 80 (scalar tail)", 1, 8, 2, 133, 80, 0.0},
      {"one token", 3, 2, 1, 1, 64, 0.0},
      {"soft-capped at 50 (Gemma 2)", 2, 4, 2, 70, 16, 50.0},
  };
  return rows;
}

// softmax(q·kᵀ·scale [capped] + causal)·v with repeat_kv, in q's dtype: the matmul path's operations.
at::Tensor matmul_attention(const at::Tensor& q, at::Tensor k, at::Tensor v, double scale, double cap) {
  const int64_t B = q.size(0), Hq = q.size(1), T = q.size(2), D = q.size(3), Hkv = k.size(1);
  k = k.unsqueeze(2).expand({B, Hkv, Hq / Hkv, T, D}).reshape({B, Hq, T, D});
  v = v.unsqueeze(2).expand({B, Hkv, Hq / Hkv, T, D}).reshape({B, Hq, T, D});
  at::Tensor s = at::matmul(q, k.transpose(-1, -2)) * scale;
  if (cap > 0) s = at::tanh(s / cap) * cap;
  s = s + at::full({T, T}, -std::numeric_limits<double>::infinity(), s.options()).triu(1);
  return at::matmul(at::softmax(s, -1), v);
}

// q, k, v as the decoder block hands them over: transposed views of [B, T, H, D] projections.
std::vector<at::Tensor> operands(const AttentionShape& c) {
  at::manual_seed(7);
  return {at::randn({c.B, c.T, c.Hq, c.D}).transpose(1, 2), at::randn({c.B, c.T, c.Hkv, c.D}).transpose(1, 2),
          at::randn({c.B, c.T, c.Hkv, c.D}).transpose(1, 2)};
}

double max_abs_diff(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

}  // namespace

TEST_CASE("cpu attention: as accurate as the matmul path, for every shape of the table") {
  at::NoGradGuard ng;
  for (const auto& c : attention_shapes()) {
    const auto x = operands(c);
    const double scale = 1.0 / std::sqrt(double(c.D));
    CHECK_MSG(cpu_causal_attention_applies(x[0], x[1], x[2]), c.name);
    const at::Tensor exact =
        matmul_attention(x[0].to(at::kDouble), x[1].to(at::kDouble), x[2].to(at::kDouble), scale, c.softcap);
    const at::Tensor tiled = cpu_causal_attention(x[0], x[1], x[2], scale, c.softcap);
    CHECK(tiled.sizes().equals(exact.sizes()));
    const double e_tiled = max_abs_diff(tiled, exact);
    const double e_matmul = max_abs_diff(matmul_attention(x[0], x[1], x[2], scale, c.softcap), exact);
    std::printf("      %s: max |error| tiled %.3g, matmul %.3g\n", c.name, e_tiled, e_matmul);
    // Both round the same float32 products and sums, in other orders: the tiled kernel's error may differ
    // from the matmul path's by the spread of orderings (a factor of 2), never grow beyond it. The floor,
    // 4 float32 ulps of the outputs' scale (|o| <= max |v|), covers shapes where the matmul path is exact.
    const double ulp = std::ldexp(x[2].abs().max().item<double>(), -23);
    CHECK_MSG(e_tiled <= 2 * e_matmul + 4 * ulp, std::string(c.name) + ": error " + std::to_string(e_tiled));
  }
}

TEST_CASE("cpu attention: a row's result does not depend on its batch or on the thread count") {
  at::NoGradGuard ng;
  const AttentionShape c{"", 3, 6, 2, 150, 64, 0.0};
  const auto x = operands(c);
  const at::Tensor all = cpu_causal_attention(x[0], x[1], x[2], 0.125, 0.0);
  for (int64_t b = 0; b < c.B; ++b) {
    const at::Tensor one = cpu_causal_attention(x[0].narrow(0, b, 1), x[1].narrow(0, b, 1), x[2].narrow(0, b, 1), 0.125, 0.0);
    CHECK_MSG(at::equal(one, all.narrow(0, b, 1)), "batch element " + std::to_string(b));
  }
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const at::Tensor serial = cpu_causal_attention(x[0], x[1], x[2], 0.125, 0.0);
  at::set_num_threads(threads);
  CHECK(at::equal(serial, all));
}

TEST_CASE("cpu attention: takes only what it computes") {
  at::NoGradGuard ng;
  const auto x = operands({"", 1, 4, 2, 9, 16, 0.0});
  CHECK(cpu_causal_attention_applies(x[0], x[1], x[2]));
  CHECK(!cpu_causal_attention_applies(x[0].to(at::kDouble), x[1], x[2]));                       // float32 only
  CHECK(!cpu_causal_attention_applies(x[0].to(at::kBFloat16), x[1].to(at::kBFloat16), x[2].to(at::kBFloat16)));
  CHECK(!cpu_causal_attention_applies(x[0], x[1].narrow(2, 0, 5), x[2].narrow(2, 0, 5)));      // a KV cache: T != S
  CHECK(!cpu_causal_attention_applies(x[0].narrow(1, 0, 3), x[1], x[2]));                       // 3 heads over 2 KV heads
  at::Tensor g = x[0].clone().requires_grad_(true);                                             // OmniQuant trains through it
  CHECK(!cpu_causal_attention_applies(g, x[1], x[2]));
}
