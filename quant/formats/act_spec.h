#pragma once
// The plain data of an activation quantization setting (torch-free: ptq_spec). The fake
// quantizer itself is quant/formats/activation_quant.h; the pipeline installs it on the input of
// every quantized linear (quant/pipeline/act_install.h).
//
// Conventions (symmetric, as SmoothQuant and QuaRot):
//   INT b: scale = max|x| / (2^(b-1) - 1), codes clamp(round(x / scale), -(2^(b-1)-1), 2^(b-1)-1)
//          (mit-han-lab/smoothquant smoothquant/fake_quant.py quantize_activation_per_token_absmax;
//           spcl/QuaRot fake_quant/quant_utils.py ActQuantizer with sym=True).
//   FP8 / FP4: scale = max|x| / max_value(format), x / scale rounded to the format (RNE,
//          saturating, with subnormals): quant/formats/number_formats.h.
//   MXFP4 / MXFP8 / NVFP4: block formats with their own block scales; granularity is the block.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "quant/formats/quant_spec.h"

namespace ptq {

enum class ActGranularity { Tensor, Token, Group };
enum class ActCalibration { Dynamic, Absmax, Percentile, Mse };

struct ActQuantSpec {
  int bits = 0;                        // 0 = activations stay in full precision; else 2..8 (INT), 8/4 (FP)
  WeightFormat format = WeightFormat::Int;   // int, fp8_e4m3, fp8_e5m2, fp4, mxfp4, mxfp8, nvfp4
  ActGranularity granularity = ActGranularity::Token;
  int64_t group_size = 128;            // channels per group (granularity group only)
  ActCalibration calibration = ActCalibration::Dynamic;
  double percentile = 99.99;           // calibration percentile only, in (0, 100]
  bool qkv_out = false;                // also quantize the outputs of q/k/v projections (per token)

  bool enabled() const { return bits > 0; }
  bool is_static() const { return calibration != ActCalibration::Dynamic; }
  // Throws ptq::Error naming the key and the allowed values: bits in 2..8 for int, 8 for
  // fp8_*/mxfp8, 4 for fp4/mxfp4/nvfp4; nf4 is a weight-only codebook; static scales per token
  // make no sense (a token's scale is its own); group_size > 0.
  void validate() const;
  // As validate(), and the group / block size divides the layer's input width.
  void validate_width(int64_t width, const std::string& layer) const;
  // Effective channels per scale along the width: block size for mx/nv formats, group_size
  // for group granularity, 0 for tensor/token.
  int64_t block_size() const;
  // "a8", "a8-fp8", "a4-mxfp4", "a8g128", "a8-static" ... (the A part of w4a8g128)
  std::string label() const;
  // The act_* keys ({} when disabled): act_bits, act_format, act_granularity, act_group,
  // act_static ("absmax", "percentile:99.9", "mse"), act_qkv_out.
  nlohmann::json to_json() const;
};

const std::vector<std::string>& act_format_names();       // int fp8_e4m3 fp8_e5m2 fp4 mxfp4 mxfp8 nvfp4
const std::vector<std::string>& act_granularity_names();  // tensor token group
std::string act_granularity_name(ActGranularity g);
ActGranularity parse_act_granularity(const std::string& s);
// "" or "dynamic" -> Dynamic; "absmax", "mse", "percentile:P" (0 < P <= 100).
void parse_act_static(const std::string& s, ActQuantSpec& spec);
std::string act_static_name(const ActQuantSpec& spec);  // "dynamic", "absmax", "percentile:99.9", "mse"

}  // namespace ptq
