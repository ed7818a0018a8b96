// The column_error analysis (per-input-column relative weight error, LLMC Fig. 5) and the
// divergence analysis (per-token KL to full precision along the eval text) on austen-tiny.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cmath>

#include "core/io/checkpoint.h"
#include "core/model/model.h"
#include "core/records/json_util.h"
#include "core/runtime/errors.h"
#include "core/text/tokenizer.h"
#include "eval/experiment/experiment.h"
#include "eval/experiment/sweep.h"
#include "eval/metrics/output_compare.h"
#include "eval/metrics/perplexity.h"
#include "quant/pipeline/column_error.h"
#include "tests/check.h"
#include "tests/fixture_paths.h"

using namespace ptq;

namespace {

using test::corpus;
using test::tiny;

ExperimentSpec tiny_spec(const std::string& method, const std::vector<std::string>& analyses) {
  ExperimentSpec s;
  s.model_dir = tiny();
  s.method = method;
  s.plan.spec.bits = 3;
  s.plan.spec.group_size = -1;  // per channel: one grid per row, so GPTQ's compensation is all that varies along j
  if (method == "gptq") {
    s.calib.files = {corpus("austen-valid.txt")};
    s.calib.nsamples = 16;
    s.calib.seqlen = 128;
  }
  s.analyses = analyses;
  return s;
}

// Mean over the record's layers of last_quarter_mean / first_quarter_mean.
double mean_growth(const json& ce) {
  double s = 0;
  int n = 0;
  for (const auto& kv : ce["layers"].items()) {
    s += kv.value()["last_quarter_mean"].get<double>() / kv.value()["first_quarter_mean"].get<double>();
    ++n;
  }
  return n ? s / n : 0.0;
}

}  // namespace

TEST_CASE("column error: zero for an identity quantization, per column otherwise, recombines to the layer error") {
  at::manual_seed(3);
  at::Tensor W = at::randn({6, 5});
  for (float e : column_relative_error(W, W)) CHECK(e == 0.0f);
  at::Tensor Q = W.clone();
  Q.select(1, 2).mul_(1.5);  // column 2 off by half of itself: e_2 = 0.5 exactly, the others 0
  std::vector<float> e = column_relative_error(W, Q);
  CHECK(e.size() == 5);
  for (int j = 0; j < 5; ++j) CHECK_NEAR(e[size_t(j)], j == 2 ? 0.5 : 0.0, 1e-6);
  // sum_j e_j² ‖W_j‖² = ‖W − Q‖²: the columns partition the Frobenius norm (float32 sums of 30
  // terms: relative rounding ~1e-6).
  at::Tensor R = W + 0.1 * at::randn({6, 5});
  e = column_relative_error(W, R);
  at::Tensor cn = W.norm(2, {0});
  double sq = 0;
  for (int j = 0; j < 5; ++j) sq += std::pow(double(e[size_t(j)]) * cn[j].item<double>(), 2);
  CHECK_REL(std::sqrt(sq) / W.norm().item<double>(), ((W - R).norm() / W.norm()).item<double>(), 1e-5);
  CHECK_THROWS_WITH(column_relative_error(W, W.t()), "equal shape");
}

TEST_CASE("column error: float16 base64 is RFC 4648 over little-endian halves and round-trips") {
  CHECK(encode_float16_base64({1.0f}) == "ADw=");           // 0x3C00 -> bytes 00 3C
  CHECK(encode_float16_base64({1.0f, -2.0f}) == "ADwAwA==");  // 0x3C00, 0xC000
  CHECK(encode_float16_base64({0.0f, 0.5f, 1.0f}) == "AAAAOAA8");
  const std::vector<float> v = {0.0f, 0.25f, 0.01234f, 3.5f, 1e-4f};
  std::vector<float> back = decode_float16_base64(encode_float16_base64(v));
  CHECK(back.size() == v.size());
  // float16 keeps 11 significant bits: relative rounding at most 2^-11 = 4.9e-4 (1e-4 is normal in fp16).
  for (size_t i = 0; i < v.size(); ++i) CHECK_NEAR(back[i], v[i], 4.9e-4 * std::fabs(v[i]));
  CHECK(decode_float16_base64("").empty());
  CHECK_THROWS_WITH(decode_float16_base64("AD w"), "invalid character");
  CHECK_THROWS_WITH(decode_float16_base64("ADw"), "multiple of 4");
}

