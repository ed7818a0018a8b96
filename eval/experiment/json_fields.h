#pragma once
// Reading user-written JSON objects (experiment and sweep specs) so that every error names the
// object, the key and what is allowed: unknown keys, wrong types, values out of a set.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace ptq {

class JsonFields {
 public:
  // `where` names the object in errors ("experiment spec", "sweep spec 'calibration[1]'").
  // Throws ptq::Error when j is not an object or has a key outside `allowed` (listing them).
  JsonFields(const nlohmann::json& j, std::string where, const std::vector<std::string>& allowed);

  bool has(const std::string& key) const;  // present and not null
  const nlohmann::json& raw(const std::string& key) const;
  std::string str(const std::string& key, const std::string& def) const;
  // An integer in [lo, hi] (def when absent). Floats with a fractional part, numbers too large for
  // 64 bits and values outside the range are errors naming the key and the range.
  int64_t integer(const std::string& key, int64_t def, int64_t lo, int64_t hi) const;
  double number(const std::string& key, double def) const;
  bool boolean(const std::string& key, bool def) const;
  // A string or an array of strings.
  std::vector<std::string> strings(const std::string& key) const;
  // A string that must be one of `choices`.
  std::string choice(const std::string& key, const std::string& def, const std::vector<std::string>& choices) const;

  [[noreturn]] void fail(const std::string& key, const std::string& problem) const;
  const std::string& where() const { return where_; }

 private:
  const nlohmann::json& j_;
  std::string where_;
};

// `v` as an integer in [lo, hi]; nullopt when it is not an integer (2.0 counts as one) or is
// outside the range. Never wraps: 4294967300 is not 4.
std::optional<int64_t> json_integer_in(const nlohmann::json& v, int64_t lo, int64_t hi);
// "an integer in LO..HI".
std::string integer_range_text(int64_t lo, int64_t hi);

std::string join_words(const std::vector<std::string>& v, const std::string& sep = ", ");

// Paths in spec files: `p` made absolute against base_dir (itself made absolute against the
// working directory); "" stays "". parent_dir("a/b.json") = "a", parent_dir("b.json") = ".".
std::string resolve_path(const std::string& p, const std::string& base_dir);
std::string parent_dir(const std::string& path);

}  // namespace ptq
