#include "eval/generation/sampling.h"

#include <cmath>
#include <cstdio>
#include <limits>

#include "core/runtime/errors.h"

namespace ptq {

namespace {

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%g", v);
  return b;
}

}  // namespace

void SamplingParams::validate() const {
  if (max_new_tokens <= 0 || max_new_tokens > kMaxNewTokensLimit)
    throw Error("max_new_tokens is " + std::to_string(max_new_tokens) + "; allowed: 1 to " +
                std::to_string(kMaxNewTokensLimit));
  if (!std::isfinite(temperature) || temperature < 0 || temperature > 100)
    throw Error("temperature is " + num(temperature) + "; allowed: 0 (greedy) or a value in (0, 100]");
  if (top_k < 0) throw Error("top_k is " + std::to_string(top_k) + "; allowed: 0 (off) or a positive count");
  if (!std::isfinite(top_p) || top_p <= 0 || top_p > 1)
    throw Error("top_p is " + num(top_p) + "; allowed: (0, 1] (1 = off)");
  if (!std::isfinite(repetition_penalty) || repetition_penalty <= 0 || repetition_penalty > 100)
    throw Error("repetition_penalty is " + num(repetition_penalty) + "; allowed: (0, 100] (1 = off)");
  for (const auto& s : stop)
    if (s.empty()) throw Error("a stop string is empty; give non-empty stop strings");
  if (greedy() && (top_k != 0 || top_p != 1.0))
    throw Error("top_k / top_p are set but temperature is 0 (greedy decoding ignores them); set a temperature > 0");
}

nlohmann::json SamplingParams::to_json() const {
  return {{"greedy", greedy()}, {"temperature", temperature},  {"top_k", top_k}, {"top_p", top_p},
          {"repetition_penalty", repetition_penalty}, {"seed", seed}, {"stop", stop}};
}

at::Tensor process_logits(const at::Tensor& logits, const at::Tensor& history, const SamplingParams& p) {
  at::Tensor s = logits.to(at::kFloat).clone();
  if (p.repetition_penalty != 1.0 && history.defined() && history.numel() > 0) {  // RepetitionPenaltyLogitsProcessor
    at::Tensor h = history.to(s.device(), at::kLong);
    at::Tensor g = s.gather(1, h);
    g = at::where(g < 0, g * p.repetition_penalty, g / p.repetition_penalty);
    s.scatter_(1, h, g);  // repeated ids write the same value
  }
  if (p.greedy()) return s;
  s = s / p.temperature;
  const double neg = -std::numeric_limits<double>::infinity();
  if (p.top_k > 0 && p.top_k < s.size(1)) {  // TopKLogitsWarper
    at::Tensor kth = std::get<0>(s.topk(p.top_k, -1)).narrow(-1, p.top_k - 1, 1);
    s = s.masked_fill(s < kth, neg);
  }
  if (p.top_p < 1.0) {  // TopPLogitsWarper (min_tokens_to_keep 1)
    auto sorted = s.sort(-1, /*descending=*/false);
    at::Tensor cum = at::softmax(std::get<0>(sorted), -1).cumsum(-1);
    at::Tensor remove = cum <= (1.0 - p.top_p);
    remove.select(1, remove.size(1) - 1).fill_(false);
    s = s.masked_fill(remove.scatter(1, std::get<1>(sorted), remove), neg);
  }
  return s;
}

at::Tensor choose_tokens(const at::Tensor& scores, const SamplingParams& p, std::mt19937_64& rng) {
  if (p.greedy()) return scores.argmax(-1).to(at::kCPU);
  at::Tensor probs = at::softmax(scores.to(at::kDouble), -1).to(at::kCPU).contiguous();
  const int64_t B = probs.size(0), V = probs.size(1);
  at::Tensor out = at::empty({B}, at::TensorOptions().dtype(at::kLong));
  int64_t* chosen = out.data_ptr<int64_t>();
  std::uniform_real_distribution<double> uni(0.0, 1.0);
  const double* pr = probs.data_ptr<double>();
  for (int64_t b = 0; b < B; ++b) {
    const double* row = pr + b * V;
    const double u = uni(rng);
    double acc = 0;
    int64_t pick = -1, last_nonzero = 0;
    for (int64_t v = 0; v < V; ++v) {
      if (row[v] <= 0) continue;
      last_nonzero = v;
      acc += row[v];
      if (u < acc) {
        pick = v;
        break;
      }
    }
    chosen[b] = pick >= 0 ? pick : last_nonzero;  // u ≥ the rounded total: the last possible token
  }
  return out;
}

}  // namespace ptq
