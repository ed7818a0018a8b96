#include "eval/metrics/output_compare.h"

#include <algorithm>
#include <cmath>

#include "core/runtime/errors.h"
#include "core/model/model.h"
#include "eval/metrics/perplexity.h"

namespace ptq {

namespace {

// Rows of logits handled at once, so [rows, V] float32 temporaries stay small for large vocabularies.
constexpr int64_t kRowChunk = 512;

nlohmann::json percentile_object(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  nlohmann::json o = nlohmann::json::object();
  for (double p : compare_percentiles()) {
    char key[16];
    std::snprintf(key, sizeof key, "%g", p);
    o[key] = percentile_sorted(v, p);
  }
  return o;
}

}  // namespace

const std::vector<double>& compare_percentiles() {
  static const std::vector<double> p = {99.9, 99, 95, 90, 50, 10, 5, 1, 0.1};
  return p;
}

double percentile_sorted(const std::vector<double>& v, double p) {
  if (v.empty()) throw Error("percentile of an empty set");
  const double rank = std::clamp(p, 0.0, 100.0) / 100.0 * double(v.size() - 1);
  const size_t lo = size_t(std::floor(rank));
  const size_t hi = std::min(v.size() - 1, lo + 1);
  return v[lo] + (rank - double(lo)) * (v[hi] - v[lo]);
}

void OutputComparer::add_window(const at::Tensor& logits_fp, const at::Tensor& logits_q, const at::Tensor& targets) {
  if (logits_fp.dim() != 2 || logits_fp.sizes() != logits_q.sizes() || targets.dim() != 1 ||
      targets.size(0) != logits_fp.size(0))
    throw Error("output comparison needs logits [n, V] of equal shape and targets [n]");
  const int64_t n = logits_fp.size(0);
  if (n == 0) return;
  double nll_fp = 0, nll_q = 0;
  for (int64_t r0 = 0; r0 < n; r0 += kRowChunk) {
    const int64_t k = std::min(kRowChunk, n - r0);
    at::Tensor lp = at::log_softmax(logits_fp.narrow(0, r0, k).to(at::kFloat), -1);
    at::Tensor lq = at::log_softmax(logits_q.narrow(0, r0, k).to(at::kFloat), -1);
    at::Tensor t = targets.narrow(0, r0, k).to(lp.device(), at::kLong).unsqueeze(1);
    at::Tensor kl = (lp.exp() * (lp - lq)).sum(-1);
    at::Tensor lpt = lp.gather(1, t).squeeze(1), lqt = lq.gather(1, t).squeeze(1);
    at::Tensor dp = lqt.exp() - lpt.exp();
    at::Tensor same = (lp.argmax(-1) == lq.argmax(-1));
    top1_same_ += same.sum().item<int64_t>();
    nll_fp -= lpt.to(at::kDouble).sum().item<double>();
    nll_q -= lqt.to(at::kDouble).sum().item<double>();
    at::Tensor kl_c = kl.to(at::kCPU, at::kDouble).contiguous(), dp_c = dp.to(at::kCPU, at::kDouble).contiguous();
    kl_.insert(kl_.end(), kl_c.data_ptr<double>(), kl_c.data_ptr<double>() + k);
    dp_.insert(dp_.end(), dp_c.data_ptr<double>(), dp_c.data_ptr<double>() + k);
  }
  nll_fp_.push_back(nll_fp / double(n));
  nll_q_.push_back(nll_q / double(n));
}

nlohmann::json OutputComparer::to_json() const {
  if (kl_.empty()) throw Error("output comparison saw no tokens");
  const double n = double(kl_.size());
  double kl_sum = 0, dp_sum = 0, dp_sq = 0;
  for (double v : kl_) kl_sum += v;
  for (double v : dp_) dp_sum += v, dp_sq += v * v;
  const double kl_mean = kl_sum / n;
  double kl_var = 0;
  for (double v : kl_) kl_var += (v - kl_mean) * (v - kl_mean);
  const double kl_stderr = kl_.size() > 1 ? std::sqrt(kl_var / (n - 1) / n) : 0.0;
  auto mean = [](const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return s / double(v.size());
  };
  const double ppl_fp = std::exp(mean(nll_fp_)), ppl_q = std::exp(mean(nll_q_));
  return {{"tokens", int64_t(kl_.size())},
          {"kl_mean", kl_mean},
          {"kl_stderr", kl_stderr},
          {"kl_max", *std::max_element(kl_.begin(), kl_.end())},
          {"kl_percentiles", percentile_object(kl_)},
          {"top1_agreement", double(top1_same_) / n},
          {"dp_mean", dp_sum / n},
          {"dp_rms", std::sqrt(dp_sq / n)},
          {"dp_percentiles", percentile_object(dp_)},
          {"ppl_fp", ppl_fp},
          {"ppl_q", ppl_q},
          {"ppl_ratio", ppl_q / ppl_fp}};
}

FpReference capture_reference(Model& fp, const at::Tensor& windows, int64_t batch, Feedback* fb) {
  const int64_t N = windows.size(0), T = windows.size(1);
  FpReference ref;
  ref.head = fp.head_weight().clone();
  ref.hidden = at::empty({N, T - 1, fp.config().hidden_size}, at::TensorOptions().dtype(fp.dtype()));
  run_windows(fp, windows.to(fp.device()), batch, fb, [&](int64_t row, const at::Tensor& normed) {
    ref.hidden.narrow(0, row, normed.size(0)).copy_(normed.narrow(1, 0, T - 1).to(at::kCPU));
  });
  return ref;
}

OutputComparer compare_windows(Model& q, const FpReference& ref, const at::Tensor& windows, int64_t batch,
                               Feedback* fb) {
  const int64_t N = windows.size(0), T = windows.size(1);
  if (ref.hidden.size(0) != N || ref.hidden.size(1) != T - 1)
    throw Error("the full-precision reference was captured on other windows");
  if (ref.head.size(0) != q.head_weight().size(0))
    throw Error("the models have different vocabularies (" + std::to_string(ref.head.size(0)) + " vs " +
                std::to_string(q.head_weight().size(0)) + ")");
  at::Tensor dev_windows = windows.to(q.device());
  at::Tensor head = ref.head.to(q.device(), q.dtype());
  OutputComparer cmp;
  run_windows(q, dev_windows, batch, fb, [&](int64_t row, const at::Tensor& normed) {
    for (int64_t b = 0; b < normed.size(0); ++b) {
      at::Tensor lq = q.head(normed[b].narrow(0, 0, T - 1)).to(at::kFloat);
      at::Tensor lp = at::linear(ref.hidden[row + b].to(q.device(), q.dtype()), head).to(at::kFloat);
      cmp.add_window(lp, lq, dev_windows[row + b].narrow(0, 1, T - 1));
    }
  });
  return cmp;
}

nlohmann::json compare_with_reference(Model& q, const FpReference& ref, const at::Tensor& windows, int64_t batch,
                                      Feedback* fb) {
  nlohmann::json j = compare_windows(q, ref, windows, batch, fb).to_json();
  j["seqlen"] = windows.size(1);
  j["windows"] = windows.size(0);
  return j;
}

}  // namespace ptq
