// The fp-vs-quantized output comparison (eval/metrics/output_compare.h): percentiles, hand-computed
// KL / top-1 / delta-p, and a model compared with itself.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cmath>

#include "core/model/model.h"
#include "core/records/json_util.h"
#include "core/runtime/errors.h"
#include "core/text/tokenizer.h"
#include "eval/metrics/output_compare.h"
#include "eval/metrics/perplexity.h"
#include "tests/check.h"
#include "tests/fixture_paths.h"
#include "tests/ppl_by_hand.h"

using namespace ptq;

namespace {

using test::corpus;
using test::tiny;

}  // namespace

TEST_CASE("percentiles interpolate between closest ranks") {
  std::vector<double> v = {1, 2, 3, 4};
  CHECK_NEAR(percentile_sorted(v, 50), 2.5, 1e-12);
  CHECK_NEAR(percentile_sorted(v, 0), 1, 1e-12);
  CHECK_NEAR(percentile_sorted(v, 100), 4, 1e-12);
  CHECK_NEAR(percentile_sorted(v, 90), 3.7, 1e-12);
  CHECK_NEAR(percentile_sorted({5}, 99.9), 5, 1e-12);
  CHECK_THROWS_WITH(percentile_sorted({}, 50), "empty");
}

TEST_CASE("output comparison of identical logits is zero") {
  at::Tensor logits = at::randn({7, 11}, at::TensorOptions().dtype(at::kFloat));
  at::Tensor targets = at::randint(0, 11, {7}, at::TensorOptions().dtype(at::kLong));
  OutputComparer c;
  c.add_window(logits, logits, targets);
  c.add_window(logits * 2, logits * 2, targets);
  json j = c.to_json();
  CHECK(j["tokens"] == 14);
  CHECK_NEAR(j["kl_mean"].get<double>(), 0.0, 1e-7);
  CHECK_NEAR(j["kl_percentiles"]["99.9"].get<double>(), 0.0, 1e-7);
  CHECK_NEAR(j["top1_agreement"].get<double>(), 1.0, 0);
  CHECK_NEAR(j["dp_rms"].get<double>(), 0.0, 1e-7);
  CHECK_NEAR(j["ppl_ratio"].get<double>(), 1.0, 1e-7);
  CHECK_THROWS_WITH(OutputComparer().to_json(), "no tokens");
  CHECK_THROWS_WITH(c.add_window(logits, logits.narrow(1, 0, 5), targets), "equal shape");
}

TEST_CASE("output comparison of a 2-token example computed by hand") {
  const double l2 = std::log(2.0), l3 = std::log(3.0);
  // Token A: p_fp = (1/2, 1/4, 1/4), p_q = (1/4, 1/2, 1/4), correct token 0:
  //   KL = 1/2 ln 2 + 1/4 ln(1/2) = ln2/4, top-1 differs (0 vs 1), dp = 1/4 - 1/2 = -1/4.
  // Token B: both (3/5, 1/5, 1/5), correct token 2: KL = 0, top-1 agrees, dp = 0.
  at::Tensor fp = at::tensor({l2, 0.0, 0.0, l3, 0.0, 0.0}, at::kFloat).view({2, 3});
  at::Tensor q = at::tensor({0.0, l2, 0.0, l3, 0.0, 0.0}, at::kFloat).view({2, 3});
  at::Tensor t = at::tensor({int64_t(0), int64_t(2)}, at::kLong);
  OutputComparer c;
  c.add_window(fp, q, t);
  json j = c.to_json();
  const double kl_a = l2 / 4;
  CHECK(j["tokens"] == 2);
  CHECK_NEAR(j["kl_mean"].get<double>(), kl_a / 2, 1e-6);
  CHECK_NEAR(j["kl_stderr"].get<double>(), kl_a / 2, 1e-6);  // sqrt(((a/2)^2·2 / 1) / 2)
  CHECK_NEAR(j["kl_max"].get<double>(), kl_a, 1e-6);
  CHECK_NEAR(j["kl_percentiles"]["50"].get<double>(), kl_a / 2, 1e-6);
  CHECK_NEAR(j["kl_percentiles"]["99.9"].get<double>(), 0.999 * kl_a, 1e-6);
  CHECK_NEAR(j["kl_percentiles"]["0.1"].get<double>(), 0.001 * kl_a, 1e-6);
  CHECK_NEAR(j["top1_agreement"].get<double>(), 0.5, 1e-12);
  CHECK_NEAR(j["dp_mean"].get<double>(), -0.125, 1e-6);
  CHECK_NEAR(j["dp_rms"].get<double>(), std::sqrt(0.0625 / 2), 1e-6);
  CHECK_NEAR(j["dp_percentiles"]["1"].get<double>(), -0.25 + 0.01 * 0.25, 1e-6);
  // NLL fp: ln 2 and ln 5; q: ln 4 and ln 5 -> PPL sqrt(10) and sqrt(20).
  CHECK_NEAR(j["ppl_fp"].get<double>(), std::sqrt(10.0), 1e-5);
  CHECK_NEAR(j["ppl_q"].get<double>(), std::sqrt(20.0), 1e-5);
  CHECK_NEAR(j["ppl_ratio"].get<double>(), std::sqrt(2.0), 1e-6);
  CHECK(j["kl_percentiles"].size() == 9 && j["dp_percentiles"].contains("90"));
}

TEST_CASE("comparing austen-tiny with itself: KL 0, PPL equal to perplexity()") {
  at::NoGradGuard ng;
  auto model = Model::load(tiny());
  Tokenizer tok = Tokenizer::from_file(tiny() + "/tokenizer.json");
  auto ids = tok.encode(read_text_file(corpus("austen-test.txt")));
  at::Tensor windows = make_windows(ids, 128, 3);
  FpReference ref = capture_reference(*model, windows, 2);
  CHECK(ref.hidden.size(0) == 3 && ref.hidden.size(1) == 127 && ref.hidden.size(2) == 128);
  json j = compare_with_reference(*model, ref, windows, 2);
  CHECK(j["tokens"] == 3 * 127 && j["windows"] == 3 && j["seqlen"] == 128);
  CHECK_NEAR(j["kl_mean"].get<double>(), 0.0, 1e-6);
  CHECK_NEAR(j["top1_agreement"].get<double>(), 1.0, 0);
  PplOptions po;
  po.seqlen = 128;
  po.max_windows = 3;
  po.batch = 2;
  const double ppl = perplexity(*model, ids, po).ppl;
  CHECK_NEAR(j["ppl_q"].get<double>(), ppl, 1e-4 * ppl);
  CHECK_NEAR(j["ppl_fp"].get<double>(), ppl, 1e-4 * ppl);
  // Windows batched 2 at a time vs one at a time: float32 logits differ by a few ulps, the mean
  // NLL (about 5.9) by ~1e-7 relative, so PPL by ~1e-6 relative.
  CHECK_REL(ppl, ppl_by_hand(*model, ids, 128, 3), 1e-5);
  CHECK_THROWS_WITH(compare_with_reference(*model, ref, windows.narrow(0, 0, 2), 2), "other windows");
}

