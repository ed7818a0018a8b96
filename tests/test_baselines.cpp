// The calibration-free and salience baselines: HQQ (mobiusml/hqq) and OWQ (xvyaward/owq), their
// solvers, their exact storage, and on austen-small against RTN / GPTQ.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cmath>
#include <limits>

#include "core/model/model.h"
#include "core/records/json_util.h"
#include "core/runtime/errors.h"
#include "core/text/tokenizer.h"
#include "eval/metrics/perplexity.h"
#include "quant/methods/hqq/hqq.h"
#include "quant/methods/owq/owq.h"
#include "quant/pipeline/calibration.h"
#include "quant/pipeline/pipeline.h"
#include "quant/pipeline/reference_samplers.h"
#include "tests/check.h"
#include "tests/fixture_paths.h"

using namespace ptq;

namespace {

QuantSpec int_spec(int bits, int64_t group) {
  QuantSpec s;
  s.bits = bits;
  s.group_size = group;
  return s;
}

// HQQ's loop for one group, in double precision, written from optimize.py (independent of the
// tensor code): returns the zero after the solver and the number of iterations. Without
// early_stop it runs o.iters iterations (the stop is on the whole tensor's error, not a group's).
double hqq_zero_by_hand(const std::vector<double>& x, int bits, bool round_zero, const HqqOptions& o, int64_t* iters,
                        bool early_stop = true) {
  const double max_v = std::pow(2.0, bits) - 1;
  double mn = x[0], mx = x[0];
  for (double v : x) mn = std::min(mn, v), mx = std::max(mx, v);
  const double s = std::min(std::fabs(mx - mn) <= 1e-4 ? 1.0 : max_v / (mx - mn), 2e4);
  double z = -mn * s, beta = o.beta, best = std::numeric_limits<double>::infinity();
  if (round_zero) z = std::nearbyint(z);
  *iters = 0;
  for (int64_t it = 0; it < o.iters; ++it) {
    ++*iters;
    double err = 0, znew = 0;
    for (double v : x) {
      const double q = std::min(std::max(std::nearbyint(v * s + z), 0.0), max_v);
      const double r = (q - z) / s, e = v - r, a = std::fabs(e);
      const double shr = std::max(a - std::pow(a, o.lp_norm - 1) / beta, 0.0) * (e > 0 ? 1 : e < 0 ? -1 : 0);
      znew += q - (v - shr) * s;
      err += a;
    }
    z = znew / double(x.size());
    beta *= o.kappa;
    err /= double(x.size());
    if (err < best)
      best = err;
    else if (early_stop)
      break;
  }
  return z;
}

}  // namespace

// By hand, x = [0, 1, 2, 3.3] at 2 bits: scale 3/3.3, zero 0, W_q = [0,1,2,3], W_r = [0,1.1,2.2,3.3],
// error 0.075; shrink(-0.1) = 0 (0.1 < 0.1^-0.3/10 = 0.1995), shrink(-0.2) = -(0.2 - 0.2^-0.3/10)
// = -0.03794; zero = mean(W_q - (x - W_e)·scale) = (1 - 0.90909 + 2 - 2.03794·0.90909)/4 = 0.05956.
// float32 against these double figures: 1e-5 covers the ~1e-7 relative rounding of each term.
TEST_CASE("HQQ solver: one iteration by hand, and the whole loop against a scalar rewrite") {
  at::NoGradGuard ng;
  HqqOptions o;
  o.iters = 1;
  at::Tensor x = at::tensor({0.0f, 1.0f, 2.0f, 3.3f}).reshape({1, 4});
  at::Tensor inv, zero;
  hqq_initial_params(x, 2, false, &inv, &zero);
  CHECK_NEAR(inv.item<double>(), 3 / 3.3, 1e-6);
  CHECK_NEAR(zero.item<double>(), 0.0, 1e-7);
  CHECK(hqq_optimize_zero(x, inv, zero, 2, o) == 1);
  const double by_hand = (1 - 3 / 3.3 + 2 - (2.0 + (0.2 - std::pow(0.2, -0.3) / 10)) * 3 / 3.3) / 4;
  CHECK_NEAR(by_hand, 0.05956, 1e-5);
  CHECK_NEAR(zero.item<double>(), by_hand, 1e-5);

  // 40 random groups of 64: the per-group zeros of the full loop (early stop on the mean error of
  // ALL groups, so the loop below runs over the whole tensor) against double arithmetic.
  at::manual_seed(3);
  at::Tensor w = at::randn({40, 64});
  HqqOptions full;
  hqq_initial_params(w, 3, false, &inv, &zero);
  const int64_t n = hqq_optimize_zero(w, inv, zero, 3, full);
  CHECK(n >= 2 && n <= full.iters);
  // Per group the update is independent and the stop global: each group by hand for exactly the
  // n iterations the tensor loop ran (the zero of the last, non-improving one is kept).
  HqqOptions fixed = full;
  fixed.iters = n;
  for (int64_t g = 0; g < 40; g += 7) {
    std::vector<double> xs(64);
    for (int64_t i = 0; i < 64; ++i) xs[size_t(i)] = w[g][i].item<double>();
    int64_t its = 0;
    const double z = hqq_zero_by_hand(xs, 3, false, fixed, &its, false);
    CHECK(its == n);
    // float32 against double: each iteration's mean carries ~1e-6 of rounding, and a code that
    // sits on a rounding tie could flip; 1e-4 of a zero of order 1..7 still fails on any change
    // of the update rule (one iteration moves the zero by ~1e-2).
    CHECK_NEAR(zero[g][0].item<double>(), z, 1e-4);
  }
}

