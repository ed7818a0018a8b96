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
  std::string sampling = "random";  // random | awq
  nlohmann::json to_json() const;
};

}  // namespace ptq
