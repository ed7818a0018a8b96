#pragma once
// The plain data of a weight quantization setting: format names and QuantSpec (bits, group,
// symmetry, format, clip ratio). Torch-free: the GUI and the spec parsers use it; the element
// quantizers themselves are in quant/formats/quantizer.h.
#include <cstdint>
#include <string>
#include <vector>

namespace ptq {

// MXFP4 / MXFP8: OCP MX blocks of 32 elements (E2M1 / E4M3) sharing an E8M0 power-of-two scale;
// NVFP4: blocks of 16 E2M1 elements with an FP8 E4M3 block scale under a per-tensor FP32 scale.
enum class WeightFormat { Int, NF4, FP4, FP8_E4M3, FP8_E5M2, MXFP4, MXFP8, NVFP4 };

// "int", "nf4", "fp4", "fp8_e4m3", "fp8_e5m2", "mxfp4", "mxfp8", "nvfp4"; parse_format throws ptq::Error listing them.
std::string format_name(WeightFormat f);
WeightFormat parse_format(const std::string& name);

struct QuantSpec {
  int bits = 4;              // 2..8 for Int; ignored for NF4/FP4 (4), FP8 (8): element_bits()
  int64_t group_size = 128;  // -1 = per output channel (one group spanning all inputs)
  bool symmetric = false;    // Int only; codebook formats are symmetric by construction
  // Int symmetric only: SmoothQuant's absmax convention (--sym-style absmax): scale =
  // max|w| / (2^(b-1) - 1), codes ±(2^(b-1) - 1) (smoothquant/fake_quant.py
  // quantize_weight_per_channel_absmax); false keeps gptq's scale = 2·max|w| / (2^b - 1).
  bool absmax_sym = false;
  WeightFormat format = WeightFormat::Int;
  double clip_ratio = 1.0;   // shrink of the min/max (or absmax) range, in (0, 1]

  // Bits per stored element: `bits` for Int, 4 for NF4/FP4/MXFP4/NVFP4, 8 for FP8/MXFP8.
  int element_bits() const;
  // Number of groups along the input dimension (1 when per-channel).
  int64_t n_groups(int64_t in_features) const;
  // Effective group size (in_features when per-channel).
  int64_t effective_group(int64_t in_features) const;
  // Throws ptq::Error. Decisions: group_size must be -1 or a positive divisor of
  // in_features (a ragged last group is an error, as in AWQ's pseudo_quantize_tensor);
  // per-channel is always valid; bits is checked only for the Int format.
  void validate(int64_t in_features) const;
};

// Every format name, in the order of WeightFormat.
const std::vector<std::string>& format_names();
// Block formats (MXFP4, MXFP8, NVFP4): their block size (32, 32, 16); 0 for the others.
int64_t format_block_size(WeightFormat f);

}  // namespace ptq
