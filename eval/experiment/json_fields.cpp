#include "eval/experiment/json_fields.h"

#include <limits.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/runtime/errors.h"

namespace ptq {

std::string join_words(const std::vector<std::string>& v, const std::string& sep) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + v[i];
  return s;
}

std::string resolve_path(const std::string& p, const std::string& base_dir) {
  if (p.empty() || p[0] == '/') return p;
  std::string base = base_dir.empty() ? "." : base_dir;
  if (base[0] != '/') {
    char cwd[PATH_MAX];
    if (::getcwd(cwd, sizeof cwd)) base = base == "." ? std::string(cwd) : std::string(cwd) + "/" + base;
  }
  while (base.size() > 2 && base.compare(base.size() - 2, 2, "/.") == 0) base.resize(base.size() - 2);
  std::string rel = p;
  while (rel.rfind("./", 0) == 0) rel = rel.substr(2);
  return base.back() == '/' ? base + rel : base + "/" + rel;
}

std::string parent_dir(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

JsonFields::JsonFields(const nlohmann::json& j, std::string where, const std::vector<std::string>& allowed)
    : j_(j), where_(std::move(where)) {
  if (!j.is_object()) throw Error(where_ + " must be a JSON object, got " + j.dump().substr(0, 80));
  for (auto it = j.begin(); it != j.end(); ++it)
    if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end())
      throw Error(where_ + ": unknown key '" + it.key() + "' (allowed: " + join_words(allowed) + ")");
}

void JsonFields::fail(const std::string& key, const std::string& problem) const {
  throw Error(where_ + ": '" + key + "' " + problem);
}

bool JsonFields::has(const std::string& key) const { return j_.contains(key) && !j_[key].is_null(); }

const nlohmann::json& JsonFields::raw(const std::string& key) const {
  static const nlohmann::json null;
  return j_.contains(key) ? j_[key] : null;
}

std::string JsonFields::str(const std::string& key, const std::string& def) const {
  if (!has(key)) return def;
  if (!j_[key].is_string()) fail(key, "must be a string, got " + j_[key].dump());
  return j_[key].get<std::string>();
}

std::optional<int64_t> json_integer_in(const nlohmann::json& v, int64_t lo, int64_t hi) {
  int64_t r = 0;
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u > uint64_t(std::numeric_limits<int64_t>::max())) return std::nullopt;
    r = int64_t(u);
  } else if (v.is_number_integer()) {
    r = v.get<int64_t>();
  } else if (v.is_number_float()) {
    const double d = v.get<double>();
    // Exactly representable integers only: |d| < 2^63 and no fractional part.
    if (!(std::fabs(d) < 9.2233720368547758e18) || d != std::floor(d)) return std::nullopt;
    r = int64_t(d);
  } else {
    return std::nullopt;
  }
  if (r < lo || r > hi) return std::nullopt;
  return r;
}

std::string integer_range_text(int64_t lo, int64_t hi) {
  return "an integer in " + std::to_string(lo) + ".." + std::to_string(hi);
}

int64_t JsonFields::integer(const std::string& key, int64_t def, int64_t lo, int64_t hi) const {
  if (!has(key)) return def;
  const auto r = json_integer_in(j_[key], lo, hi);
  if (!r) fail(key, "must be " + integer_range_text(lo, hi) + ", got " + j_[key].dump());
  return *r;
}

double JsonFields::number(const std::string& key, double def) const {
  if (!has(key)) return def;
  if (!j_[key].is_number()) fail(key, "must be a number, got " + j_[key].dump());
  return j_[key].get<double>();
}

bool JsonFields::boolean(const std::string& key, bool def) const {
  if (!has(key)) return def;
  if (!j_[key].is_boolean()) fail(key, "must be true or false, got " + j_[key].dump());
  return j_[key].get<bool>();
}

std::vector<std::string> JsonFields::strings(const std::string& key) const {
  std::vector<std::string> out;
  if (!has(key)) return out;
  const auto& v = j_[key];
  if (v.is_string()) return {v.get<std::string>()};
  if (!v.is_array()) fail(key, "must be a string or an array of strings, got " + v.dump());
  for (const auto& e : v) {
    if (!e.is_string()) fail(key, "must hold strings, got " + e.dump());
    out.push_back(e.get<std::string>());
  }
  return out;
}

std::string JsonFields::choice(const std::string& key, const std::string& def,
                               const std::vector<std::string>& choices) const {
  std::string s = str(key, def);
  if (std::find(choices.begin(), choices.end(), s) == choices.end())
    fail(key, "has unknown value '" + s + "' (allowed: " + join_words(choices) + ")");
  return s;
}

}  // namespace ptq