TEST_CASE("column_error analysis: RTN's columns recombine to each layer's weight error; GPTQ's grow toward the last") {
  const json rtn = run_experiment(tiny_spec("rtn", {"column_error"}));
  const json& ce = rtn["analyses"]["column_error"];
  CHECK(ce["encoding"] == "float16 little-endian, base64");
  CHECK(ce["act_order"] == false);
  CHECK(ce["layers"].size() == rtn["layers"].size());  // every block linear of austen-tiny is quantized
  auto ck = Checkpoint::open(tiny());
  for (const auto& l : rtn["layers"]) {
    const std::string name = l["name"];
    const json& entry = ce["layers"][name];
    const std::vector<float> e = decode_float16_base64(entry["values"]);
    CHECK(int64_t(e.size()) == l["shape"][1].get<int64_t>());
    CHECK(entry["columns"] == l["shape"][1]);
    // RTN has no transform: the weight it saw is the checkpoint's. Recombined, the columns give
    // the layer's ‖W − Q‖ / ‖W‖ up to float16's relative rounding of each e_j (≤ 4.9e-4).
    at::Tensor W = ck->load("model." + name + ".weight").to(at::kFloat);
    at::Tensor cn = W.norm(2, {0});
    double sq = 0;
    for (size_t j = 0; j < e.size(); ++j) sq += std::pow(double(e[j]) * cn[int64_t(j)].item<double>(), 2);
    CHECK_REL(std::sqrt(sq) / W.norm().item<double>(), l["weight_rel_error"].get<double>(), 5e-4);
  }
  // RTN rounds every column alike (growth ~1); GPTQ's compensation moves the error toward the
  // columns it quantizes last. Measured: RTN 0.992, GPTQ 1.431 (austen-tiny, w3 per channel, 16 x 128
  // calibration tokens); 1.2 leaves half of that margin for other BLAS / LibTorch versions.
  const double rtn_growth = mean_growth(ce);
  const json gptq = run_experiment(tiny_spec("gptq", {"column_error"}));
  const double gptq_growth = mean_growth(gptq["analyses"]["column_error"]);
  std::printf("column error growth (last / first quarter): rtn %.3f gptq %.3f\n", rtn_growth, gptq_growth);
  CHECK_NEAR(rtn_growth, 1.0, 0.1);
  CHECK(gptq_growth > 1.2);
  CHECK(!run_experiment(tiny_spec("rtn", {}))["analyses"].contains("column_error"));  // only when listed
}

TEST_CASE("divergence: the model against itself diverges nowhere") {
  at::NoGradGuard no_grad;
  auto model = Model::load(tiny());
  const Tokenizer tok = Tokenizer::from_file(model->checkpoint().tokenizer_path());
  at::Tensor windows = make_windows(tok.encode(read_text_file(corpus("austen-test.txt"))), 64, 3);
  const FpReference ref = capture_reference(*model, windows, 2);
  const OutputComparer cmp = compare_windows(*model, ref, windows, 2);
  CHECK(cmp.token_kl().size() == 3 * 63);
  // The same float32 logits up to the head's matmul being applied to the stored hidden states vs
  // the fresh ones (identical values): KL is a sum of p·(lp − lq) with |lp − lq| at most a few
  // float32 ulps of log-probabilities ~10, so |KL| < 1e-5.
  for (double v : cmp.token_kl()) CHECK(std::fabs(v) < 1e-5);
  for (double v : cmp.token_dp()) CHECK(std::fabs(v) < 1e-6);
}

