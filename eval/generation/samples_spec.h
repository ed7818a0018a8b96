#pragma once
// The experiment spec's "samples" key (torch-free: ptq_spec): a few prompts whose greedy
// continuations the run records, full precision and quantized side by side (record["samples"],
// eval/generation/samples.h). Bounded so a record stays small.
//   "samples": {"prompts": ["It is a truth", ...], "max_new_tokens": 32}
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ptq {

constexpr size_t kMaxSamplePrompts = 16;
constexpr int kMaxSampleNewTokens = 256;
constexpr size_t kMaxSamplePromptBytes = 4096;

struct SamplesSpec {
  std::vector<std::string> prompts;  // empty: no samples
  int max_new_tokens = 32;

  bool enabled() const { return !prompts.empty(); }
  // From the "samples" object; throws ptq::Error naming "samples.<key>" and the allowed range.
  static SamplesSpec from_json(const nlohmann::json& j);
  nlohmann::json to_json() const;  // {"prompts": [...], "max_new_tokens": n}
};

}  // namespace ptq
