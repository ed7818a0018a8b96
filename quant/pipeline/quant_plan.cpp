#include "quant/pipeline/quant_plan.h"

#include <fnmatch.h>

#include "core/runtime/errors.h"

namespace ptq {

bool glob_match(const std::string& pattern, const std::string& name) {
  return ::fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
}

void check_glob(const std::string& pattern) {
  auto bad = [&](const std::string& why) { throw Error("invalid layer pattern '" + pattern + "': " + why); };
  if (pattern.empty()) bad("it is empty");
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\') {
      if (i + 1 == pattern.size()) bad("it ends in a backslash");
      ++i;
    } else if (c == '[') {
      size_t j = i + 1;
      if (j < pattern.size() && (pattern[j] == '!' || pattern[j] == '^')) ++j;
      if (j < pattern.size() && pattern[j] == ']') ++j;  // a leading ']' is a member
      while (j < pattern.size() && pattern[j] != ']') ++j;
      if (j >= pattern.size()) bad("the set opened at position " + std::to_string(i) + " has no closing ']'");
      i = j;
    } else if (c == ']') {
      bad("']' at position " + std::to_string(i) + " closes no set");
    }
  }
}

void check_overrides_match(const QuantPlan& plan, const std::vector<std::string>& layer_names) {
  std::string unmatched;
  for (const auto& o : plan.overrides) {
    bool any = false;
    for (const auto& n : layer_names) any = any || glob_match(o.pattern, n);
    if (!any) unmatched += (unmatched.empty() ? "'" : ", '") + o.pattern + "'";
  }
  if (unmatched.empty()) return;
  throw Error("override pattern " + unmatched + " matches no linear layer of the model (names look like '" +
              (layer_names.empty() ? std::string("layers.0.mlp.down_proj") : layer_names.back()) + "')");
}

namespace {

// A whole decimal integer: "8" yes, "8junk", "", " 8", "+8" no.
int64_t whole_number(const std::string& text, const std::string& item) {
  if (text.empty() || text.size() > 12 || text.find_first_not_of("-0123456789") != std::string::npos ||
      text.find('-', 1) != std::string::npos || text == "-")
    throw Error("'" + item + "' needs a whole number");
  return std::stoll(text);
}

}  // namespace

std::optional<QuantSpec> QuantPlan::spec_for(const std::string& full_name, const std::string& layer_type) const {
  if (layer_type == "router") return std::nullopt;
  QuantSpec s = spec;
  bool skip = false;
  for (const auto& o : overrides) {
    if (!glob_match(o.pattern, full_name)) continue;
    if (o.bits) s.bits = *o.bits;
    if (o.group_size) s.group_size = *o.group_size;
    if (o.skip) skip = *o.skip;
  }
  if (skip) return std::nullopt;
  return s;
}

std::optional<ActQuantSpec> QuantPlan::act_spec_for(const std::string& full_name, const std::string& layer_type) const {
  if (!act.enabled() || !spec_for(full_name, layer_type)) return std::nullopt;
  return act;
}

nlohmann::json QuantPlan::to_json() const {
  nlohmann::json ov = nlohmann::json::array();
  for (const auto& o : overrides) {
    nlohmann::json j = {{"pattern", o.pattern}};
    if (o.bits) j["bits"] = *o.bits;
    if (o.group_size) j["group"] = *o.group_size;
    if (o.skip) j["skip"] = *o.skip;
    ov.push_back(j);
  }
  nlohmann::json j = {{"bits", spec.bits},       {"group", spec.group_size},
                      {"sym", spec.symmetric},   {"format", format_name(spec.format)},
                      {"clip_ratio", spec.clip_ratio}, {"overrides", ov}};
  if (spec.absmax_sym) j["sym_style"] = "absmax";                      // only when set
  const nlohmann::json a = act.to_json();  // act_* keys, only when enabled (a named json: items() keeps a reference)
  for (auto& kv : a.items()) j[kv.key()] = kv.value();
  return j;
}

LayerOverride parse_override(const std::string& s) {
  auto eq = s.find('=');
  if (eq == std::string::npos || eq == 0)
    throw Error("bad override '" + s + "': expected PATTERN=bits:N, PATTERN=group:G or PATTERN=skip");
  LayerOverride o;
  o.pattern = s.substr(0, eq);
  try {
    check_glob(o.pattern);
  } catch (const Error& e) {
    throw Error("bad override '" + s + "': " + e.what());
  }
  std::string rest = s.substr(eq + 1);
  size_t start = 0;
  while (start <= rest.size()) {
    size_t comma = rest.find(',', start);
    std::string item = rest.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    try {
      if (item == "skip") {
        o.skip = true;
      } else if (item.rfind("bits:", 0) == 0) {
        const int64_t b = whole_number(item.substr(5), item);
        if (b < 2 || b > 8) throw Error("bits must be in 2..8, got " + std::to_string(b));
        o.bits = int(b);
      } else if (item.rfind("group:", 0) == 0) {
        const int64_t g = whole_number(item.substr(6), item);
        if (g == 0 || g < -1) throw Error("group must be -1 (per channel) or positive, got " + std::to_string(g));
        o.group_size = g;
      } else {
        throw Error("unknown setting '" + item + "' (use bits:N, group:G or skip)");
      }
    } catch (const Error& e) {
      throw Error("bad override '" + s + "': " + e.what());
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return o;
}

}  // namespace ptq
