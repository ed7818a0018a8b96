#pragma once
// The one table of quantization strategies (like llama.cpp's QUANT_OPTIONS): id, label, family,
// description and a parameter schema with defaults and ranges. The GUI builds its forms from it,
// the CLI validates --param against it, and the pipeline resolves a method string such as
// "rotate+gptq" into its stages.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ptq {

struct ParamSpec {
  std::string name;
  std::string type;  // int | float | bool | choice
  nlohmann::json default_value;
  double min = 0, max = 0;            // for int and float
  std::vector<std::string> choices;   // for choice
  std::string help;
};

enum class StageKind {
  ModelTransform,  // whole-model, before calibration (rotation)
  BlockTransform,  // per block, on calibration data, before quantizing (AWQ scales)
  Quantizer,       // per block: sets the quantized weights (RTN, GPTQ, OmniQuant)
  LayerTransform,  // per layer, around the quantizer's rounding (QuIP's incoherence processing);
                   // alone, it brings its own rounding (QuIP: LDLQ)
};

struct StrategyInfo {
  std::string id, label, family, description;
  StageKind kind;
  std::vector<ParamSpec> params;
  bool needs_calibration = false;
  // The quantizer brings its own grouping (BiLLM binarizes in its own column blocks): the run's
  // bits and group size do not apply to it, so the plan's group is not checked against the
  // layers' widths (pipeline validate_request, sweep check_plan).
  bool own_grouping = false;
  nlohmann::json to_json() const;
};

const std::vector<StrategyInfo>& strategy_registry();
// The quantization settings every method shares beyond bits / group / format / sym (the spec's
// top-level keys, not "params"): sym_style and the activation keys act_bits (0 = full
// precision), act_format, act_granularity, act_group, act_static, act_qkv_out, and the KV cache's
// kv_bits (0 = full precision), kv_format, kv_granularity, kv_group, kv_residual. The GUI's forms
// are built from it like the strategies' schemas.
const std::vector<ParamSpec>& plan_param_schema();
const StrategyInfo& find_strategy(const std::string& id);  // throws listing the ids

// "awq+gptq" -> [awq, gptq]. Exactly one quantizer, last; transforms before it. A lone
// transform ("rotate", "awq") is completed with RTN. A layer transform (quip) comes last or just
// before a quantizer it can wrap (gptq, rtn); alone it is the quantizing stage ("quip" -> [quip]).
// Throws ptq::Error on bad compositions.
std::vector<const StrategyInfo*> parse_method(const std::string& method);

// Defaults merged with the user's values; an unknown key, a wrong type or a value out of range
// is an error naming the key and what is allowed. `user` maps "stage.key" or plain "key"
// (plain keys go to every stage that has them).
nlohmann::json resolve_params(const std::vector<const StrategyInfo*>& stages, const nlohmann::json& user);

// Parses "key=value" (value as JSON when it parses, else as a string).
void parse_param_assignment(const std::string& kv, nlohmann::json& into);

}  // namespace ptq
