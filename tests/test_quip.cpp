// QuIP (quant/methods/quip): the incoherence transforms, μ, LDLQ with greedy passes on the GPTQ
// kernel, the stored form, bad input, and on austen-small against RTN and GPTQ.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "core/model/model.h"
#include "core/records/json_util.h"
#include "core/runtime/errors.h"
#include "core/text/tokenizer.h"
#include "eval/metrics/perplexity.h"
#include "quant/methods/quip/incoherence.h"
#include "quant/methods/quip/quip.h"
#include "quant/pipeline/pipeline.h"
#include "quant/strategy_registry.h"
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

// A weight with a few large outliers and a Hessian of correlated inputs (x = z·A, A random).
struct Layer {
  at::Tensor W, H;
};
Layer random_layer(int64_t out, int64_t in, uint64_t seed) {
  at::manual_seed(seed);
  Layer l;
  l.W = at::randn({out, in}, at::kFloat) * 0.05;
  l.W.index_put_({0, 3}, 1.5);
  l.W.index_put_({out - 1, in / 2}, -2.0);
  const at::Tensor A = at::randn({in, in}, at::kFloat) / std::sqrt(double(in)) + at::eye(in);
  const at::Tensor X = at::randn({4 * in, in}, at::kFloat).matmul(A);
  l.H = X.t().matmul(X) * (2.0 / double(X.size(0)));
  return l;
}

double max_abs(const at::Tensor& t) { return t.abs().max().item<double>(); }

}  // namespace

TEST_CASE("QuIP incoherence: orthogonal U, V; butterfly factors as method.py; the transform alone returns W") {
  CHECK(butterfly_factors(4096) == std::make_pair(int64_t(64), int64_t(64)));
  CHECK(butterfly_factors(11008) == std::make_pair(int64_t(688), int64_t(16)));
  CHECK(butterfly_factors(384) == std::make_pair(int64_t(16), int64_t(24)));
  CHECK(butterfly_factors(97) == std::make_pair(int64_t(97), int64_t(1)));
  const Layer l = random_layer(48, 96, 1);
  for (const std::string kind : {"kron", "hadamard"}) {
    for (int64_t n : {48, 96}) {
      const at::Tensor M = incoherence_matrix(kind, n, 7);
      // float32 products of n ≤ 96 terms: each entry of M·Mᵀ is within n·2^-24 ≈ 6e-6 of I's
      CHECK(max_abs(M.matmul(M.t()) - at::eye(n)) < 1e-5);
      CHECK(at::equal(M, incoherence_matrix(kind, n, 7)));   // the seed regenerates it
      CHECK(!at::equal(M, incoherence_matrix(kind, n, 8)));
    }
    for (bool rescale : {false, true}) {
      QuipOptions o;
      o.incoherence = kind;
      o.rescale = rescale;
      o.seed = 3;
      const QuipProcessed p = quip_preprocess(l.W, l.H, o);
      CHECK(p.col_scale.defined() == rescale);
      // Uᵀ(U W' Vᵀ)V: four float32 matrix products of orthogonal factors (and a multiply / divide
      // by s), each adding at most ~n·2^-24 relative to max|W| = 2: 1e-5 bounds the round trip.
      CHECK(max_abs(quip_postprocess(p.W, p.col_scale, o) - l.W) < 1e-5);
      CHECK(incoherence_mu(p.W) < 0.5 * incoherence_mu(l.W));  // the outliers are spread
    }
  }
}

TEST_CASE("QuIP incoherence mu: the paper's definition") {
  CHECK_NEAR(incoherence_mu(at::ones({4, 8}) * -3.0), 1.0, 1e-12);
  at::Tensor one = at::zeros({4, 8}, at::kFloat);
  one.index_put_({2, 5}, 0.7);
  CHECK_NEAR(incoherence_mu(one), std::sqrt(32.0), 1e-12);
}