TEST_CASE("divergence analysis: per-token KL along the eval text; its mean is compare's kl_mean over the same windows") {
  ExperimentSpec s = tiny_spec("rtn", {"compare", "divergence"});
  s.eval_text = corpus("austen-test.txt");
  s.eval_seqlen = 64;
  s.eval_max_windows = 3;
  s.divergence_tokens = 10000;  // more than the 3 × 63 predicted tokens: all of them
  const json all = run_experiment(s);
  CHECK(all["analyses"].contains("divergence") && all["metrics"].contains("compare"));
  const json& d = all["analyses"]["divergence"];
  CHECK(d["tokens"] == 189);
  CHECK(d["windows"] == 3);
  CHECK(d["ids"].size() == 192 && d["kl"].size() == 192 && d["dp"].size() == 192 && d["pieces"].size() == 192);
  for (int w = 0; w < 3; ++w) CHECK(d["kl"][size_t(w * 64)].is_null());  // a window's first token predicts nothing
  // Same windows, same batches, same arithmetic and summation order as metrics.compare: equal up
  // to the double sum's rounding.
  const double compare_mean = all["metrics"]["compare"]["kl_mean"].get<double>();
  CHECK(compare_mean > 1e-3);  // w3 RTN does diverge
  CHECK_REL(d["kl_mean"].get<double>(), compare_mean, 1e-9);
  CHECK_NEAR(d["kl_max"].get<double>(), all["metrics"]["compare"]["kl_max"].get<double>(), 1e-12);
  // The ids are the eval text's first tokens, in order.
  const Tokenizer tok = Tokenizer::from_file(tiny() + "/tokenizer.json");
  const std::vector<int64_t> ids = tok.encode(read_text_file(s.eval_text));
  for (size_t i = 0; i < 192; ++i) CHECK(d["ids"][i].get<int64_t>() == ids[i]);
  // Bounded: 100 predicted tokens take 2 windows (63 + 37 predictions, 102 entries); the values
  // are the full run's, up to float32 matmuls over a batch of 2 windows instead of 3.
  s.analyses = {"divergence"};
  s.divergence_tokens = 100;
  const json bounded = run_experiment(s);
  const json& b = bounded["analyses"]["divergence"];
  CHECK(b["tokens"] == 100 && b["windows"] == 2 && b["kl"].size() == 102 && b["requested"] == 100);
  for (size_t i = 0; i < 102; ++i)
    if (!b["kl"][i].is_null()) CHECK_NEAR(b["kl"][i].get<double>(), d["kl"][i].get<double>(), 1e-5);
}

TEST_CASE("divergence spec: the token count is part of the run's identity, bounded, and needs an eval text") {
  ExperimentSpec s = tiny_spec("rtn", {"divergence"});
  s.eval_text = corpus("austen-test.txt");
  ExperimentSpec t = s;
  t.divergence_tokens = 64;
  CHECK(s.run_id() != t.run_id());
  CHECK(ExperimentSpec::from_json(t.to_json()).divergence_tokens == 64);
  ExperimentSpec plain = s, plain64 = s;
  plain.analyses = plain64.analyses = {};
  plain64.divergence_tokens = 64;
  CHECK(plain.run_id() == plain64.run_id());  // without the analysis it changes nothing
  json j = s.to_json();
  j["divergence_tokens"] = 0;
  CHECK_THROWS_WITH(ExperimentSpec::from_json(j), "divergence_tokens");
  j = s.to_json();
  j["eval"] = nullptr;
  CHECK_THROWS_WITH(ExperimentSpec::from_json(j), "'divergence' needs an eval text");
  j = tiny_spec("fp", {"column_error"}).to_json();
  CHECK_THROWS_WITH(ExperimentSpec::from_json(j), "'column_error' needs a quantized model");
}

TEST_CASE("divergence and column_error in a sweep: dropped for fp, the token count passed to every run") {
  const json j = {{"models", {tiny()}},
                  {"methods", {"fp", "rtn"}},
                  {"bits", {3}},
                  {"eval", {{"text", corpus("austen-test.txt")}, {"seqlen", 64}}},
                  {"analyses", {"compare", "column_error", "divergence"}},
                  {"divergence_tokens", 77}};
  const std::vector<ExperimentSpec> runs = SweepSpec::from_json(j, "").expand();
  CHECK(runs.size() == 2);
  CHECK(runs[0].method == "fp" && runs[0].analyses.empty());
  CHECK(runs[1].analyses == std::vector<std::string>({"column_error", "compare", "divergence"}));
  CHECK(runs[1].divergence_tokens == 77);
}