// quantize.py's `scale = (max_v / denom)` is Python's float / Tensor, i.e. denom.reciprocal() *
// max_v (torch/_tensor.py __rtruediv__), rounded twice. For the group [0, d] with
// d = 0x1.9a36e4p-5 at 3 bits that is 0x1.1794a2p+7 (computed by torch 1.13 as the reference
// does); the single-rounding division 7 / d gives 0x1.1794a4p+7, one ulp off. Exact equality: the
// two float32 results are what is compared, bit for bit.
TEST_CASE("HQQ initial scale rounds as the reference's Python expression (reciprocal, then times 2^b-1)") {
  at::NoGradGuard ng;
  const float d = 0x1.9a36e4p-5f;
  at::Tensor x = at::tensor({0.0f, d}).reshape({1, 2});
  at::Tensor inv, zero;
  hqq_initial_params(x, 3, false, &inv, &zero);
  CHECK(inv.item<float>() == 0x1.1794a2p+7f);
  CHECK(7.0f / d == 0x1.1794a4p+7f);  // what a plain division would store
  CHECK(zero.item<float>() == 0.0f);
}

// bits per weight, w4g64 on [8, 128]: codes 8·128·4/8 = 512 B, scales 16·2 = 32 B, fp16 zeros
// 16·2 = 32 B: 576 B = 4.5 bits per weight (an integer zero would be 4.25).
TEST_CASE("HQQ: fp16 zeros in the storage, dequantize = (W_q - zero)·scale, beats min/max RTN") {
  at::NoGradGuard ng;
  at::manual_seed(1);
  at::Tensor w = at::randn({8, 128});
  HqqResult r = hqq_quantize(w, int_spec(4, 64));
  CHECK(r.q.storage_bytes(2) == 576);
  CHECK(r.q.zeros.size(0) == 8 && r.q.zeros.size(1) == 2);
  const at::Tensor deq = r.q.dequantize();
  CHECK_NEAR(r.error, (deq - w).abs().mean().item<double>(), 1e-7);
  const double rtn = (fake_quantize(w, int_spec(4, 64)) - w).abs().mean().item<double>();
  CHECK_MSG(r.error < rtn, "hqq " + std::to_string(r.error) + " rtn " + std::to_string(rtn));
  QuantSpec sym = int_spec(4, 64);
  sym.symmetric = true;
  CHECK_THROWS_WITH(hqq_quantize(w, sym), "sym is not supported");
}

