#include "core/runtime/device_names.h"

#include <cctype>

#include "core/runtime/errors.h"

namespace ptq {

std::string canonical_device(const std::string& device) {
  if (device == "cpu" || device == "auto") return device;
  if (device == "cuda") return "cuda:0";
  if (device.rfind("cuda:", 0) == 0 && device.size() > 5 && device.size() <= 8) {
    bool digits = true;
    for (size_t i = 5; i < device.size(); ++i) digits &= std::isdigit(static_cast<unsigned char>(device[i])) != 0;
    if (digits) return "cuda:" + std::to_string(std::stoi(device.substr(5)));
  }
  throw Error("unknown device '" + device + "' (allowed: cpu, cuda, cuda:N, auto)");
}

std::string canonical_dtype(const std::string& dtype) {
  if (dtype == "float32" || dtype == "fp32" || dtype == "float") return "float32";
  if (dtype == "bfloat16" || dtype == "bf16") return "bfloat16";
  if (dtype == "float16" || dtype == "fp16" || dtype == "half") return "float16";
  throw Error("unknown dtype '" + dtype + "' (choose float32, bfloat16 or float16)");
}

const std::vector<std::string>& residency_names() {
  static const std::vector<std::string> names = {"auto", "resident", "stream"};
  return names;
}

}  // namespace ptq
