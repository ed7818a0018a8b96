#pragma once
// What calibration a run draws (plain data, torch-free): text files, number and length of the
// windows, the seed and the sampling rule. The windows themselves: quant/pipeline/calibration.h.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ptq {

struct CalibSpec {
  std::vector<std::string> files;
  int64_t nsamples = 128;
  int64_t seqlen = 2048;
  uint64_t seed = 0;
  std::string sampling = "gptq";  // one of calib_sampling_names()
  nlohmann::json to_json() const;
};

// "random" (uniform starts, std::mt19937_64), "awq" (shuffled paragraphs), "gptq"
// (IST-DASLab/gptq's sampler exactly), "llm-awq" (mit-han-lab/llm-awq's exactly).
const std::vector<std::string>& calib_sampling_names();
std::string join_sampling_names();  // "random, awq, gptq, llm-awq"

// The sampler of the method's reference implementation: "llm-awq" when a stage is AWQ, else
// "gptq" (GPTQ, OmniQuant, QuaRot and OWQ draw with IST-DASLab/gptq's datautils). A method that
// does not parse gets "gptq" (the spec's validation reports it).
std::string default_calib_sampling(const std::string& method);

}  // namespace ptq
