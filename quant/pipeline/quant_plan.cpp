#include "quant/pipeline/quant_plan.h"

#include <fnmatch.h>

#include "core/runtime/errors.h"

namespace ptq {

bool glob_match(const std::string& pattern, const std::string& name) {
  return ::fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
}

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

nlohmann::json QuantPlan::to_json() const {
  nlohmann::json ov = nlohmann::json::array();
  for (const auto& o : overrides) {
    nlohmann::json j = {{"pattern", o.pattern}};
    if (o.bits) j["bits"] = *o.bits;
    if (o.group_size) j["group"] = *o.group_size;
    if (o.skip) j["skip"] = *o.skip;
    ov.push_back(j);
  }
  return {{"bits", spec.bits}, {"group", spec.group_size}, {"sym", spec.symmetric},
          {"format", format_name(spec.format)}, {"clip_ratio", spec.clip_ratio}, {"overrides", ov}};
}

LayerOverride parse_override(const std::string& s) {
  auto eq = s.find('=');
  if (eq == std::string::npos || eq == 0)
    throw Error("bad override '" + s + "': expected PATTERN=bits:N, PATTERN=group:G or PATTERN=skip");
  LayerOverride o;
  o.pattern = s.substr(0, eq);
  std::string rest = s.substr(eq + 1);
  size_t start = 0;
  while (start <= rest.size()) {
    size_t comma = rest.find(',', start);
    std::string item = rest.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    try {
      if (item == "skip") {
        o.skip = true;
      } else if (item.rfind("bits:", 0) == 0) {
        o.bits = std::stoi(item.substr(5));
        if (*o.bits < 2 || *o.bits > 8) throw Error("bits must be in 2..8, got " + std::to_string(*o.bits));
      } else if (item.rfind("group:", 0) == 0) {
        o.group_size = std::stoll(item.substr(6));
      } else {
        throw Error("unknown setting '" + item + "' (use bits:N, group:G or skip)");
      }
    } catch (const Error& e) {
      throw Error("bad override '" + s + "': " + e.what());
    } catch (const std::exception&) {
      throw Error("bad override '" + s + "': '" + item + "' needs a number");
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return o;
}

}  // namespace ptq
