// quant/ on its own: INT/NF4/FP4/FP8 quantizers against hand-computed values, storage
// accounting, GPTQ (vs RTN) and Hadamard rotations.
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "core/runtime/errors.h"
#include "quant/methods/gptq/gptq.h"
#include "quant/methods/rotation/hadamard.h"
#include "quant/formats/quantizer.h"
#include "tests/check.h"

using namespace ptq;

static at::Tensor T(std::vector<float> v, int64_t rows) {
  const int64_t cols = static_cast<int64_t>(v.size()) / rows;
  return torch::tensor(v).view({rows, cols}).clone();
}
static bool same(const at::Tensor& a, const at::Tensor& b) {
  return a.sizes() == b.sizes() && at::equal(a.to(at::kFloat), b.to(at::kFloat));
}
static bool close(const at::Tensor& a, const at::Tensor& b, double tol) {
  return a.sizes() == b.sizes() &&
         (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>() <= tol;
}
static QuantSpec int_spec(int bits, int64_t group, bool sym = false) {
  QuantSpec s;
  s.bits = bits;
  s.group_size = group;
  s.symmetric = sym;
  return s;
}

// W used by the hand-worked INT examples (3 bits, maxq = 7).
static at::Tensor hand_w() { return T({-1.0f, 2.5f, 1.75f, 0.3f, 0.3f, 1.75f, -0.5f, 3.0f}, 2); }

TEST_CASE("int: hand-worked per-channel, grouped, clipped and symmetric codes") {
  // Per channel, asymmetric. Row 0: min -1, max 2.5 -> scale 3.5/7 = 0.5, zero round(2) = 2;
  // w/s = [-2, 5, 3.5, 0.6] -> round (half to even) [-2, 5, 4, 1] + 2 = [0, 7, 6, 3].
  // Row 1: min -0.5, max 3 -> scale 0.5, zero 1; w/s = [0.6, 3.5, -1, 6] -> [2, 5, 0, 7].
  auto q = quantize_weight(hand_w(), int_spec(3, -1));
  CHECK(same(q.scales, T({0.5f, 0.5f}, 2)));
  CHECK(same(q.zeros, T({2, 1}, 2)));
  CHECK(q.codes.scalar_type() == at::kByte);
  CHECK(same(q.codes, T({0, 7, 6, 3, 2, 5, 0, 7}, 2)));
  CHECK(same(q.dequantize(), T({-1.0f, 2.5f, 2.0f, 0.5f, 0.5f, 2.0f, -0.5f, 3.0f}, 2)));
  CHECK(same(fake_quantize(hand_w(), int_spec(3, -1)), q.dequantize()));

  // Group 2: row 0 groups [-1, 2.5] (scale .5, zero 2) and [1.75, 0.3] (min 0: scale .25,
  // zero 0); row 1 groups [0.3, 1.75] (scale .25, zero 0) and [-0.5, 3] (scale .5, zero 1).
  auto g = quantize_weight(hand_w(), int_spec(3, 2));
  CHECK(same(g.scales, T({0.5f, 0.25f, 0.25f, 0.5f}, 2)));
  CHECK(same(g.zeros, T({2, 0, 0, 1}, 2)));
  CHECK(same(g.codes, T({0, 7, 7, 1, 1, 7, 0, 7}, 2)));
  CHECK(same(g.dequantize(), T({-1.0f, 2.5f, 1.75f, 0.25f, 0.25f, 1.75f, -0.5f, 3.0f}, 2)));

  // Clip ratio 0.5: row 0 range [-0.5, 1.25] -> scale .25, zero 2; codes clamp at 0 and 7.
  // Row 1 range [-0.25, 1.5] -> scale .25, zero 1.
  QuantSpec c = int_spec(3, -1);
  c.clip_ratio = 0.5;
  auto cq = quantize_weight(hand_w(), c);
  CHECK(same(cq.scales, T({0.25f, 0.25f}, 2)));
  CHECK(same(cq.zeros, T({2, 1}, 2)));
  CHECK(same(cq.codes, T({0, 7, 7, 3, 2, 7, 0, 7}, 2)));
  CHECK(same(cq.dequantize(), T({-0.5f, 1.25f, 1.25f, 0.25f, 0.25f, 1.5f, -0.25f, 1.5f}, 2)));

  // Symmetric 3 bits: zero 4, scale 2·3.5/7 = 1. -3.5 -> round(-3.5) = -4 -> 0;
  // 3.5 -> 4 + 4 = 8 -> clamped to 7.
  auto ws = T({-3.5f, 0.7f, 1.2f, 0.0f, 0.3f, 1.0f, -2.0f, 3.5f}, 2);
  auto sq = quantize_weight(ws, int_spec(3, -1, true));
  CHECK(same(sq.scales, T({1, 1}, 2)));
  CHECK(same(sq.zeros, T({4, 4}, 2)));
  CHECK(same(sq.codes, T({0, 5, 5, 4, 4, 5, 2, 7}, 2)));
  CHECK(same(sq.dequantize(), T({-4, 1, 1, 0, 0, 1, -2, 3}, 2)));
  // Symmetric on an all-nonnegative row still uses ±max|w| (project convention).
  auto pq = quantize_weight(T({0.5f, 1.0f, 1.75f, 3.5f}, 1), int_spec(3, -1, true));
  CHECK(same(pq.scales, T({1}, 1)));
  // All-zero row: range [-1, 1] (gptq) -> 2 bits: scale 2/3, zero round(1.5) = 2; exact 0.
  auto zq = quantize_weight(at::zeros({1, 4}), int_spec(2, -1));
  CHECK(close(zq.scales, T({2.0f / 3}, 1), 1e-7));
  CHECK(same(zq.zeros, T({2}, 1)));
  CHECK(same(zq.dequantize(), at::zeros({1, 4})));
  // find_params on a slice: one group per row.
  auto p = find_params(hand_w(), int_spec(3, 2));
  CHECK(p.scale.sizes() == at::IntArrayRef({2, 1}) && same(p.scale, T({0.5f, 0.5f}, 2)));
  CHECK(same(quantize_codes(hand_w(), p, int_spec(3, 2)), q.codes));
  CHECK(same(dequantize_codes(q.codes, p, int_spec(3, 2)), q.dequantize()));
  // fake_quantize keeps dtype and shape; bf16 input.
  auto wb = hand_w().to(at::kBFloat16);
  auto fb = fake_quantize(wb, int_spec(3, 2));
  CHECK(fb.scalar_type() == at::kBFloat16 && fb.sizes() == wb.sizes());
}

TEST_CASE("codebooks: NF4, FP4, FP8 grids, error bounds and rounding") {
  for (WeightFormat f : {WeightFormat::NF4, WeightFormat::FP4, WeightFormat::FP8_E4M3,
                         WeightFormat::FP8_E5M2}) {
    const at::Tensor grid = format_grid(f);
    const int64_t n = grid.numel();
    QuantSpec s;
    s.format = f;
    s.group_size = -1;
    // Representable values round-trip exactly (scale 0.5 = absmax/max, a power of two).
    const at::Tensor w = (grid * 0.5).view({1, n});
    auto q = quantize_weight(w, s);
    CHECK(close(q.scales, T({0.5f}, 1), 0));
    CHECK(!q.zeros.defined());
    CHECK(same(q.codes.to(at::kLong), at::arange(n).view({1, n})));
    CHECK(same(q.dequantize(), w));
    // Random weights: error bounded by half the widest relative gap.
    torch::manual_seed(1);
    const at::Tensor r = torch::randn({8, 64});
    s.group_size = 16;
    auto rq = quantize_weight(r, s);
    const at::Tensor scale = rq.scales.repeat_interleave(16, 1);
    const at::Tensor err = (rq.dequantize() - r).abs();
    at::Tensor bound;
    if (f == WeightFormat::NF4) bound = scale * 0.1521;           // (1 - 0.6962) / 2
    else if (f == WeightFormat::FP4) bound = scale * 1.0;         // (6 - 4) / 2
    else if (f == WeightFormat::FP8_E4M3)
      bound = at::maximum(r.abs() / 16, scale * std::ldexp(1.0, -10));
    else bound = at::maximum(r.abs() / 8, scale * std::ldexp(1.0, -17));
    CHECK((err <= bound * (1 + 1e-6) + 1e-7).all().item<bool>());
    CHECK(same(fake_quantize(r, s), rq.dequantize()));
  }
  CHECK(format_grid(WeightFormat::NF4).numel() == 16);
  CHECK(format_grid(WeightFormat::FP4).numel() == 15);
  CHECK(format_grid(WeightFormat::FP8_E4M3).numel() == 253);
  CHECK(format_grid(WeightFormat::FP8_E5M2).numel() == 247);
  CHECK(close(format_grid(WeightFormat::FP4).slice(0, 7),
              torch::tensor({0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f}), 0));

  // FP8 rounding at scale 1: saturation, round-half-even, subnormals.
  QuantSpec e4;
  e4.format = WeightFormat::FP8_E4M3;
  QuantParams one{at::ones({1, 1}), at::Tensor()};
  const float t = std::ldexp(1.0f, -10);  // half the E4M3 subnormal step 2^-9
  at::Tensor codes, deq;
  quantize_dequantize(T({448, 500, -1e6f, 17, 19, t, 3 * t, 0.0f, -0.0f, 1.0f / 1024 / 64}, 1), one,
                      e4, &codes, &deq);
  CHECK(same(deq, T({448, 448, -448, 16, 20, 0, 4 * t, 0, 0, 0}, 1)));
  CHECK(same(codes.slice(1, 0, 3), T({252, 252, 0}, 1)));
  CHECK(codes[0][7].item<int>() == 126);
  CHECK(same(dequantize_codes(codes, one, e4), deq));
  QuantSpec e5 = e4;
  e5.format = WeightFormat::FP8_E5M2;
  const float u = std::ldexp(1.0f, -17);  // half the E5M2 subnormal step 2^-16
  quantize_dequantize(T({57344, 7e4f, 3 * u, 5 * u, 1.125f, 1.375f}, 1), one, e5, &codes, &deq);
  CHECK(same(deq, T({57344, 57344, 4 * u, 4 * u, 1.0f, 1.5f}, 1)));
  CHECK(codes[0][0].item<int>() == 246);
  QuantSpec f4 = e4;
  f4.format = WeightFormat::FP4;
  quantize_dequantize(T({5.0f, 5.1f, 0.25f, 0.3f, -2.5f, 7.0f}, 1), one, f4, &codes, &deq);
  CHECK(same(deq, T({4, 6, 0, 0.5f, -2, 6}, 1)));  // ties go to the even mantissa
  CHECK(same(codes, T({13, 14, 7, 8, 3, 14}, 1)));
}

TEST_CASE("storage bytes of packed codes, scales and zeros") {
  at::Tensor w = torch::randn({8, 256});
  CHECK(quantize_weight(w, int_spec(4, 128)).storage_bytes() == 1024 + 32 + 8);
  CHECK(quantize_weight(w, int_spec(4, 128, true)).storage_bytes() == 1024 + 32);
  CHECK(quantize_weight(w, int_spec(3, -1)).storage_bytes() == 768 + 16 + 3);
  CHECK(quantize_weight(w, int_spec(3, -1)).storage_bytes(4) == 768 + 32 + 3);
  QuantSpec f8;
  f8.format = WeightFormat::FP8_E4M3;
  f8.bits = 3;  // ignored: FP8 is 8 bits
  CHECK(quantize_weight(w, f8).storage_bytes() == 2048 + 32);
  QuantSpec nf;
  nf.format = WeightFormat::NF4;
  nf.group_size = 64;
  CHECK(quantize_weight(w, nf).storage_bytes() == 1024 + 64);
}

// ‖X Wᵀ − X Ŵᵀ‖_F
static double out_err(const at::Tensor& X, const at::Tensor& W, const at::Tensor& Wq) {
  return (X.matmul(W.t()) - X.matmul(Wq.t())).norm().item<double>();
}

TEST_CASE("gptq: RTN under H = cI, lower output error than RTN, dead columns, dtypes") {
  torch::manual_seed(0);
  // H = c·I: no error feedback, GPTQ must equal RTN exactly.
  const at::Tensor W = torch::randn({16, 64});
  const at::Tensor Hi = at::eye(64) * 3.0;
  for (QuantSpec s : {int_spec(4, 16), int_spec(3, -1), int_spec(4, 32, true)}) {
    for (bool act : {false, true}) {
      GptqOptions o;
      o.act_order = act;
      o.blocksize = 24;  // a block boundary inside groups
      auto r = gptq_quantize(W, Hi, s, o);
      // CPU: every block (64 columns in blocks of 24: 3) ran the eager loop.
      CHECK(r.column_loop.path() == "eager" && r.column_loop.eager_blocks == 3 && r.column_loop.graph_blocks == 0);
      CHECK(same(r.weight, fake_quantize(W, s)));
      CHECK(same(r.q.dequantize(), r.weight));
      CHECK(r.dead_columns == 0);
    }
  }
  QuantSpec nf;
  nf.format = WeightFormat::NF4;
  nf.group_size = 16;
  CHECK(same(gptq_quantize(W, Hi, nf, GptqOptions()).weight, fake_quantize(W, nf)));

  // Correlated calibration inputs; H accumulated in 4 chunks of 128 tokens (4 samples).
  const int64_t in = 128, out = 32;
  const at::Tensor A = at::eye(in) + torch::randn({in, in}) * (0.6 / std::sqrt(in));
  const at::Tensor X = torch::randn({512, in}).matmul(A) * (torch::rand({in}) * 2 + 0.2);
  const at::Tensor Wr = torch::randn({out, in});
  HessianAccumulator acc(in, at::kCPU);
  for (int k = 0; k < 4; ++k) acc.add(X.slice(0, 128 * k, 128 * (k + 1)));
  CHECK(acc.samples() == 4);
  const double hmax = acc.H().abs().max().item<double>();
  CHECK(close(acc.H(), X.t().matmul(X) * (2.0 / 4), 1e-5 * hmax));
  HessianAccumulator acc3(in, at::kCPU);
  acc3.add(X.view({4, 128, in}));
  CHECK(acc3.samples() == 4 && close(acc3.H(), acc.H(), 1e-5 * hmax));

  struct Case { int64_t group; bool act, stat; };
  for (Case c : {Case{16, false, false}, Case{-1, false, false}, Case{16, true, false},
                 Case{-1, true, false}, Case{16, true, true}, Case{32, false, true}}) {
    QuantSpec s = int_spec(3, c.group);
    GptqOptions o;
    o.act_order = c.act;
    o.static_groups = c.stat;
    o.blocksize = 32;
    auto r = gptq_quantize(Wr, acc.H(), s, o);
    const double eg = out_err(X, Wr, r.weight), er = out_err(X, Wr, fake_quantize(Wr, s));
    std::printf("gptq 3-bit group %lld act_order %d static %d: error %.3f vs RTN %.3f\n",
                (long long)c.group, c.act, c.stat, eg, er);
    CHECK(eg < er);
    CHECK(same(r.q.dequantize(), r.weight));
    CHECK(r.q.g_idx.defined() == (c.act && !c.stat && c.group > 0));
    CHECK(r.loss > 0);
  }
  // Other element formats go through the same path.
  QuantSpec f8;
  f8.format = WeightFormat::FP4;
  f8.group_size = 32;
  auto rf = gptq_quantize(Wr, acc.H(), f8, GptqOptions());
  CHECK(same(rf.q.dequantize(), rf.weight));
  CHECK(out_err(X, Wr, rf.weight) < out_err(X, Wr, fake_quantize(Wr, f8)));

  // Dead column: zero input feature -> H[i,i] = 0 -> weight column zeroed.
  at::Tensor Xd = X.clone();
  Xd.select(1, 5).zero_();
  auto rd = gptq_quantize(Wr, Xd.t().matmul(Xd), int_spec(4, 32), GptqOptions());
  CHECK(rd.dead_columns == 1);
  CHECK(same(rd.weight.select(1, 5), at::zeros({out})));
  // Input dtype preserved.
  auto rb = gptq_quantize(Wr.to(at::kBFloat16), acc.H(), int_spec(4, 32), GptqOptions());
  CHECK(rb.weight.scalar_type() == at::kBFloat16);
  CHECK(same(rb.q.dequantize().to(at::kBFloat16), rb.weight));
}

// gptq.py's Hinv in float32: cholesky -> cholesky_inverse -> cholesky(upper).
static at::Tensor gptq_py_hinv(const at::Tensor& H) {
  return at::linalg_cholesky(at::cholesky_inverse(at::linalg_cholesky(H)), /*upper=*/true);
}

// Hessians shaped like an LLM layer's: correlated inputs whose channel scales span 10^4 (outlier
// channels), damped as GPTQ does (1% of the mean diagonal), at float32.
TEST_CASE("gptq: Hinv's upper factor from one Cholesky, against float64 and gptq.py's chain") {
  torch::manual_seed(7);
  for (const int64_t n : {256, 768, 1536}) {
    const at::Tensor A = at::eye(n, at::kDouble) + torch::randn({n, n}, at::kDouble) * (0.5 / std::sqrt(double(n)));
    const at::Tensor scale = at::pow(10.0, torch::rand({n}, at::kDouble) * 4 - 2);
    const at::Tensor X = torch::randn({2 * n, n}, at::kDouble).matmul(A) * scale;
    at::Tensor H = X.t().matmul(X) * (2.0 / double(2 * n));
    H += at::eye(n, at::kDouble) * (0.01 * H.diagonal().mean().item<double>());
    const at::Tensor H32 = H.to(at::kFloat);
    const at::Tensor exact = at::linalg_cholesky(at::inverse(H32.to(at::kDouble)), /*upper=*/true);
    const at::Tensor U = hinv_upper(H32, 0.01), chain = gptq_py_hinv(H32);
    CHECK(U.scalar_type() == at::kFloat && U.sizes() == H32.sizes());
    CHECK(at::equal(U, U.triu()));
    CHECK(U.diagonal().min().item<float>() > 0);
    // Frobenius norm of the error against U's: the column loop's updates are products with U's rows.
    auto err = [&](const at::Tensor& u) { return (u.to(at::kDouble) - exact).norm().item<double>() / exact.norm().item<double>(); };
    const double e = err(U), e_chain = err(chain);
    std::printf("      n %lld: |U - U64| / |U64|: one Cholesky %.3g, gptq.py's chain %.3g\n", (long long)n, e, e_chain);
    // Three float32 factorizations against one: no larger than the chain's error (and both at float32's level).
    CHECK_MSG(e <= e_chain, std::to_string(e) + " vs " + std::to_string(e_chain));
  }
}

TEST_CASE("hadamard: orthogonal matrices, fast transform, random Hadamard") {
  for (int64_t n : {1, 4, 12, 20, 28, 64, 96, 24, 40, 56, 36, 52, 60, 108 * 2, 172, 148, 44}) {
    CHECK(hadamard_supported(n));
    const at::Tensor H = hadamard_matrix(n, at::kDouble);
    CHECK(close(H.matmul(H.t()), at::eye(n, at::kDouble), 1e-12));
    CHECK(close(H.abs(), at::full({n, n}, 1.0 / std::sqrt(n), at::kDouble), 1e-15));
    const at::Tensor x = torch::randn({3, 5, n}, at::kDouble);
    CHECK(close(fast_hadamard_transform(x), x.matmul(H), 1e-10));
    const at::Tensor xf = x.to(at::kFloat);
    const at::Tensor yf = fast_hadamard_transform(xf);
    CHECK(yf.scalar_type() == at::kFloat && close(yf, xf.matmul(H.to(at::kFloat)), 1e-4));
  }
  // Sylvester order for powers of two (QuaRot / fast-hadamard-transform convention).
  CHECK(close(hadamard_matrix(4) * 2,
              T({1, 1, 1, 1, 1, -1, 1, -1, 1, 1, -1, -1, 1, -1, -1, 1}, 4), 1e-7));
  // No construction: not a multiple of 4 beyond a power of two, or 92 = 4·23 and 184 = 8·23
  // (91, 183 are not prime, 45, 91 are not prime: neither Paley construction applies).
  for (int64_t n : {0, 3, 6, 46, 92, 184}) CHECK(!hadamard_supported(n) && hadamard_base_order(n) == 0);
  CHECK_THROWS_WITH(hadamard_matrix(92), "Hadamard size 92 = 23·2^2 is not supported");
  CHECK_THROWS_WITH(fast_hadamard_transform(torch::randn({2, 46})), "not supported");
  const at::Tensor bx = torch::randn({4, 64}).to(at::kBFloat16);
  CHECK(fast_hadamard_transform(bx).scalar_type() == at::kBFloat16);

  const at::Tensor R = random_hadamard(64, 7);
  CHECK(close(R.matmul(R.t()), at::eye(64), 1e-5));
  CHECK(same(R, random_hadamard(64, 7)) && !same(R, random_hadamard(64, 8)));
  // H·diag(s): columns of the plain matrix up to sign.
  CHECK(close(R.abs(), hadamard_matrix(64).abs(), 1e-7));
  const at::Tensor Rf = random_hadamard(10, 3);  // unsupported size: random orthogonal
  CHECK(close(Rf.matmul(Rf.t()), at::eye(10), 1e-5) && same(Rf, random_hadamard(10, 3)));
}

// A row of ±1 written as '+' / '-'.
static at::Tensor signs(const std::string& s) {
  std::vector<double> v;
  for (char c : s) v.push_back(c == '+' ? 1.0 : -1.0);
  return torch::tensor(v, at::kDouble);
}

// QuaRot's get_hadK(n) (fake_quant/hadamard_utils.py), transcribed: the first K in this order
// with n % K == 0 must leave a power of two (else QuaRot asserts: returns -1); a power of two is K = 1.
static int64_t quarot_get_hadK(int64_t n) {
  auto pow2 = [](int64_t v) { return v > 0 && (v & (v - 1)) == 0; };
  for (int64_t K : {172, 156, 140, 108, 60, 52, 36, 28, 40, 20, 12})
    if (n % K == 0) return pow2(n / K) ? K : -1;
  return pow2(n) ? 1 : -1;
}

TEST_CASE("hadamard bases: QuaRot's tables and Paley constructions, QuaRot's size search") {
  // Every base, QuaRot's tables and Paley I / II: ±1 entries and B·Bᵀ = K·I exactly (integer sums
  // of at most 172 terms are exact in float64).
  for (int64_t K : {12, 20, 28, 36, 40, 52, 60, 108, 140, 156, 172, 44, 68, 76, 124, 148}) {
    const at::Tensor B = hadamard_base_matrix(K);
    CHECK(B.sizes() == at::IntArrayRef({K, K}) && B.abs().eq(1).all().item<bool>());
    CHECK(at::equal(B.matmul(B.t()), at::eye(K, at::kDouble) * double(K)));
  }
  for (int64_t K : {12, 20, 28, 36, 40, 52, 60, 108, 140, 156, 172})
    CHECK(hadamard_base_source(K) == "quarot get_had" + std::to_string(K));
  CHECK(hadamard_base_source(44) == "paley I q=43" && hadamard_base_source(148) == "paley II q=73");
  CHECK(hadamard_base_source(1) == "sylvester");
  // The tables are QuaRot's text (rows copied by hand from hadamard_utils.py).
  CHECK(same(hadamard_base_matrix(12)[0], signs("+-----------")));
  CHECK(same(hadamard_base_matrix(12)[1], signs("++-+---+++-+")));
  CHECK(same(hadamard_base_matrix(20)[1], signs("++-++----+-+-++++--+")));
  CHECK(same(hadamard_base_matrix(172)[0].slice(0, 0, 28), signs("+---++--++++-+-+++-++--++-++")));
  CHECK(same(hadamard_base_matrix(172)[171].slice(0, 152), signs("+-+++-+-++++--++---+")));
  // QuaRot's matmul_hadU convention: for n = K it computes hadK @ x per row, so the transform of
  // the identity is hadKᵀ / √K.
  for (int64_t K : {12, 172})
    CHECK(close(fast_hadamard_transform(at::eye(K, at::kDouble)) * std::sqrt(double(K)), hadamard_base_matrix(K).t(),
                 1e-12));
  // The K·2^m search picks what QuaRot picks wherever QuaRot has an answer; elsewhere a Paley base.
  int64_t agreed = 0;
  for (int64_t n = 1; n <= (int64_t(1) << 15); ++n) {
    const int64_t q = quarot_get_hadK(n);
    if (q < 0) continue;
    CHECK(hadamard_base_order(n) == q);
    ++agreed;
  }
  std::printf("hadamard: base order equals QuaRot's get_hadK for all %lld sizes <= 32768 it supports\n",
              (long long)agreed);
  CHECK(hadamard_base_order(11008) == 172 && hadamard_base_order(13824) == 108);  // LLaMA-2-7B / 13B MLP
  CHECK(hadamard_base_order(14336) == 28 && hadamard_base_order(17920) == 140);   // LLaMA-3-8B, LLaMA-1-30B
  CHECK(quarot_get_hadK(18944) == -1 && hadamard_base_order(18944) == 148);      // Qwen2-7B: Paley II
}

// The online Hadamard at LLaMA-2-7B's intermediate size 11008 = 172·64: rows of H (the transform of
// basis vectors) are orthonormal with entries ±1/√n, and a fake down_proj [16, 11008] rotated as
// rotation.cpp does (W·H, online x·H) computes the same output.
TEST_CASE("hadamard at LLaMA-2-7B's MLP size 11008: orthonormal rows, output preserved") {
  const int64_t n = 11008;
  std::vector<int64_t> pick;
  for (int64_t i = 0; i < n; i += 43) pick.push_back(i);  // 256 rows across all 172 blocks of 64
  pick.push_back(n - 1);
  const at::Tensor idx = torch::tensor(pick, at::kLong);
  const int64_t r = idx.size(0);
  const at::Tensor basis = at::zeros({r, n}, at::kDouble).scatter_(1, idx.unsqueeze(1), 1.0);
  const at::Tensor rows = fast_hadamard_transform(basis);
  CHECK(close(rows.matmul(rows.t()), at::eye(r, at::kDouble), 1e-12));
  CHECK(close(rows.abs(), at::full({r, n}, 1.0 / std::sqrt(double(n)), at::kDouble), 1e-15));
  const at::Tensor x = torch::randn({2, 8, n}, at::kDouble), W = torch::randn({16, n}, at::kDouble) * 0.02;
  const at::Tensor y = x.matmul(W.t());
  const at::Tensor y_rot = fast_hadamard_transform(x).matmul(fast_hadamard_transform(W).t());
  // float64: sums of 11008 products of O(1)·O(0.02) terms; 1e-12 relative leaves ~1e4 ulps.
  CHECK(close(y_rot, y, 1e-12 * y.abs().max().item<double>()));
  CHECK(!close(fast_hadamard_transform(x), x, 1e-3));  // it did rotate
  // float32 path (the compute dtype of a float32 model): relative 1e-5 of the output scale.
  const at::Tensor y32 = fast_hadamard_transform(x.to(at::kFloat)).matmul(fast_hadamard_transform(W.to(at::kFloat)).t());
  CHECK(close(y32, y, 1e-5 * y.abs().max().item<double>()));
}

TEST_CASE("bad specs and inputs are named errors") {
  QuantSpec s = int_spec(9, 128);
  CHECK_THROWS_WITH(s.validate(256), "bits must be in 2..8, got 9");
  CHECK_THROWS_WITH(int_spec(1, -1).validate(8), "bits must be in 2..8, got 1");
  CHECK_THROWS_WITH(int_spec(4, 3).validate(8), "group_size 3 does not divide in_features 8");
  CHECK_THROWS_WITH(quantize_weight(torch::randn({2, 8}), int_spec(4, 3)), "does not divide");
  CHECK_THROWS_WITH(int_spec(4, 0).validate(8), "group_size must be -1");
  QuantSpec c = int_spec(4, -1);
  c.clip_ratio = 0.0;
  CHECK_THROWS_WITH(c.validate(8), "clip_ratio must be in (0, 1]");
  CHECK_THROWS_WITH(parse_format("int3"), "allowed: int, nf4, fp4, fp8_e4m3, fp8_e5m2");
  CHECK(parse_format("fp8_e4m3") == WeightFormat::FP8_E4M3);
  CHECK(parse_format("NF4") == WeightFormat::NF4);
  for (WeightFormat f : {WeightFormat::Int, WeightFormat::NF4, WeightFormat::FP4,
                         WeightFormat::FP8_E4M3, WeightFormat::FP8_E5M2})
    CHECK(parse_format(format_name(f)) == f);
  QuantSpec nf;
  nf.format = WeightFormat::NF4;
  nf.bits = 9;  // ignored for codebook formats
  nf.validate(128);
  CHECK(nf.element_bits() == 4);
  CHECK_THROWS_WITH(gptq_quantize(torch::randn({4, 8}), at::eye(6), int_spec(4, -1), GptqOptions()),
               "Hessian must be [8, 8]");
  CHECK_THROWS_WITH(gptq_quantize(torch::randn({4, 8}), -at::eye(8), int_spec(4, -1), GptqOptions()),
               "not positive definite");
  HessianAccumulator acc(8, at::kCPU);
  CHECK_THROWS_WITH(acc.add(torch::randn({3, 7})), "expected 8");
}

TEST_MAIN()
