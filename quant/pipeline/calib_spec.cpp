#include "quant/pipeline/calib_spec.h"

namespace ptq {

nlohmann::json CalibSpec::to_json() const {
  return {{"files", files}, {"nsamples", nsamples}, {"seqlen", seqlen}, {"seed", seed}, {"sampling", sampling}};
}

const std::vector<std::string>& calib_sampling_names() {
  static const std::vector<std::string> n = {"random", "awq", "gptq", "llm-awq"};
  return n;
}

std::string join_sampling_names() {
  std::string s;
  for (const auto& n : calib_sampling_names()) s += (s.empty() ? "" : ", ") + n;
  return s;
}

std::string default_calib_sampling(const std::string& method) {
  // Stage ids are separated by '+' ("awq+gptq"); no registry lookup needed.
  size_t start = 0;
  while (start <= method.size()) {
    size_t plus = method.find('+', start);
    if (plus == std::string::npos) plus = method.size();
    if (method.compare(start, plus - start, "awq") == 0 && plus - start == 3) return "llm-awq";
    start = plus + 1;
  }
  return "gptq";
}

}  // namespace ptq