TEST_CASE("QuIP: LDLQ beats nearest on the proxy loss, greedy passes never worsen it; the stored form") {
  const Layer l = random_layer(40, 96, 2);
  QuipOptions o;
  o.seed = 11;
  auto run = [&](const std::string& rounding, int64_t passes, const QuantSpec& s) {
    QuipOptions p = o;
    p.rounding = rounding;
    p.greedy_passes = passes;
    return quip_quantize(l.W, l.H, s, p);
  };
  for (const QuantSpec& s : {int_spec(2, -1), int_spec(3, 32)}) {
    const QuipResult near = run("nearest", 0, s), ldlq = run("ldlq", 0, s), greedy = run("ldlq", 4, s);
    CHECK(ldlq.proxy_loss < 0.9 * near.proxy_loss);
    CHECK(greedy.proxy_loss <= ldlq.proxy_loss * (1 + 1e-6));  // coordinate descent: each step lowers it
    CHECK(greedy.greedy_passes_run >= 1);
    // dequantize() regenerates U, V from the seed: Uᵀ·(σ(c - z))·V / s equals the processed
    // rounding mapped back; the codes are on the 2^b levels
    const QuantizedWeight& q = greedy.q;
    CHECK(q.incoherence == "kron" && q.col_scale.defined());
    CHECK(q.codes.max().item<int64_t>() <= (1 << s.bits) - 1);
    const int64_t ng = s.n_groups(96);
    // codes at b bits, an fp16 scale per row and group, no zeros (the constant (2^b-1)/2), fp16 s, the seed
    CHECK(q.storage_bytes(2) == (40 * 96 * s.bits + 7) / 8 + 40 * ng * 2 + 96 * 2 + 8);
    CHECK(max_abs(q.dequantize() - l.W) < max_abs(l.W));
    CHECK(std::isfinite(greedy.mu_after) && greedy.mu_after < greedy.mu_before);
  }
  // quip+gptq: the GPTQ order on the same processed weight (= LDLQ's update in the other order)
  const QuipResult g = run("gptq", 0, int_spec(2, -1)), n = run("nearest", 0, int_spec(2, -1));
  CHECK(g.proxy_loss < n.proxy_loss);
  // grid minmax: GPTQ's own parameters (integer zeros, stored at b bits)
  o.grid = "minmax";
  const QuipResult mm = run("ldlq", 1, int_spec(3, -1));
  CHECK(std::isfinite(mm.proxy_loss) && mm.q.spec.symmetric == false);
}

TEST_CASE("QuIP: bad input gives clear errors") {
  const Layer l = random_layer(8, 16, 3);
  QuipOptions o;
  o.layer = "layers.2.mlp.down_proj";
  o.incoherence = "dct";
  CHECK_THROWS_WITH(quip_quantize(l.W, l.H, int_spec(2, -1), o),
                    "QuIP, layer layers.2.mlp.down_proj: unknown incoherence kind 'dct' (choose from: kron, hadamard)");
  o.incoherence = "kron";
  o.greedy_passes = -1;
  CHECK_THROWS_WITH(quip_quantize(l.W, l.H, int_spec(2, -1), o), "greedy_passes must be >= 0, got -1");
  o.greedy_passes = 1;
  // An indefinite H (eigenvalues 3 and -1 on a 2-dim block) stays indefinite through the rescaling
  // (a congruence), the trace normalisation + 1e-2·I and the rotation: the damped H' is not positive definite.
  at::Tensor bad = at::eye(16, at::kFloat);
  bad.index_put_({0, 1}, 2.0);
  bad.index_put_({1, 0}, 2.0);
  CHECK_THROWS_WITH(quip_quantize(l.W, bad, int_spec(2, -1), o),
                    "QuIP, layer layers.2.mlp.down_proj: GPTQ: damped Hessian is not positive definite");
  CHECK_THROWS_WITH(parse_method("quip+omniquant"), "quip comes last or just before the quantizer");
  CHECK_THROWS_WITH(parse_method("quip+awq+gptq"), "quip comes last or just before the quantizer");
  CHECK(parse_method("quip").size() == 1);
  CHECK(parse_method("quip+gptq").size() == 2 && parse_method("rotate+quip+rtn").size() == 3);
  CHECK_THROWS_WITH(resolve_params(parse_method("quip"), {{"quip.greedy_passes", -1}}), "out of range [0, 100]");
  CHECK_THROWS_WITH(resolve_params(parse_method("quip"), {{"quip.incoherence", "dct"}}), "is not one of: kron, hadamard");
}

