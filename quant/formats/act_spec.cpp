#include "quant/formats/act_spec.h"

#include <cmath>
#include <cstdlib>

#include "core/runtime/errors.h"

namespace ptq {

namespace {

bool is_fp8(WeightFormat f) {
  return f == WeightFormat::FP8_E4M3 || f == WeightFormat::FP8_E5M2 || f == WeightFormat::MXFP8;
}
bool is_fp4(WeightFormat f) {
  return f == WeightFormat::FP4 || f == WeightFormat::MXFP4 || f == WeightFormat::NVFP4;
}

std::string short_format(WeightFormat f) {
  switch (f) {
    case WeightFormat::FP8_E4M3: return "fp8";
    case WeightFormat::FP8_E5M2: return "fp8e5m2";
    default: return format_name(f);
  }
}

std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

const std::vector<std::string>& act_format_names() {
  static const std::vector<std::string> n = {"int", "fp8_e4m3", "fp8_e5m2", "fp4", "mxfp4", "mxfp8", "nvfp4"};
  return n;
}

const std::vector<std::string>& act_granularity_names() {
  static const std::vector<std::string> n = {"tensor", "token", "group"};
  return n;
}

std::string act_granularity_name(ActGranularity g) {
  switch (g) {
    case ActGranularity::Tensor: return "tensor";
    case ActGranularity::Token: return "token";
    case ActGranularity::Group: return "group";
  }
  return "?";
}

ActGranularity parse_act_granularity(const std::string& s) {
  if (s == "tensor") return ActGranularity::Tensor;
  if (s == "token") return ActGranularity::Token;
  if (s == "group") return ActGranularity::Group;
  throw Error("unknown activation granularity '" + s + "' (allowed: tensor, token, group)");
}

void parse_act_static(const std::string& s, ActQuantSpec& spec) {
  if (s.empty() || s == "dynamic") {
    spec.calibration = ActCalibration::Dynamic;
  } else if (s == "absmax") {
    spec.calibration = ActCalibration::Absmax;
  } else if (s == "mse") {
    spec.calibration = ActCalibration::Mse;
  } else if (s.rfind("percentile:", 0) == 0) {
    const std::string num = s.substr(11);
    char* end = nullptr;
    const double p = num.empty() ? NAN : std::strtod(num.c_str(), &end);
    if (!(end && *end == '\0' && p > 0 && p <= 100))
      throw Error("activation static calibration '" + s + "': the percentile must be a number in (0, 100]");
    spec.calibration = ActCalibration::Percentile;
    spec.percentile = p;
  } else {
    throw Error("unknown activation static calibration '" + s + "' (allowed: absmax, percentile:P, mse)");
  }
}

std::string act_static_name(const ActQuantSpec& s) {
  switch (s.calibration) {
    case ActCalibration::Dynamic: return "dynamic";
    case ActCalibration::Absmax: return "absmax";
    case ActCalibration::Percentile: return "percentile:" + number_text(s.percentile);
    case ActCalibration::Mse: return "mse";
  }
  return "?";
}

void ActQuantSpec::validate() const {
  if (!enabled()) return;
  const std::string f = format_name(format);
  if (format == WeightFormat::NF4)
    throw Error("act_format 'nf4' is a weight-only codebook (allowed: int, fp8_e4m3, fp8_e5m2, fp4, mxfp4, mxfp8, nvfp4)");
  if (format == WeightFormat::Int && (bits < 2 || bits > 8))
    throw Error("act_bits must be in 2..8 for act_format int, got " + std::to_string(bits));
  if (is_fp8(format) && bits != 8) throw Error("act_bits must be 8 for act_format " + f + ", got " + std::to_string(bits));
  if (is_fp4(format) && bits != 4) throw Error("act_bits must be 4 for act_format " + f + ", got " + std::to_string(bits));
  if (granularity == ActGranularity::Group && group_size <= 0)
    throw Error("act_group must be a positive number of channels, got " + std::to_string(group_size));
  if (is_static() && granularity == ActGranularity::Token)
    throw Error("act_static '" + act_static_name(*this) +
                "' with act_granularity token: a token's scale comes from the token itself, so per-token scales "
                "are dynamic; use act_granularity tensor or group for static scales");
  if (is_static() && format_block_size(format) > 0)
    throw Error("act_static with act_format " + f + ": block formats compute their block scales dynamically");
  if (!(percentile > 0 && percentile <= 100)) throw Error("act percentile must be in (0, 100]");
}

int64_t ActQuantSpec::block_size() const {
  const int64_t b = format_block_size(format);
  if (b > 0) return b;
  return granularity == ActGranularity::Group ? group_size : 0;
}

void ActQuantSpec::validate_width(int64_t width, const std::string& layer) const {
  validate();
  const int64_t b = block_size();
  if (enabled() && b > 0 && width % b != 0)
    throw Error("layer " + layer + ": activation " + (format_block_size(format) > 0 ? "block" : "group") + " of " +
                std::to_string(b) + " channels (act_format " + format_name(format) + ") does not divide its input width " +
                std::to_string(width));
}

std::string ActQuantSpec::label() const {
  if (!enabled()) return "";
  std::string s = "a" + std::to_string(bits);
  if (granularity == ActGranularity::Group && format_block_size(format) == 0) s += "g" + std::to_string(group_size);
  if (format != WeightFormat::Int) s += "-" + short_format(format);
  if (granularity == ActGranularity::Tensor && format_block_size(format) == 0) s += "-pt";
  if (is_static()) s += "-static";
  return s;
}

nlohmann::json ActQuantSpec::to_json() const {
  if (!enabled()) return nlohmann::json::object();
  nlohmann::json j = {{"act_bits", bits},
                      {"act_format", format_name(format)},
                      {"act_granularity", act_granularity_name(granularity)},
                      {"act_static", act_static_name(*this)},
                      {"act_qkv_out", qkv_out}};
  if (granularity == ActGranularity::Group) j["act_group"] = group_size;
  return j;
}

}  // namespace ptq
