#pragma once
// Reading the quantized linears of a GPTQ / AWQ GEMM / compressed-tensors checkpoint back into
// the workbench's integer form (unsigned codes, float32 scales, integer zero points, g_idx) and
// dequantizing them with the workbench's own formula, scale · (code − zero) in float32
// (quant/formats/quantizer.cpp dequantize_codes), so a checkpoint written by quant/export
// dequantizes bitwise to the weights the workbench evaluated. Layouts: core/io/quantized_layouts.h.
#include <ATen/ATen.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/io/hf_quant_config.h"
#include "core/io/safetensors_header.h"

namespace ptq {

struct HfLinearForm {
  int bits = 4;
  int64_t group_size = 128;  // effective: in_features when per channel / per tensor
  at::Tensor codes;          // int32 [out, in], 0..2^bits-1 (int formats)
  at::Tensor values;         // float32 [out, in] element values (FP8 weights), else undefined
  at::Tensor scales;         // float32 [out, groups]
  at::Tensor zeros;          // float32 [out, groups] (int formats)
  at::Tensor g_idx;          // int64 [in], or undefined when the groups are consecutive
  at::Tensor dequantize() const;  // float32 [out, in]
};

// GPTQ zero points: v1 (AutoGPTQ, checkpoint_format "gptq") stores zero − 1, v2 stores the zero.
enum class GptqZeros { V1, V2 };

struct HfTensorSource {
  std::function<bool(const std::string&)> has;
  std::function<const TensorInfo&(const std::string&)> info;
  std::function<at::Tensor(const std::string&)> load;
};

struct HfQuantizedModule {
  std::vector<int64_t> shape;       // [out, in] of the dequantized weight
  std::vector<std::string> parts;   // the stored tensors it is made of
};

// The quantized modules ("model.layers.0.mlp.down_proj") of a checkpoint with tensors `names`,
// with their weight shapes, checked against the quantization_config (bits, group size: the scales'
// and zero points' shapes) from the headers alone. Throws ptq::Error naming tensor and setting.
std::map<std::string, HfQuantizedModule> hf_quantized_modules(const HfQuantConfig& c, const std::vector<std::string>& names,
                                                             const HfTensorSource& src, const std::string& where);

// GPTQ's zero convention: the label when the data agree; when the config is ambiguous (no
// checkpoint_format) or contradicted by a symmetric checkpoint's constant zero points (2^(b-1)−1
// is v1's, 2^(b-1) v2's), the data decide. `note` receives what was decided and why.
GptqZeros detect_gptq_zeros(const HfQuantConfig& c, const std::map<std::string, HfQuantizedModule>& modules,
                            const HfTensorSource& src, std::string* note);

// The integer form of one quantized module (full checks of every part's dtype and shape).
HfLinearForm read_hf_linear(const HfQuantConfig& c, const std::string& module, const HfQuantizedModule& m,
                            GptqZeros zeros, const HfTensorSource& src);

}  // namespace ptq
