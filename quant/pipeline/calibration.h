#include <ATen/ATen.h>
#pragma once
// Calibration data: `nsamples` windows of `seqlen` tokens from text files, drawn with a seed.
// "random": GPTQ's sampling (uniform random window starts over the tokenized text);
// "awq": AWQ's (paragraphs of at most seqlen tokens, shuffled, concatenated, cut into windows).
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ptq {

class Tokenizer;

struct CalibSpec {
  std::vector<std::string> files;
  int64_t nsamples = 128;
  int64_t seqlen = 2048;
  uint64_t seed = 0;
  std::string sampling = "random";  // random | awq
  nlohmann::json to_json() const;
};

// [nsamples, seqlen] int64 token windows. Throws ptq::Error when the text is too short.
at::Tensor calibration_windows(const Tokenizer& tok, const CalibSpec& spec);

}  // namespace ptq
