#pragma once
// Typed, range-checked reads of config.json keys, shared by the per-family parsers
// (model_config.cpp, model_config_deepseek.cpp, model_config_mamba.cpp). Torch-free.
#include <cmath>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/runtime/errors.h"

namespace ptq {

// Typed reads of config.json keys; every failure names the file, the key, the value and the range.
struct ConfigReader {
  const nlohmann::json& j;
  const std::string& source;
  std::string prefix = "";  // "rope_scaling." for keys of a nested object

  [[noreturn]] void fail(const std::string& key, const nlohmann::json& v, const std::string& want) const {
    throw Error(source + ": '" + prefix + key + "' is " + v.dump() + ", expected " + want);
  }
  const nlohmann::json* find(const char* key) const {
    auto it = j.find(key);
    return it == j.end() || it->is_null() ? nullptr : &*it;
  }
  int64_t integer(const char* key, int64_t def, int64_t lo, int64_t hi, bool required = false) const {
    const nlohmann::json* v = find(key);
    const std::string want = "an integer from " + std::to_string(lo) + " to " + std::to_string(hi);
    if (!v) {
      if (required) throw Error(source + ": '" + prefix + key + "' is missing (" + want + ")");
      return def;
    }
    if (!v->is_number_integer()) fail(key, *v, want);
    if (v->is_number_unsigned() && v->get<uint64_t>() > uint64_t(hi)) fail(key, *v, want);
    const int64_t x = v->get<int64_t>();
    if (x < lo || x > hi) fail(key, *v, want);
    return x;
  }
  double real(const char* key, double def, double lo, bool lo_open, double hi = 1e300) const {
    const nlohmann::json* v = find(key);
    if (!v) return def;
    std::string want = std::string("a finite number ") + (lo_open ? "> " : ">= ") + nlohmann::json(lo).dump();
    if (hi < 1e300) want += " and <= " + nlohmann::json(hi).dump();
    if (!v->is_number()) fail(key, *v, want);
    const double x = v->get<double>();
    if (!std::isfinite(x) || x < lo || (lo_open && x == lo) || x > hi) fail(key, *v, want);
    return x;
  }
  bool boolean(const char* key, bool def) const {
    const nlohmann::json* v = find(key);
    if (!v) return def;
    if (!v->is_boolean()) fail(key, *v, "true or false");
    return v->get<bool>();
  }
  std::string string(const char* key, const std::string& def) const {
    const nlohmann::json* v = find(key);
    if (!v) return def;
    if (!v->is_string()) fail(key, *v, "a string");
    return v->get<std::string>();
  }
};

}  // namespace ptq
