#include "core/io/hf_quant_config.h"

#include <cctype>
#include <cstdint>
#include <limits>
#include <regex>
#include <type_traits>

#include "core/runtime/errors.h"

namespace ptq {

namespace {

using nlohmann::json;

template <class T>
T get_key(const json& j, const char* key, const T& fallback, const std::string& where) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    // nlohmann's get<int>() truncates 4.5 to 4 and casts 1e300 with undefined behaviour: whole
    // numbers of T's range only (the seed float-bits.json of tests/fuzz/fuzz_hf_quant_config).
    const json& v = j[key];
    const bool fits = v.is_number_unsigned() ? v.get<uint64_t>() <= uint64_t(std::numeric_limits<T>::max())
                      : v.is_number_integer() ? v.get<int64_t>() >= int64_t(std::numeric_limits<T>::min()) &&
                                                    v.get<int64_t>() <= int64_t(std::numeric_limits<T>::max())
                                              : false;
    if (!fits)
      throw Error("'" + where + "': quantization_config." + key + " must be a whole number in [" +
                  std::to_string(std::numeric_limits<T>::min()) + ", " + std::to_string(std::numeric_limits<T>::max()) +
                  "] (got " + v.dump() + ")");
    return T(v.is_number_unsigned() ? int64_t(v.get<uint64_t>()) : v.get<int64_t>());
  }
  try {
    return j[key].get<T>();
  } catch (const json::exception&) {
    throw Error("'" + where + "': quantization_config." + key + " has the wrong type (" + j[key].dump() + ")");
  }
}

std::string lower(std::string s) {
  for (auto& ch : s) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

void check_bits(int bits, const std::vector<int>& allowed, const std::string& what, const std::string& where) {
  for (int b : allowed)
    if (b == bits) return;
  std::string list;
  for (int b : allowed) list += (list.empty() ? "" : ", ") + std::to_string(b);
  throw Error("'" + where + "': " + what + " bits " + std::to_string(bits) + " is not supported (allowed: " + list + ")");
}

HfWeightScheme gptq_scheme(const json& qc, const std::string& where) {
  HfWeightScheme s;
  s.bits = get_key<int>(qc, "bits", 4, where);
  check_bits(s.bits, {2, 3, 4, 8}, "gptq", where);  // AutoGPTQ QuantLinear: "Only 2,3,4,8 bits are supported."
  s.group_size = get_key<int64_t>(qc, "group_size", 128, where);
  s.symmetric = get_key<bool>(qc, "sym", true, where);
  s.actorder = get_key<bool>(qc, "desc_act", false, where);
  return s;
}

HfWeightScheme awq_scheme(const json& qc, const std::string& where) {
  HfWeightScheme s;
  s.bits = get_key<int>(qc, "bits", get_key<int>(qc, "w_bit", 4, where), where);
  check_bits(s.bits, {4}, "awq", where);  // WQLinear_GEMM: "Only 4-bit are supported for now."
  s.group_size = get_key<int64_t>(qc, "group_size", get_key<int64_t>(qc, "q_group_size", 128, where), where);
  s.symmetric = !get_key<bool>(qc, "zero_point", true, where);
  const std::string version = lower(get_key<std::string>(qc, "version", "gemm", where));
  if (version != "gemm")
    throw Error("'" + where + "': awq version '" + version + "' is not supported (allowed: gemm)");
  return s;
}

// compressed_tensors QuantizationArgs of a group's weights.
HfWeightScheme ct_weight_scheme(const json& w, const std::string& where) {
  HfWeightScheme s;
  s.bits = get_key<int>(w, "num_bits", 8, where);
  const std::string type = get_key<std::string>(w, "type", "int", where);
  if (type != "int" && type != "float")
    throw Error("'" + where + "': compressed-tensors weights type '" + type + "' is not supported (allowed: int, float)");
  s.is_float = type == "float";
  if (s.is_float && s.bits != 8) throw Error("'" + where + "': compressed-tensors float weights need num_bits 8 (FP8 E4M3)");
  if (!s.is_float) check_bits(s.bits, {2, 4, 8}, "compressed-tensors int weights", where);
  s.symmetric = get_key<bool>(w, "symmetric", true, where);
  const std::string strategy = get_key<std::string>(w, "strategy", "tensor", where);
  if (strategy == "group") {
    s.group_size = get_key<int64_t>(w, "group_size", 0, where);
    if (s.group_size <= 0) throw Error("'" + where + "': compressed-tensors strategy group needs a positive group_size");
  } else if (strategy == "channel") {
    s.group_size = -1;
  } else if (strategy == "tensor") {
    s.group_size = -1, s.tensor_scale = true;
  } else {
    throw Error("'" + where + "': compressed-tensors weights strategy '" + strategy +
                "' is not supported (allowed: tensor, channel, group)");
  }
  const json ao = w.contains("actorder") ? w["actorder"] : json();
  s.actorder = ao.is_string() || (ao.is_boolean() && ao.get<bool>());
  return s;
}

void read_ct(const json& qc, const std::string& where, HfQuantConfig& c) {
  c.format = get_key<std::string>(qc, "format", "", where);
  static const char* kFormats[] = {"pack-quantized", "int-quantized", "float-quantized", "naive-quantized"};
  bool known = false;
  for (const char* f : kFormats) known = known || c.format == f;
  if (!known)
    throw Error("'" + where + "': compressed-tensors format '" + c.format +
                "' is not supported (allowed: pack-quantized, int-quantized, float-quantized, naive-quantized)");
  if (!qc.contains("config_groups") || !qc["config_groups"].is_object() || qc["config_groups"].empty())
    throw Error("'" + where + "': compressed-tensors quantization_config has no config_groups");
  for (auto it = qc["config_groups"].begin(); it != qc["config_groups"].end(); ++it) {
    HfCtGroup g;
    g.name = it.key();
    g.targets = get_key<std::vector<std::string>>(*it, "targets", {}, where);
    if (!it->contains("weights") || (*it)["weights"].is_null())
      throw Error("'" + where + "': config group '" + g.name + "' quantizes no weights (activation-only is not supported)");
    g.weights = ct_weight_scheme((*it)["weights"], where);
    if (c.format == "pack-quantized" && g.weights.is_float)
      throw Error("'" + where + "': config group '" + g.name + "' has float weights in format pack-quantized");
    g.input_activations = it->value("input_activations", json());
    c.groups.push_back(g);
  }
  c.ignore = get_key<std::vector<std::string>>(qc, "ignore", {}, where);
}

}  // namespace

