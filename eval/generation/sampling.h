#pragma once
// Choosing the next token from logits as transformers' generate does (generation/utils.py
// _sample with the logits processors of generation/logits_process.py, in their order):
//   RepetitionPenaltyLogitsProcessor: for every token already in the sequence (prompt and
//     generated), score < 0 ? score · penalty : score / penalty;
//   then, when sampling: TemperatureLogitsWarper (÷ T), TopKLogitsWarper (scores below the k-th
//     largest set to −inf; ties with it kept), TopPLogitsWarper (ascending sort, cumulative
//     softmax, tokens with cumulative probability ≤ 1 − top_p removed, the most likely kept);
//     then a draw from softmax. Greedy (temperature 0) takes the argmax after the penalty.
// Draws come from a std::mt19937_64 seeded with `seed` on the CPU (inverse CDF in double), so
// a seed gives the same tokens on every device.
#include <ATen/ATen.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ptq {

// Beyond this many new tokens a request is taken for a mistake (a missing unit, an extra digit).
constexpr int kMaxNewTokensLimit = 16384;

struct SamplingParams {
  int max_new_tokens = 32;
  double temperature = 0.0;         // 0 = greedy; otherwise (0, 100]
  int64_t top_k = 0;                // 0 = off
  double top_p = 1.0;               // (0, 1]; 1 = off
  double repetition_penalty = 1.0;  // (0, 100]; 1 = off
  uint64_t seed = 0;
  std::vector<std::string> stop;    // stop strings (removed from the text)
  bool stop_at_eos = true;          // the model's eos_token_id (generation_config.json, config.json)

  bool greedy() const { return temperature == 0.0; }
  // Throws ptq::Error naming the parameter, its value and the allowed range.
  void validate() const;
  // {"greedy": bool, "temperature", "top_k", "top_p", "repetition_penalty", "seed", "stop"}
  nlohmann::json to_json() const;
};

// The logits processors above, applied to float32 logits [B, V] (any device); history [B, L]
// long ids seen so far per row. Returns the processed scores (greedy: only the penalty).
at::Tensor process_logits(const at::Tensor& logits, const at::Tensor& history, const SamplingParams& p);

// Next token per row [B] (long, CPU) from processed scores: argmax when greedy, else a draw.
at::Tensor choose_tokens(const at::Tensor& scores, const SamplingParams& p, std::mt19937_64& rng);

}  // namespace ptq
