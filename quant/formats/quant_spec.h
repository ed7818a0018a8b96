#pragma once
// The plain data of a weight quantization setting: format names and QuantSpec (bits, group,
// symmetry, format, clip ratio). Torch-free: the GUI and the spec parsers use it; the element
// quantizers themselves are in quant/formats/quantizer.h.
#include <cstdint>
#include <string>
#include <vector>

namespace ptq {

enum class WeightFormat { Int, NF4, FP4, FP8_E4M3, FP8_E5M2 };

// "int", "nf4", "fp4", "fp8_e4m3", "fp8_e5m2"; parse_format throws ptq::Error listing them.
std::string format_name(WeightFormat f);
WeightFormat parse_format(const std::string& name);

struct QuantSpec {
  int bits = 4;              // 2..8 for Int; ignored for NF4/FP4 (4), FP8 (8): element_bits()
  int64_t group_size = 128;  // -1 = per output channel (one group spanning all inputs)
  bool symmetric = false;    // Int only; codebook formats are symmetric by construction
  WeightFormat format = WeightFormat::Int;
  double clip_ratio = 1.0;   // shrink of the min/max (or absmax) range, in (0, 1]

  // Bits per stored element: `bits` for Int, 4 for NF4/FP4, 8 for FP8.
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

}  // namespace ptq
