#pragma once
// The `quantization_config` of a Hugging Face config.json for the formats the workbench reads and
// writes: GPTQ (transformers GPTQConfig: quant_method "gptq", bits, group_size, desc_act, sym,
// checkpoint_format "gptq" | "gptq_v2"), AWQ GEMM (AwqConfig: quant_method "awq", bits 4,
// group_size, zero_point, version "gemm") and compressed-tensors (CompressedTensorsConfig /
// compressed_tensors QuantizationConfig: format, config_groups {name: {targets, weights,
// input_activations}}, ignore, kv_cache_scheme). Torch-free.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ptq {

enum class HfQuantMethod { Gptq, Awq, CompressedTensors };

// One weight quantization scheme (compressed_tensors QuantizationArgs for weights).
struct HfWeightScheme {
  int bits = 4;
  int64_t group_size = 128;  // -1: per output channel (GPTQ group_size -1, CT strategy "channel")
  bool symmetric = true;
  bool is_float = false;     // CT type "float" (FP8 E4M3 weights)
  bool tensor_scale = false; // CT strategy "tensor": one scale for the whole weight
  bool actorder = false;     // GPTQ desc_act / CT actorder: g_idx is stored and may be permuted
};

struct HfCtGroup {
  std::string name;
  std::vector<std::string> targets;  // "Linear", exact module names, or "re:<regex>"
  HfWeightScheme weights;
  nlohmann::json input_activations;  // null when weight-only
};

struct HfQuantConfig {
  HfQuantMethod method = HfQuantMethod::Gptq;
  // gptq: checkpoint_format as written ("" when absent); awq: "gemm"; compressed-tensors: its
  // `format` ("pack-quantized", "int-quantized", "float-quantized", "naive-quantized").
  std::string format;
  HfWeightScheme weights;            // gptq / awq: the one scheme
  std::vector<HfCtGroup> groups;     // compressed-tensors
  std::vector<std::string> ignore;   // compressed-tensors ignore / awq modules_to_not_convert
  nlohmann::json raw;
};

// Throws ptq::Error naming `where` (the config.json path) and the key: unknown quant_method (the
// three known ones listed), a bits / group / format the reader does not support.
HfQuantConfig parse_hf_quant_config(const nlohmann::json& qc, const std::string& where);

// compressed_tensors' match: "re:" patterns with Python re.match semantics (anchored at the start),
// else exact module name or the class name "Linear" (every linear module).
bool ct_target_matches(const std::string& target, const std::string& module);
// The weight scheme that applies to `module` ("model.layers.0.mlp.down_proj"): GPTQ/AWQ the one
// scheme unless ignored; compressed-tensors the first config group whose targets match. nullptr
// when the module stays in full precision.
const HfWeightScheme* hf_scheme_for(const HfQuantConfig& c, const std::string& module);

// The method name as config.json spells it ("gptq", "awq", "compressed-tensors").
std::string hf_quant_method_name(HfQuantMethod m);

}  // namespace ptq
