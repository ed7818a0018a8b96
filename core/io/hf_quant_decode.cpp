#include "core/io/hf_quant_decode.h"

#include "core/io/quantized_layouts.h"
#include "core/runtime/errors.h"
#include "core/runtime/text_util.h"

namespace ptq {

namespace {

int64_t n_groups(int64_t in, int64_t group) { return group <= 0 ? 1 : (in + group - 1) / group; }

const HfWeightScheme& scheme_of(const HfQuantConfig& c, const std::string& module, const std::string& where) {
  const HfWeightScheme* s = hf_scheme_for(c, module);
  if (!s)
    throw Error("'" + where + "': module '" + module + "' holds quantized tensors but quantization_config " +
                (c.method == HfQuantMethod::CompressedTensors ? "targets it with no config group (or ignores it)"
                                                              : "ignores it (modules_to_not_convert)"));
  return *s;
}

void expect_shape(const HfTensorSource& src, const std::string& name, const std::vector<int64_t>& want,
                  const std::string& why, const std::string& where) {
  if (!src.has(name)) throw Error("'" + where + "': tensor '" + name + "' is missing (" + why + ")");
  const auto& got = src.info(name).shape;
  if (got != want)
    throw Error("'" + where + "': tensor '" + name + "' has shape " + shape_text(got) + " but " + why + " implies " +
                shape_text(want));
}

void expect_dtype(const HfTensorSource& src, const std::string& name, const std::vector<std::string>& allowed,
                  const std::string& where) {
  const std::string& d = src.info(name).dtype;
  std::string list;
  for (const auto& a : allowed) {
    if (d == a) return;
    list += (list.empty() ? "" : ", ") + a;
  }
  throw Error("'" + where + "': tensor '" + name + "' is stored as " + d + " (expected " + list + ")");
}


std::string setting(const HfWeightScheme& s) {
  return "quantization_config bits " + std::to_string(s.bits) + ", group_size " + std::to_string(s.group_size);
}

// GPTQ: qweight [in·b/32, out], qzeros [groups, out·b/32], scales [groups, out], g_idx [in].
HfQuantizedModule index_gptq(const std::string& m, const HfWeightScheme& s, const HfTensorSource& src,
                             const std::string& where) {
  const auto& qw = src.info(m + ".qweight").shape;
  if (qw.size() != 2 || (qw[0] * 32) % s.bits != 0)
    throw Error("'" + where + "': tensor '" + m + ".qweight' has shape " + shape_text(qw) + ", not [in*" +
                std::to_string(s.bits) + "/32, out] for " + setting(s));
  const int64_t in = qw[0] * 32 / s.bits, out = qw[1], g = n_groups(in, s.group_size);
  expect_shape(src, m + ".scales", {g, out}, setting(s) + " over " + std::to_string(in) + " inputs", where);
  if (src.has(m + ".qzeros") || !s.symmetric)
    expect_shape(src, m + ".qzeros", {g, out * s.bits / 32}, setting(s), where);
  HfQuantizedModule r{{out, in}, {m + ".qweight", m + ".scales"}};
  for (const char* p : {".qzeros", ".g_idx"})
    if (src.has(m + p)) r.parts.push_back(m + p);
  return r;
}

// AWQ GEMM: qweight [in, out/8], qzeros [groups, out/8], scales [groups, out].
HfQuantizedModule index_awq(const std::string& m, const HfWeightScheme& s, const HfTensorSource& src,
                            const std::string& where) {
  const auto& qw = src.info(m + ".qweight").shape;
  if (qw.size() != 2) throw Error("'" + where + "': tensor '" + m + ".qweight' is not 2-D");
  const int64_t in = qw[0], out = qw[1] * 8, g = n_groups(in, s.group_size);
  expect_shape(src, m + ".scales", {g, out}, setting(s) + " over " + std::to_string(in) + " inputs", where);
  HfQuantizedModule r{{out, in}, {m + ".qweight", m + ".scales"}};
  if (src.has(m + ".qzeros") || !s.symmetric) {
    expect_shape(src, m + ".qzeros", {g, out / 8}, setting(s), where);
    r.parts.push_back(m + ".qzeros");
  }
  return r;
}

// compressed-tensors: weight_packed [out, ceil(in/pf)] + weight_shape, or weight [out, in]
// (int8 / FP8); weight_scale [out, groups] ([1] or [out, 1] per tensor / channel);
// weight_zero_point [ceil(out/pf), groups] packed (asymmetric pack-quantized) or [out, groups].
HfQuantizedModule index_ct(const std::string& m, const HfQuantConfig& c, const HfWeightScheme& s,
                           const HfTensorSource& src, const std::string& where) {
  std::vector<int64_t> shape;
  HfQuantizedModule r;
  if (c.format == "pack-quantized") {
    expect_dtype(src, m + ".weight_shape", {"I64", "I32"}, where);
    at::Tensor ws = src.load(m + ".weight_shape").to(at::kLong);
    if (ws.numel() != 2) throw Error("'" + where + "': tensor '" + m + ".weight_shape' must hold 2 values");
    shape = {ws[0].item<int64_t>(), ws[1].item<int64_t>()};
    const int64_t per = 32 / s.bits;
    expect_shape(src, m + ".weight_packed", {shape[0], (shape[1] + per - 1) / per},
                 setting(s) + " and weight_shape " + shape_text(shape), where);
    r.parts = {m + ".weight_packed", m + ".weight_shape"};
  } else {
    shape = src.info(m + ".weight").shape;
    if (shape.size() != 2) throw Error("'" + where + "': tensor '" + m + ".weight' is not 2-D");
    expect_dtype(src, m + ".weight", {s.is_float ? "F8_E4M3" : "I8"}, where);
    r.parts = {m + ".weight"};
  }
  const int64_t g = s.tensor_scale ? 1 : n_groups(shape[1], s.group_size);
  const auto& sc = src.info(m + ".weight_scale").shape;
  const bool scalar = s.tensor_scale && (sc == std::vector<int64_t>{1} || sc == std::vector<int64_t>{});
  if (!scalar) expect_shape(src, m + ".weight_scale", {s.tensor_scale ? 1 : shape[0], g}, setting(s), where);
  r.parts.push_back(m + ".weight_scale");
  if (!s.symmetric) {
    const int64_t per = 32 / s.bits;
    expect_shape(src, m + ".weight_zero_point",
                 c.format == "pack-quantized" ? std::vector<int64_t>{(shape[0] + per - 1) / per, g}
                                              : std::vector<int64_t>{shape[0], g},
                 setting(s) + " (asymmetric)", where);
  }
  for (const char* p : {".weight_zero_point", ".weight_g_idx", ".input_scale", ".input_zero_point"})
    if (src.has(m + p)) r.parts.push_back(m + p);
  r.shape = shape;
  return r;
}

}  // namespace

std::map<std::string, HfQuantizedModule> hf_quantized_modules(const HfQuantConfig& c, const std::vector<std::string>& names,
                                                             const HfTensorSource& src, const std::string& where) {
  std::map<std::string, HfQuantizedModule> out;
  for (const auto& n : names) {
    std::string m;
    if (c.method != HfQuantMethod::CompressedTensors && ends_with(n, ".qweight")) {
      m = n.substr(0, n.size() - 8);
    } else if (c.method == HfQuantMethod::CompressedTensors && ends_with(n, ".weight_scale")) {
      m = n.substr(0, n.size() - 13);
    } else {
      continue;
    }
    const HfWeightScheme& s = scheme_of(c, m, where);
    if (c.method == HfQuantMethod::Gptq) {
      expect_dtype(src, n, {"I32"}, where);
      out[m] = index_gptq(m, s, src, where);
    } else if (c.method == HfQuantMethod::Awq) {
      expect_dtype(src, n, {"I32"}, where);
      out[m] = index_awq(m, s, src, where);
    } else {
      out[m] = index_ct(m, c, s, src, where);
    }
  }
  if (out.empty())
    throw Error("'" + where + "': quantization_config says " + hf_quant_method_name(c.method) +
                " but no tensor is stored in that format (no " +
                (c.method == HfQuantMethod::CompressedTensors ? "weight_scale" : "qweight") + " tensors)");
  return out;
}

GptqZeros detect_gptq_zeros(const HfQuantConfig& c, const std::map<std::string, HfQuantizedModule>& modules,
                            const HfTensorSource& src, std::string* note) {
  const GptqZeros label = c.format == "gptq_v2" ? GptqZeros::V2 : GptqZeros::V1;
  const std::string label_name = c.format.empty() ? "no checkpoint_format (readers assume gptq)" : c.format;
  *note = "zero points as labelled: " + label_name;
  if (!c.weights.symmetric) return label;
  const auto& [m, info] = *modules.begin();
  if (!src.has(m + ".qzeros")) return label;
  const int b = c.weights.bits;
  at::Tensor z = unpack_gptq_bitstream(src.load(m + ".qzeros"), b, 1, info.shape[0], m + ".qzeros");
  const int64_t lo = z.min().item<int64_t>(), hi = z.max().item<int64_t>(), half = int64_t(1) << (b - 1);
  if (lo != hi) return label;  // not the constant zero of a symmetric checkpoint: keep the label
  const GptqZeros data = lo == half - 1 ? GptqZeros::V1 : lo == half ? GptqZeros::V2 : label;
  if (data != label || c.format.empty())
    *note = std::string("zero points read as ") + (data == GptqZeros::V1 ? "gptq (v1: zero - 1)" : "gptq_v2 (zero)") +
            ": the symmetric zero points of '" + m + "' are all " + std::to_string(lo) + "; config says " + label_name;
  return data;
}

at::Tensor HfLinearForm::dequantize() const {
  at::Tensor s = scales, z = zeros;
  if (g_idx.defined()) {
    s = s.index_select(1, g_idx);
    if (z.defined()) z = z.index_select(1, g_idx);
  } else {
    const int64_t in = codes.defined() ? codes.size(1) : values.size(1);
    s = s.repeat_interleave(group_size, 1).narrow(1, 0, in);
    if (z.defined()) z = z.repeat_interleave(group_size, 1).narrow(1, 0, in);
  }
  if (values.defined()) return values * s;
  return s * (codes.to(at::kFloat) - z);  // quantizer.cpp dequantize_codes
}

}  // namespace ptq
