#pragma once
// Shared between the exporter's parts (quant/export/hf_export*.cpp).
#include <string>
#include <utility>
#include <vector>

#include "quant/export/hf_export.h"

namespace ptq::hf_export_detail {

// One linear layer of the model: its full workbench name and HF module name.
struct LinearRef {
  std::string full;    // "layers.3.mlp.down_proj"
  std::string module;  // "model.layers.3.mlp.down_proj"
  bool online_transform = false;
};
std::vector<LinearRef> model_linears(Model& m);

// The compressed-tensors format the run needs ("pack-quantized", "int-quantized", "float-quantized").
std::string ct_format_of(const HfExportInput& in);

// quantization_config for config.json (and quantize_config.json for GPTQ).
nlohmann::json quantization_config_of(const HfExportInput& in, HfExportFormat f);

// The stored tensors of one quantized layer under `module` ("model.layers.0.mlp.down_proj");
// FP8 tensors are uint8 and their names are added to `fp8_names`.
std::vector<std::pair<std::string, at::Tensor>> packed_layer_tensors(const HfExportInput& in, HfExportFormat f,
                                                                     const std::string& full, const std::string& module,
                                                                     std::vector<std::string>* fp8_names);

// Scales as stored: float16 when every value is exactly representable, else float32.
at::Tensor stored_scales(const at::Tensor& s);

}  // namespace ptq::hf_export_detail