// OWQ's exact bytes, w3g32 on [8, 128] with 4 kept columns: codes 8·124·3 bits = 372 B; groups
// over the 124 quantized columns: ceil(124/32) = 4 per row, scales 32·2 = 64 B, zeros 32·3 bits
// = 12 B; kept values 8·4·2 = 64 B and indices 4·4 = 16 B: 528 B, 4.125 bits per weight.
TEST_CASE("OWQ: the weak columns stay in fp16 with their compensated values; exact storage") {
  at::NoGradGuard ng;
  at::manual_seed(2);
  at::Tensor w = at::randn({8, 128});
  at::Tensor x = at::randn({256, 128});
  x.select(1, 5).mul_(20);  // an activation outlier: H_55 is 400 times the others
  at::Tensor H = 2.0 / 256 * x.t().matmul(x);
  OwqOptions o;
  o.columns = 4;
  OwqResult r = owq_quantize(w, H, int_spec(3, 32), o);
  CHECK(r.kept.size() == 4 && std::is_sorted(r.kept.begin(), r.kept.end()));
  CHECK(std::find(r.kept.begin(), r.kept.end(), 5) != r.kept.end());
  CHECK(r.q.storage_bytes(2) == 528);
  CHECK(r.q.scales.size(1) == 4);
  CHECK((r.q.dequantize() - r.weight).abs().max().item<double>() == 0.0);
  const at::Tensor lambda = owq_sensitivity(w, H, int_spec(3, 32), true);
  const at::Tensor top = std::get<1>(lambda.topk(4));
  for (int64_t i = 0; i < 4; ++i)
    CHECK(std::find(r.kept.begin(), r.kept.end(), top[i].item<int64_t>()) != r.kept.end());
  // OWQ beats GPTQ in the Hessian-weighted output error at the same quantizer.
  auto out_err = [&](const at::Tensor& q) { return ((q - w).matmul(H) * (q - w)).sum().item<double>(); };
  const double e_owq = out_err(r.weight), e_gptq = out_err(gptq_quantize(w, H, int_spec(3, 32)).weight);
  CHECK_MSG(e_owq < e_gptq, "owq " + std::to_string(e_owq) + " gptq " + std::to_string(e_gptq));
  // act order: the same kept columns, an explicit group index
  o.gptq.act_order = true;
  OwqResult a = owq_quantize(w, H, int_spec(3, 32), o);
  CHECK(a.kept == r.kept && a.q.g_idx.defined());
  CHECK((a.q.dequantize() - a.weight).abs().max().item<double>() == 0.0);
  CHECK(a.q.storage_bytes(2) == 528 + 128 * 4);
  // k from a fraction: round(128 · 0.03) = 4 (even); 0.02 -> 2.56 -> 3 -> 4
  o.columns = 0;
  o.fraction = 0.03;
  CHECK(owq_kept_count(128, o) == 4);
  o.fraction = 0.02;
  CHECK(owq_kept_count(128, o) == 4);
  o.fraction = 1.0;
  CHECK_THROWS_WITH(owq_kept_count(128, o), "must be in (0, 1)");
  o.columns = 128;
  CHECK_THROWS_WITH(owq_kept_count(128, o), "must be smaller than the layer's input width 128");
}

// owq/quant.py's MSE grid: its search contains min/max's own (range xrange, zero round(-xmin/Δ)), so
// its |x - Q(x)|^2.4 is never above min/max's; on a row with one outlier it clips the range.
TEST_CASE("OWQ tuning mse: owq's grid search of range and zero, never worse than min/max in its norm") {
  at::NoGradGuard ng;
  at::manual_seed(3);
  at::Tensor x = at::randn({16, 64});
  x.index_put_({0, 7}, 12.0);
  auto score = [&](const QuantParams& p, const QuantSpec& s) {
    return (dequantize_codes(quantize_codes(x, p, s), p, s) - x).abs().pow(2.4).mean(1);
  };
  const QuantSpec s = int_spec(3, -1);
  const QuantParams mse = owq_mse_params(x, s, 100), mm = find_params(x, s);
  // float32 scores of 64 terms: the same search point can differ by rounding only (1e-5 relative)
  CHECK(at::all(score(mse, s) <= score(mm, s) * (1 + 1e-5)).item<bool>());
  CHECK(at::any(mse.scale < mm.scale * 0.99).item<bool>());  // the search clips some rows' ranges
  CHECK(at::all(mse.zero >= 0).item<bool>() && at::all(mse.zero <= 7).item<bool>());
  QuantSpec sym = s;  // quant.py's symmetric levels -2^(b-1)..2^(b-1)-1: zero 2^(b-1) here
  sym.symmetric = true;
  const QuantParams ms = owq_mse_params(x, sym, 100);
  const at::Tensor amax = x.abs().amax(1, true);
  const QuantParams full{amax / 4, at::full_like(amax, 4.0)};  // the search's last point, i = num
  CHECK(at::all(ms.zero == 4).item<bool>());
  CHECK(at::all(score(ms, sym) <= score(full, sym) * (1 + 1e-5)).item<bool>());
  QuantSpec nf = s;
  nf.format = WeightFormat::NF4;
  CHECK_THROWS_WITH(owq_mse_params(x, nf, 40), "tuning mse needs the int format");
}

