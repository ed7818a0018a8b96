#pragma once
#include <ATen/ATen.h>

#include <cmath>
#include <vector>

#include "core/model/model.h"

// The shared README's protocol done by hand, one window per forward pass, in double from the
// logits on: the first `windows` windows of `seqlen` tokens, the mean NLL of each window's
// seqlen-1 shifted targets, PPL = exp(mean over windows). Independent of perplexity()'s batching.
inline double ppl_by_hand(ptq::Model& m, const std::vector<int64_t>& ids, int64_t seqlen, int64_t windows) {
  double nll = 0;
  for (int64_t w = 0; w < windows; ++w) {
    at::Tensor win = at::tensor(std::vector<int64_t>(ids.begin() + w * seqlen, ids.begin() + (w + 1) * seqlen), at::kLong);
    at::Tensor lp = m.forward(win.unsqueeze(0))[0].to(at::kDouble).log_softmax(-1);
    at::Tensor targets = win.slice(0, 1).unsqueeze(1);
    nll += -lp.slice(0, 0, seqlen - 1).gather(1, targets).mean().item<double>();
  }
  return std::exp(nll / double(windows));
}
