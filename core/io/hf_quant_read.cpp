// read_hf_linear (core/io/hf_quant_decode.h): one quantized module's integer form.
#include "core/io/hf_quant_decode.h"
#include "core/io/quantized_layouts.h"
#include "core/runtime/errors.h"

namespace ptq {

namespace {

at::Tensor float_scales(const HfTensorSource& src, const std::string& name, const std::string& where) {
  const std::string& d = src.info(name).dtype;
  if (d != "F16" && d != "BF16" && d != "F32")
    throw Error("'" + where + "': tensor '" + name + "' is stored as " + d + " (expected F16, BF16 or F32)");
  return src.load(name).to(at::kFloat);
}

// g_idx as stored (int32 [in]); undefined when it is the consecutive grouping i / group.
at::Tensor group_index(const HfTensorSource& src, const std::string& name, int64_t in, int64_t group, int64_t groups,
                       const std::string& where) {
  at::Tensor consecutive = at::div(at::arange(in, at::kLong), group, "floor");
  if (!src.has(name)) return in % group == 0 ? at::Tensor() : consecutive;
  at::Tensor g = src.load(name).to(at::kLong);
  if (g.dim() != 1 || g.size(0) != in)
    throw Error("'" + where + "': tensor '" + name + "' must hold one group per input column (" + std::to_string(in) + ")");
  if (in > 0 && (g.min().item<int64_t>() < 0 || g.max().item<int64_t>() >= groups))
    throw Error("'" + where + "': tensor '" + name + "' names groups outside 0.." + std::to_string(groups - 1));
  if (at::equal(g, consecutive) && in % group == 0) return at::Tensor();
  return g;
}

HfLinearForm read_gptq(const std::string& m, const HfWeightScheme& s, const HfQuantizedModule& mod, GptqZeros zc,
                       const HfTensorSource& src, const std::string& where) {
  HfLinearForm f;
  const int64_t out = mod.shape[0], in = mod.shape[1];
  f.bits = s.bits;
  f.group_size = s.group_size <= 0 ? in : s.group_size;
  f.codes = unpack_gptq_bitstream(src.load(m + ".qweight"), s.bits, 0, in, where + ": " + m + ".qweight").t().contiguous();
  f.scales = float_scales(src, m + ".scales", where).t().contiguous();
  if (src.has(m + ".qzeros")) {
    at::Tensor z = unpack_gptq_bitstream(src.load(m + ".qzeros"), s.bits, 1, out, where + ": " + m + ".qzeros");
    f.zeros = (z + (zc == GptqZeros::V1 ? 1 : 0)).t().to(at::kFloat).contiguous();  // qlinear_cuda_old: zeros + 1
  } else {
    f.zeros = at::full_like(f.scales, double(1 << (s.bits - 1)));
  }
  f.g_idx = group_index(src, m + ".g_idx", in, f.group_size, f.scales.size(1), where);
  return f;
}

HfLinearForm read_awq(const std::string& m, const HfWeightScheme& s, const HfQuantizedModule& mod,
                      const HfTensorSource& src, const std::string& where) {
  HfLinearForm f;
  const int64_t in = mod.shape[1];
  f.bits = 4;
  f.group_size = s.group_size <= 0 ? in : s.group_size;
  f.codes = unpack_awq_gemm(src.load(m + ".qweight"), where + ": " + m + ".qweight").t().contiguous();
  f.scales = float_scales(src, m + ".scales", where).t().contiguous();
  f.zeros = src.has(m + ".qzeros")
                ? unpack_awq_gemm(src.load(m + ".qzeros"), where + ": " + m + ".qzeros").t().to(at::kFloat).contiguous()
                : at::full_like(f.scales, 8.0);  // AWQ GEMM dequantizes (q - zero) · scale
  f.g_idx = group_index(src, "", in, f.group_size, f.scales.size(1), where);
  return f;
}

// compressed-tensors stores signed codes q − 2^(b−1) and zero points z − 2^(b−1) (pack_quantized.py
// packs them + 2^(b−1), i.e. the unsigned values); dequantize (x_q − zp) · scale.
HfLinearForm read_ct(const std::string& m, const HfQuantConfig& c, const HfWeightScheme& s, const HfQuantizedModule& mod,
                     const HfTensorSource& src, const std::string& where) {
  HfLinearForm f;
  const int64_t out = mod.shape[0], in = mod.shape[1], half = int64_t(1) << (s.bits - 1);
  f.bits = s.bits;
  f.group_size = s.group_size <= 0 ? in : s.group_size;
  at::Tensor sc = float_scales(src, m + ".weight_scale", where);
  f.scales = (s.tensor_scale ? sc.reshape({1, 1}).expand({out, 1}) : sc).contiguous();
  if (c.format == "pack-quantized") {
    f.codes = unpack_ct_int32(src.load(m + ".weight_packed"), s.bits, 1, in, where + ": " + m + ".weight_packed");
  } else if (s.is_float) {
    f.values = decode_fp8_e4m3(src.load(m + ".weight"));
  } else {
    f.codes = src.load(m + ".weight").to(at::kInt) + int(half);
    if (f.codes.numel() > 0 && f.codes.max().item<int64_t>() >= 2 * half)
      throw Error("'" + where + "': tensor '" + m + ".weight' holds codes outside " + std::to_string(s.bits) + " bits");
  }
  if (!s.is_float) {
    if (s.symmetric) {
      f.zeros = at::full_like(f.scales, double(half));
    } else if (c.format == "pack-quantized") {
      f.zeros = unpack_ct_int32(src.load(m + ".weight_zero_point"), s.bits, 0, out, where + ": " + m + ".weight_zero_point")
                    .to(at::kFloat);
    } else {
      f.zeros = (src.load(m + ".weight_zero_point").to(at::kFloat) + double(half)).reshape(f.scales.sizes());
    }
  }
  f.g_idx = group_index(src, m + ".weight_g_idx", in, f.group_size, f.scales.size(1), where);
  return f;
}

}  // namespace

HfLinearForm read_hf_linear(const HfQuantConfig& c, const std::string& module, const HfQuantizedModule& m,
                            GptqZeros zeros, const HfTensorSource& src) {
  const std::string where = "quantized module '" + module + "'";
  const HfWeightScheme* s = hf_scheme_for(c, module);
  if (!s) throw Error(where + " is not quantized by quantization_config");
  if (c.method == HfQuantMethod::Gptq) return read_gptq(module, *s, m, zeros, src, where);
  if (c.method == HfQuantMethod::Awq) return read_awq(module, *s, m, src, where);
  return read_ct(module, c, *s, m, src, where);
}

}  // namespace ptq
