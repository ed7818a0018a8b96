#pragma once
// Which spec each linear layer gets: the run's default (bits, group, format, sym) with
// per-layer overrides by name pattern (LLMC's mix_bits / ignored_layers), e.g.
// "*.down_proj" at 8 bits, "layers.0.*" skipped. Routers (MoE gates) are never quantized.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "quant/formats/act_spec.h"
#include "quant/formats/quant_spec.h"

namespace ptq {

struct LayerOverride {
  std::string pattern;  // glob over full names ("layers.3.mlp.down_proj"), * and ? wildcards
  std::optional<int> bits;
  std::optional<int64_t> group_size;
  std::optional<bool> skip;
};

struct QuantPlan {
  QuantSpec spec;
  ActQuantSpec act;                      // activations (bits 0 = full precision)
  std::vector<LayerOverride> overrides;  // later entries win

  // nullopt: leave the layer in full precision.
  std::optional<QuantSpec> spec_for(const std::string& full_name, const std::string& layer_type) const;
  // The activation spec of a layer's input: nullopt when activations are not quantized or the
  // layer stays in full precision (router, skipped by an override; lm_head is not a block layer).
  std::optional<ActQuantSpec> act_spec_for(const std::string& full_name, const std::string& layer_type) const;
  nlohmann::json to_json() const;
};

// "PATTERN=bits:8", "PATTERN=group:64", "PATTERN=skip" (comma-separated settings). The numbers
// must be whole ("bits:8junk" is an error) and the pattern a valid glob (check_glob).
LayerOverride parse_override(const std::string& s);
bool glob_match(const std::string& pattern, const std::string& name);
// Throws ptq::Error when `pattern` is not a valid glob: empty, an unclosed or empty [...] set, or
// a trailing backslash.
void check_glob(const std::string& pattern);
// Throws ptq::Error naming every override pattern of `plan` that matches none of `layer_names`
// (full names such as "layers.3.mlp.down_proj"), with an example name.
void check_overrides_match(const QuantPlan& plan, const std::vector<std::string>& layer_names);

}  // namespace ptq
