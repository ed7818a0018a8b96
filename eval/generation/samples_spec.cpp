#include "eval/generation/samples_spec.h"

#include "core/runtime/errors.h"
#include "eval/experiment/json_fields.h"

namespace ptq {

SamplesSpec SamplesSpec::from_json(const nlohmann::json& j) {
  JsonFields f(j, "experiment spec 'samples'", {"prompts", "max_new_tokens"});
  SamplesSpec s;
  s.prompts = f.strings("prompts");
  s.max_new_tokens = int(f.integer("max_new_tokens", s.max_new_tokens, 1, kMaxSampleNewTokens));
  if (s.prompts.empty()) f.fail("prompts", "must hold at least one prompt");
  if (s.prompts.size() > kMaxSamplePrompts)
    f.fail("prompts", "has " + std::to_string(s.prompts.size()) + " prompts; at most " +
                          std::to_string(kMaxSamplePrompts) + " (samples are a few examples kept in the record)");
  for (size_t i = 0; i < s.prompts.size(); ++i) {
    if (s.prompts[i].empty()) f.fail("prompts", "prompt " + std::to_string(i + 1) + " is empty");
    if (s.prompts[i].size() > kMaxSamplePromptBytes)
      f.fail("prompts", "prompt " + std::to_string(i + 1) + " has " + std::to_string(s.prompts[i].size()) +
                            " bytes; at most " + std::to_string(kMaxSamplePromptBytes));
  }
  return s;
}

nlohmann::json SamplesSpec::to_json() const { return {{"prompts", prompts}, {"max_new_tokens", max_new_tokens}}; }

}  // namespace ptq
