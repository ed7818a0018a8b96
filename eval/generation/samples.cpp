#include "eval/generation/samples.h"

#include <algorithm>

#include "core/runtime/errors.h"

namespace ptq {

std::optional<size_t> first_divergence(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i)
    if (a[i] != b[i]) return i;
  if (a.size() != b.size()) return n;
  return std::nullopt;
}

nlohmann::json continuation_json(const Continuation& c) {
  return {{"text", c.text}, {"tokens", c.tokens}, {"ids", c.ids}, {"probs", c.probs}};
}

nlohmann::json samples_json(const std::vector<Continuation>& fp, const std::vector<Continuation>& quantized,
                            const SamplingParams& p) {
  if (fp.size() != quantized.size())
    throw Error("samples: " + std::to_string(fp.size()) + " full-precision continuations but " +
                std::to_string(quantized.size()) + " quantized ones");
  nlohmann::json prompts = nlohmann::json::array();
  for (size_t i = 0; i < fp.size(); ++i) {
    const auto d = first_divergence(fp[i].ids, quantized[i].ids);
    prompts.push_back({{"prompt", fp[i].prompt},
                       {"fp", continuation_json(fp[i])},
                       {"quantized", continuation_json(quantized[i])},
                       {"first_divergence", d ? nlohmann::json(*d) : nlohmann::json(nullptr)}});
  }
  return {{"max_new_tokens", p.max_new_tokens}, {"sampling", p.to_json()}, {"prompts", prompts}};
}

}  // namespace ptq