namespace {

struct Run {
  QuantResult result;
  double ppl = 0;
  std::vector<double> window_nll;  // mean NLL of each eval window
};

// The slow case's sizes. Calibration: 8 windows of 256 tokens of austen-train (IST-DASLab/gptq's
// sampler), 2048 tokens, twice the widest layer's input (1024): the Hessian has full rank and
// the 1 % damping keeps LDLQ well posed. Evaluation: 8 windows of 256 tokens of austen-test. The
// calibration forward passes (true_sequential: four per block) and the evaluation are the whole
// cost: 16 windows of 512 for both took 202 s on 2 cores.
constexpr int64_t kCalibWindows = 8, kCalibSeqlen = 256, kEvalWindows = 8, kEvalSeqlen = 256;

Run quantize_small(const std::string& method, int bits) {
  at::NoGradGuard ng;
  const std::string dir = test::shared_dir() + "/models/austen-small";
  auto model = Model::load(dir);
  Tokenizer tok = Tokenizer::from_file(dir + "/tokenizer.json");
  QuantRequest q;
  q.method = method;
  q.plan.spec = int_spec(bits, -1);
  if (method != "rtn") {
    q.calib.files = {test::corpus("austen-train.txt")};
    q.calib.nsamples = kCalibWindows;
    q.calib.seqlen = kCalibSeqlen;
    q.calib.sampling = "gptq";
  }
  Run r;
  r.result = quantize_model(*model, &tok, q);
  PplOptions po;
  po.seqlen = kEvalSeqlen;
  po.batch = kEvalWindows;
  po.max_windows = kEvalWindows;
  const PplResult p = perplexity(*model, tok.encode(read_text_file(test::corpus("austen-test.txt"))), po);
  r.ppl = p.ppl;
  r.window_nll = p.window_nll;
  std::string per_window;
  for (double v : p.window_nll) per_window += " " + std::to_string(v).substr(0, 5);
  std::printf("      %s w%d: PPL %.3f, window NLL%s\n", method.c_str(), bits, r.ppl, per_window.c_str());
  return r;
}

// Windows in which `a` has the lower NLL than `b` (both on the same eval windows).
int64_t windows_won(const Run& a, const Run& b) {
  int64_t n = 0;
  for (size_t i = 0; i < a.window_nll.size() && i < b.window_nll.size(); ++i) n += a.window_nll[i] < b.window_nll[i];
  return n;
}

}  // namespace

SLOW_TEST_CASE("QuIP on austen-small: beats RTN at w2 and w3; quip+gptq against GPTQ at w2; mu recorded") {
  const Run rtn2 = quantize_small("rtn", 2), quip2 = quantize_small("quip", 2);
  const Run rtn3 = quantize_small("rtn", 3), quip3 = quantize_small("quip", 3);
  const Run gptq2 = quantize_small("gptq", 2), qg2 = quantize_small("quip+gptq", 2);
  // Measured (these sizes): w2 RTN 268.16, QuIP 154.83 (0.577); w3 RTN 145.21, QuIP 134.38 (0.925);
  // w2 GPTQ 167.90, quip+gptq 149.21 -- every window the same way for each pair when written. With 16 windows
  // of 512 for both calibration and evaluation: 207.71 / 109.84, 109.27 / 99.92, 119.60 / 107.72.
  // The shorter windows raise every PPL, not the order or the ratios' side of the thresholds.
  CHECK(quip2.ppl < 0.6 * rtn2.ppl);
  CHECK(quip3.ppl < 0.95 * rtn3.ppl);
  // GPTQ at w2 moves by 2-3 % of PPL with the float32 summation order alone: 167.90 (gptq.py's Hinv
  // chain), 164.70 (the chain on 2 threads) and 163.60 (the one-Cholesky Hinv) against quip+gptq's 149.21, 150.42, 150.11, so
  // the ratio (0.889, 0.913, 0.918) is asserted with that margin, not window by window (one window
  // of 8 went GPTQ's way in the last two runs).
  CHECK(qg2.ppl < 0.95 * gptq2.ppl);
  // The RTN claims window by window (a sign test on paired windows: were the methods equal, all
  // 8 windows going one way would happen with probability 2·2^-8 < 1 %).
  CHECK(windows_won(quip2, rtn2) == kEvalWindows);
  CHECK(windows_won(quip3, rtn3) == kEvalWindows);
  // austen-small's weights are already nearly Gaussian (μ ≈ 4.5-5, about sqrt(2·ln(m·n))): the
  // rotation lowers μ on average (layers.0.self_attn.q_proj 4.94 -> 4.49), not in every layer.
  double before = 0, after = 0;
  for (const auto& l : quip3.result.layers) {
    CHECK(measured(l.incoherence_before) && measured(l.incoherence_after));
    before += l.incoherence_before;
    after += l.incoherence_after;
    // codes at 3 bits, one fp16 scale per row, fp16 column scales, the 8-byte seed
    CHECK(l.storage_bytes == (l.out_features * l.in_features * 3 + 7) / 8 + l.out_features * 2 + l.in_features * 2 + 8);
  }
  CHECK(after < before);
}
