#pragma once
// record["samples"] (docs/results-schema.md; read by the GUI's Samples view):
//   {"max_new_tokens": int, "sampling": SamplingParams::to_json(),
//    "prompts": [{"prompt": str,
//                 "fp":        {"text": str, "tokens": [str], "ids": [int], "probs": [float]},
//                 "quantized": {same keys},
//                 "first_divergence": int | null}]}
// tokens: the decoded text of each generated token; probs: the model's probability of the chosen
// token; first_divergence: index of the first generated token that differs (a continuation that
// stops early differs at its end), null when the two are identical.
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "eval/generation/generate.h"

namespace ptq {

std::optional<size_t> first_divergence(const std::vector<int64_t>& a, const std::vector<int64_t>& b);
nlohmann::json continuation_json(const Continuation& c);  // {"text", "tokens", "ids", "probs"}
// fp and quantized continuations of the same prompts, in the same order.
nlohmann::json samples_json(const std::vector<Continuation>& fp, const std::vector<Continuation>& quantized,
                            const SamplingParams& p);

}  // namespace ptq
