#pragma once
// Perplexity by the protocol GPTQ, AWQ, LLMC and PTQ-Bench use for WikiText-2: the whole text
// tokenized without special tokens, non-overlapping windows of seqlen tokens (tail dropped, no BOS),
// per window the mean cross-entropy over its seqlen-1 shifted targets, PPL = exp(mean over windows).
#include <ATen/ATen.h>

#include <vector>

#include "core/runtime/feedback.h"
#include "core/model/model.h"

namespace ptq {

struct PplOptions {
  int64_t seqlen = 2048;
  int64_t batch = 1;        // windows per forward pass
  int64_t max_windows = 0;  // 0 = all windows
  int64_t warmup = 0;       // untimed passes over the first window before timing (benchmarks)
};

struct PplResult {
  double ppl = 0;
  double mean_nll = 0;
  int64_t tokens = 0;   // tokens in the evaluated windows
  int64_t windows = 0;
  double seconds = 0;
  int64_t peak_gpu_bytes = 0;
  std::vector<double> window_nll;  // mean NLL of each window
};

// Cuts tokens into [windows, seqlen]; throws ptq::Error when the text is shorter than one window.
at::Tensor make_windows(const std::vector<int64_t>& tokens, int64_t seqlen, int64_t max_windows = 0);

PplResult perplexity(Model& model, const std::vector<int64_t>& tokens, const PplOptions& o, Feedback* fb = nullptr);

// Runs windows [N, T] through every block, layer-major when the model streams (each block's
// weights visit the device once) and window-major otherwise; calls `sink(first_row, final_hidden)`
// with the final-normed hidden states of each batch. Shared by perplexity, the output comparisons
// and the kurtosis analysis (which observes every linear layer through `obs`).
void run_windows(Model& model, const at::Tensor& windows, int64_t batch, Feedback* fb,
                 const std::function<void(int64_t, const at::Tensor&)>& sink, LinearObserver* obs = nullptr);

}  // namespace ptq
