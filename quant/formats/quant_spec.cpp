#include "quant/formats/quant_spec.h"

#include <algorithm>

#include "core/runtime/errors.h"

namespace ptq {

const std::vector<std::string>& format_names() {
  static const std::vector<std::string> names = {"int",      "nf4",   "fp4",   "fp8_e4m3",
                                                 "fp8_e5m2", "mxfp4", "mxfp8", "nvfp4"};
  return names;
}

std::string format_name(WeightFormat f) {
  switch (f) {
    case WeightFormat::Int: return "int";
    case WeightFormat::NF4: return "nf4";
    case WeightFormat::FP4: return "fp4";
    case WeightFormat::FP8_E4M3: return "fp8_e4m3";
    case WeightFormat::FP8_E5M2: return "fp8_e5m2";
    case WeightFormat::MXFP4: return "mxfp4";
    case WeightFormat::MXFP8: return "mxfp8";
    case WeightFormat::NVFP4: return "nvfp4";
  }
  return "?";
}

WeightFormat parse_format(const std::string& name) {
  std::string n = name;
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
  for (WeightFormat f : {WeightFormat::Int, WeightFormat::NF4, WeightFormat::FP4, WeightFormat::FP8_E4M3,
                         WeightFormat::FP8_E5M2, WeightFormat::MXFP4, WeightFormat::MXFP8, WeightFormat::NVFP4})
    if (n == format_name(f)) return f;
  throw Error("unknown weight format '" + name + "' (allowed: int, nf4, fp4, fp8_e4m3, fp8_e5m2, mxfp4, mxfp8, nvfp4)");
}

int QuantSpec::element_bits() const {
  switch (format) {
    case WeightFormat::Int: return bits;
    case WeightFormat::NF4:
    case WeightFormat::FP4:
    case WeightFormat::MXFP4:
    case WeightFormat::NVFP4: return 4;
    default: return 8;
  }
}

int64_t format_block_size(WeightFormat f) {
  switch (f) {
    case WeightFormat::MXFP4:
    case WeightFormat::MXFP8: return 32;
    case WeightFormat::NVFP4: return 16;
    default: return 0;
  }
}

int64_t QuantSpec::effective_group(int64_t in_features) const {
  return group_size > 0 ? group_size : in_features;
}

int64_t QuantSpec::n_groups(int64_t in_features) const {
  return group_size > 0 ? in_features / group_size : 1;
}

void QuantSpec::validate(int64_t in_features) const {
  if (format == WeightFormat::Int && (bits < 2 || bits > 8))
    throw Error("bits must be in 2..8, got " + std::to_string(bits));
  if (in_features <= 0)
    throw Error("in_features must be positive, got " + std::to_string(in_features));
  if (group_size == 0 || group_size < -1)
    throw Error("group_size must be -1 (per channel) or positive, got " +
                std::to_string(group_size));
  const int64_t block = format_block_size(format);
  if (block > 0 && group_size != block)
    throw Error("format " + format_name(format) + " quantizes blocks of " + std::to_string(block) +
                " elements: the group must be " + std::to_string(block) + ", got " + std::to_string(group_size));
  if (group_size > 0 && in_features % group_size != 0)
    throw Error("group_size " + std::to_string(group_size) + " does not divide in_features " +
                std::to_string(in_features));
  if (!(clip_ratio > 0.0 && clip_ratio <= 1.0))
    throw Error("clip_ratio must be in (0, 1], got " + std::to_string(clip_ratio));
}

}  // namespace ptq