std::string hf_quant_method_name(HfQuantMethod m) {
  return m == HfQuantMethod::Gptq ? "gptq" : m == HfQuantMethod::Awq ? "awq" : "compressed-tensors";
}

HfQuantConfig parse_hf_quant_config(const json& qc, const std::string& where) {
  if (!qc.is_object()) throw Error("'" + where + "': quantization_config is not an object");
  HfQuantConfig c;
  c.raw = qc;
  const std::string method = lower(get_key<std::string>(qc, "quant_method", "", where));
  if (method == "gptq") {
    c.method = HfQuantMethod::Gptq;
    c.format = get_key<std::string>(qc, "checkpoint_format", "", where);
    if (!c.format.empty() && c.format != "gptq" && c.format != "gptq_v2")
      throw Error("'" + where + "': gptq checkpoint_format '" + c.format + "' is not supported (allowed: gptq, gptq_v2)");
    c.weights = gptq_scheme(qc, where);
  } else if (method == "awq") {
    c.method = HfQuantMethod::Awq;
    c.format = "gemm";
    c.weights = awq_scheme(qc, where);
    c.ignore = get_key<std::vector<std::string>>(qc, "modules_to_not_convert", {}, where);
  } else if (method == "compressed-tensors") {
    c.method = HfQuantMethod::CompressedTensors;
    read_ct(qc, where, c);
  } else {
    throw Error("'" + where + "': quantization_config.quant_method '" + method +
                "' is not supported (allowed: gptq, awq, compressed-tensors)");
  }
  if (c.method != HfQuantMethod::CompressedTensors && c.weights.group_size != -1 && c.weights.group_size <= 0)
    throw Error("'" + where + "': group_size " + std::to_string(c.weights.group_size) + " must be -1 or positive");
  return c;
}

bool ct_target_matches(const std::string& target, const std::string& module) {
  if (target == "Linear") return true;
  if (target.rfind("re:", 0) == 0) {
    try {
      return std::regex_search(module, std::regex(target.substr(3)), std::regex_constants::match_continuous);
    } catch (const std::regex_error&) {
      throw Error("compressed-tensors target '" + target + "' is not a valid regular expression");
    }
  }
  return target == module;
}

const HfWeightScheme* hf_scheme_for(const HfQuantConfig& c, const std::string& module) {
  for (const auto& ig : c.ignore) {
    if (c.method == HfQuantMethod::CompressedTensors ? ct_target_matches(ig, module)
                                                     : module.find(ig) != std::string::npos)  // awq: substring
      return nullptr;
  }
  if (c.method != HfQuantMethod::CompressedTensors) return &c.weights;
  for (const auto& g : c.groups)
    for (const auto& t : g.targets)
      if (ct_target_matches(t, module)) return &g.weights;
  return nullptr;
}

}  // namespace ptq
