#pragma once
// Small string helpers the readers and writers share (torch-free).
#include <cstdint>
#include <string>
#include <vector>

namespace ptq {

inline bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A tensor shape as error messages show it: "[4, 128]".
inline std::string shape_text(const std::vector<int64_t>& dims) {
  std::string r = "[";
  for (size_t i = 0; i < dims.size(); ++i) r += (i ? ", " : "") + std::to_string(dims[i]);
  return r + "]";
}

}  // namespace ptq