namespace {

struct Run {
  QuantResult result;
  double ppl = 0;
  double mean_weight_error = 0;
};

QuantRequest small_request(const std::string& method, int bits, int64_t group) {
  QuantRequest q;
  q.method = method;
  q.plan.spec = int_spec(bits, group);
  return q;
}

Run quantize_small(const QuantRequest& req, int64_t windows) {
  at::NoGradGuard ng;
  const std::string dir = test::shared_dir() + "/models/austen-small";
  auto model = Model::load(dir);
  Tokenizer tok = Tokenizer::from_file(dir + "/tokenizer.json");
  Run r;
  r.result = quantize_model(*model, &tok, req);
  for (const auto& l : r.result.layers) r.mean_weight_error += l.weight_rel_error / double(r.result.layers.size());
  PplOptions po;
  po.seqlen = 512;
  po.batch = 8;
  po.max_windows = windows;
  r.ppl = perplexity(*model, tok.encode(read_text_file(test::corpus("austen-test.txt"))), po).ppl;
  return r;
}

}  // namespace

// The reference's own numbers: bench/hqq_reference_weights.py runs mobiusml/hqq (e0b1d00)
// Quantizer.quantize on the CPU (its float32 solver) over every decoder linear of austen-small and
// `ptq ppl` evaluates those weights with this protocol (16 test windows of 512): w3g64 axis 1
// 105.7955, axis 0 104.3542; w4g64 axis 1 99.9471, axis 0 99.2214; gptq-style RTN 103.6407 (w3)
// and 100.0901 (w4). The port reproduces them: the same float32 operations in the same order give
// the same codes, so the PPLs agree to the printed digits; 0.02 (2e-4 relative) leaves room for
// another LibTorch build's reductions and still fails on the one-ulp scale of a plain division
// (105.745 at w3 axis 1).
// Issue 13's "HQQ beats RTN at w3g64" is not met, by the reference either. At beta = 10 the lp
// shrinkage is zero for every error with |e|^(2-p) <= 1/beta, |e| <= 10^(-1/1.3) = 0.17, far
// above half a quantization step of these weights (largest |W - W_r| 0.013 in layers.0 k_proj):
// W_e = 0, each zero update is the least-squares offset mean(W_q - W·s), and HQQ here is
// alternating least squares on the zero with the min/max scale fixed. It lowers the weight error
// of all 42 layers (mean 0.1843 vs RTN's 0.1949) and their output error on calibration
// activations too (out_rel_mse about 10 % lower in every layer, 8 windows of 512 of austen-train),
// yet the PPL rises with the solver's iterations while the error falls: iters 1: 103.74 (error
// 0.1895), 2: 105.28 (0.1877), 4: 105.73 (0.1857), 8: 105.85 (0.1845), 20: 105.80 (0.1843); min/max
// with a real-valued zero (optimize off) 104.26 (0.1920), with a rounded zero 103.68 (0.1949, RTN's
// grid); RTN clipped to 0.95 of the range reaches 0.1864 with PPL 102.69 (HQQ variants measured
// before the scale-rounding fix, which moves them by at most 0.05). So on this model the
// PPL does not follow the weight-space (or per-layer output) error that HQQ's objective lowers:
// moving each group's grid off an integer zero (0 no longer a level) costs more end to end than
// the smaller error gains, at w3; at w4 (finer grid, rounded initial zero) HQQ wins on both axes.
// hqq's README: "In general axis=0 gives better results than axis=1"; here too at w3 and w4 (asserted).
SLOW_TEST_CASE("HQQ against RTN at w3g64 and w4g64 (austen-small, no calibration), axis 1 and 0") {
  const double reference[2][2] = {{105.7955, 104.3542}, {99.9471, 99.2214}};  // [w3, w4][axis 1, axis 0]
  for (int bits : {3, 4}) {
    const Run rtn = quantize_small(small_request("rtn", bits, 64), 16);
    const Run hqq1 = quantize_small(small_request("hqq", bits, 64), 16);
    QuantRequest a0 = small_request("hqq", bits, 64);
    a0.params = {{"axis", 0}};
    const Run hqq0 = quantize_small(a0, 16);
    std::printf("      w%dg64: rtn PPL %.4f (weight error %.5f) | hqq axis 1 PPL %.4f (%.5f) | hqq axis 0 PPL %.4f (%.5f)\n",
                bits, rtn.ppl, rtn.mean_weight_error, hqq1.ppl, hqq1.mean_weight_error, hqq0.ppl,
                hqq0.mean_weight_error);
    CHECK_NEAR(hqq1.ppl, reference[bits - 3][0], 0.02);
    CHECK_NEAR(hqq0.ppl, reference[bits - 3][1], 0.02);
    if (bits == 4) CHECK(hqq1.ppl < rtn.ppl && hqq0.ppl < rtn.ppl);
    CHECK(hqq0.ppl < hqq1.ppl);
    CHECK(hqq1.mean_weight_error < rtn.mean_weight_error);
    for (const Run* r : {&hqq1, &hqq0})
      for (const auto& l : r->result.layers) {
        CHECK(l.calib_tokens == 0);  // no calibration data loaded
        // 4.5 (w4g64) or 3.5 (w3g64) bits per weight: fp16 scale and zero per 64 weights, either axis
        CHECK(l.storage_bytes * 8 == l.out_features * l.in_features * bits + l.out_features * l.in_features / 64 * 32);
      }
  }
}

