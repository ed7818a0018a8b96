#pragma once
// Full-precision vs quantized outputs, as llama.cpp's `perplexity --kl-divergence`: for every
// predicted token, KL(p_fp ‖ p_q) over the whole vocabulary, whether the top-1 tokens agree, and
// Δp = p_q(correct) − p_fp(correct) of the correct next token; plus the perplexity of both.
// Windows follow the perplexity protocol (eval/perplexity.h): each window of T tokens predicts its
// T−1 shifted targets; PPL = exp(mean over windows of the window's mean NLL).
//
// Memory: nothing of size tokens × vocab is kept. The statistics are accumulated window by window
// (per-token KL and Δp are kept as floats for the percentiles). The full-precision reference is
// captured from the unquantized model before it is quantized: its final-normed hidden states of
// every evaluated position (CPU, [N, T−1, H] in the compute dtype, hidden/vocab the size of the
// logits) and a copy of its head weight; the quantized model then runs the same windows and both
// logits are formed one window at a time. One model load, no second model in memory. Two models
// (`ptq compare --quantized`) use the same path: capture from one, compare with the other.
#include <ATen/ATen.h>

#include <nlohmann/json.hpp>
#include <vector>

#include "core/runtime/feedback.h"

namespace ptq {

class Model;

// The percentiles reported for KL and Δp (llama.cpp's, plus 90/10), in this order.
const std::vector<double>& compare_percentiles();

// p-th percentile (0..100) of sorted values, linear interpolation between closest ranks
// (numpy's default). Throws ptq::Error on an empty vector.
double percentile_sorted(const std::vector<double>& sorted, double p);

class OutputComparer {
 public:
  // One window: logits [n, V] of both models for the same n positions (any float dtype, same
  // device) and the correct next tokens [n] (int64). Each call counts as one window for the PPLs.
  void add_window(const at::Tensor& logits_fp, const at::Tensor& logits_q, const at::Tensor& targets);
  int64_t tokens() const { return int64_t(kl_.size()); }
  // Per predicted token, in the order the windows were added: KL(p_fp ‖ p_q) and Δp.
  const std::vector<double>& token_kl() const { return kl_; }
  const std::vector<double>& token_dp() const { return dp_; }
  // The `metrics.compare` object of docs/results-schema.md. Throws ptq::Error when empty.
  nlohmann::json to_json() const;

 private:
  std::vector<double> kl_, dp_;
  int64_t top1_same_ = 0;
  std::vector<double> nll_fp_, nll_q_;  // per window
};

// What the quantized model is compared against: see the header comment.
struct FpReference {
  at::Tensor hidden;  // [N, T-1, H] final-normed hidden states (CPU, compute dtype)
  at::Tensor head;    // [V, H] head weight (compute device and dtype)
};

// Runs `fp` over windows [N, T] (ids) and keeps what compare_with_reference needs.
FpReference capture_reference(Model& fp, const at::Tensor& windows, int64_t batch, Feedback* fb = nullptr);

// Runs `q` over the same windows and feeds every window's logits to one comparer (window order).
OutputComparer compare_windows(Model& q, const FpReference& ref, const at::Tensor& windows, int64_t batch,
                               Feedback* fb = nullptr);

// Runs `q` over the same windows and compares; returns the compare object (with "seqlen" and
// "windows" added). q's perplexity on these windows is the object's ppl_q.
nlohmann::json compare_with_reference(Model& q, const FpReference& ref, const at::Tensor& windows, int64_t batch,
                                      Feedback* fb = nullptr);

}  // namespace ptq