// The GPTQ run draws exactly IST-DASLab/gptq's windows (offsets checked against CPython in
// test_reference_samplers); OWQ with 1% fp16 columns (round(384·0.01) = 4, round(1024·0.01) = 10)
// on the same windows is level with it at the same nominal bits.
SLOW_TEST_CASE("GPTQ w3g128 with the gptq sampler on austen-small; OWQ 1% level with it") {
  QuantRequest g = small_request("gptq", 3, 128);
  g.calib.files = {test::corpus("austen-train.txt")};
  g.calib.nsamples = 16;
  g.calib.seqlen = 512;
  g.calib.sampling = "gptq";
  {
    const Tokenizer tok = Tokenizer::from_file(test::shared_dir() + "/models/austen-small/tokenizer.json");
    std::string text = read_text_file(g.calib.files[0]);
    if (!text.empty() && text.back() != '\n') text += "\n";
    const auto ids = tok.encode(text);
    const auto off = gptq_reference_offsets(int64_t(ids.size()), 16, 512, 0);
    const at::Tensor w = calibration_windows(tok, g.calib);
    for (int64_t i = 0; i < 16; ++i)
      CHECK(at::equal(w[i], at::tensor(std::vector<int64_t>(ids.begin() + off[size_t(i)],
                                                            ids.begin() + off[size_t(i)] + 512), at::kLong)));
    std::printf("      austen-train: %zu tokens, first offsets %lld %lld %lld\n", ids.size(), (long long)off[0],
                (long long)off[1], (long long)off[2]);
  }
  const Run gptq = quantize_small(g, 16);
  QuantRequest o = g;
  o.method = "owq";
  o.params = {{"fraction", 0.01}};
  const Run owq = quantize_small(o, 16);
  int64_t bytes = 0, weights = 0;
  for (const auto& l : owq.result.layers) {
    const int64_t k = l.in_features == 384 ? 4 : 10, ng = (l.in_features - k + 127) / 128, out = l.out_features;
    // codes of the quantized columns, fp16 scale + 3-bit zero per group, fp16 kept columns + int32 index
    const int64_t expect = (out * (l.in_features - k) * 3 + 7) / 8 + out * ng * 2 + (out * ng * 3 + 7) / 8 + out * k * 2 + k * 4;
    CHECK(l.storage_bytes == expect);
    bytes += l.storage_bytes;
    weights += l.out_features * l.in_features;
  }
  std::printf("      w3g128: gptq PPL %.3f | owq 1%% PPL %.3f at %.4f bits per weight\n", gptq.ppl, owq.ppl,
              double(bytes) * 8 / double(weights));
  // With owq's MSE grid (its default --tuning mse, in ΔW and in GPTQ's groups) OWQ 1 % and GPTQ are level
  // on 16 calibration windows: OWQ 100.286 against GPTQ 100.608 when this case was written (`ptq quantize
  // --method owq --bits 3 --group 128 --param owq.fraction=0.01`, the same calibration and 16 eval
  // windows of 512), OWQ 100.161 against GPTQ 99.769 on 2026-12-02 with the same code path (GPTQ's column
  // rounding turns the BLAS's float32 summation order into ~1% of PPL at 3 bits); with min/max (tuning
  // minmax, the earlier port) OWQ was 100.804. OWQ must stay within that 1%.
  CHECK(owq.ppl < gptq.ppl * 1.01);
}
