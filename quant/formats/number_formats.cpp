#include "quant/formats/number_formats.h"

#include "core/runtime/errors.h"

namespace ptq {

namespace {

struct Minifloat {
  int mbits;   // mantissa bits
  int emin;    // exponent of the smallest normal (1 - bias)
  double maxv; // largest finite value
};

Minifloat minifloat_of(WeightFormat f) {
  switch (element_format(f)) {
    case WeightFormat::FP4: return {1, 0, 6.0};
    case WeightFormat::FP8_E4M3: return {3, -6, 448.0};
    case WeightFormat::FP8_E5M2: return {2, -14, 57344.0};
    default: throw Error("format " + format_name(f) + " is not a small float format (fp4, fp8_e4m3, fp8_e5m2)");
  }
}

// 2^e for integer tensor e (int32, in [-126, 127]) built from its float32 bit pattern: exact.
at::Tensor pow2(const at::Tensor& e) { return (e + 127).bitwise_left_shift(23).view(at::kFloat); }

// floor(log2 |a|) of float32 a >= 0 from its exponent field (exact; a float32 subnormal gives -127).
at::Tensor floor_log2(const at::Tensor& a) {
  return a.contiguous().view(at::kInt).bitwise_right_shift(23).bitwise_and(0xff) - 127;
}

}  // namespace

WeightFormat element_format(WeightFormat f) {
  if (f == WeightFormat::MXFP4 || f == WeightFormat::NVFP4) return WeightFormat::FP4;
  if (f == WeightFormat::MXFP8) return WeightFormat::FP8_E4M3;
  return f;
}

double minifloat_max(WeightFormat f) { return minifloat_of(f).maxv; }

at::Tensor round_to_minifloat(const at::Tensor& x_in, WeightFormat f) {
  const Minifloat m = minifloat_of(f);
  at::Tensor x = x_in.to(at::kFloat);
  at::Tensor a = x.abs();
  // The quantum of a's binade: 2^(max(floor(log2 a), emin) - mbits); below emin the subnormal
  // quantum 2^(emin - mbits). Capped at the top binade so inf/NaN patterns stay in range.
  // (e stays in [emin - mbits, 128 - mbits], inside float32's normal exponents for every format.)
  at::Tensor q = pow2(floor_log2(a).clamp_min(m.emin) - m.mbits);
  // a / q and r · q are exact (powers of two); at::round is round-half-to-even. NaN propagates
  // through every step (clamp keeps NaN), inf saturates.
  at::Tensor r = at::round(a / q) * q;
  r = at::clamp_max(r, m.maxv);
  return at::copysign(r, x);
}

at::Tensor block_scale(const at::Tensor& amax_in, WeightFormat f, const at::Tensor& global_amax) {
  at::Tensor amax = amax_in.to(at::kFloat);
  if (f == WeightFormat::NVFP4) {
    at::Tensor g_amax = (global_amax.defined() ? global_amax : amax.amax()).to(at::kFloat);
    at::Tensor global = 448.0 * 6.0 / g_amax.clamp_min(std::numeric_limits<float>::min());
    global = at::nan_to_num(global, 1.0, 1.0, 1.0);  // compressed-tensors generate_gparam
    at::Tensor s = round_to_minifloat((global * (amax / 6.0)).clamp(-448.0, 448.0), WeightFormat::FP8_E4M3);
    s = at::where(s == 0, at::full({}, 0.125, s.options()), s);
    return s / global;
  }
  if (f != WeightFormat::MXFP4 && f != WeightFormat::MXFP8)
    throw Error("format " + format_name(f) + " is not a block format (mxfp4, mxfp8, nvfp4)");
  // compressed-tensors round_to_power_2: add 2^21 to the float32 pattern, keep sign+exponent.
  at::Tensor p2 = (amax.contiguous().view(at::kInt) + (1 << 21)).bitwise_and(int32_t(0xff800000u)).view(at::kFloat);
  const int64_t offset = f == WeightFormat::MXFP4 ? 2 : 8;  // floor(log2(6)), floor(log2(448))
  at::Tensor biased = (floor_log2(p2) + 127 - offset).clamp(0, 254);
  // 2^(biased - 127); for biased 0 that is 2^-127, a float32 subnormal (exactly 2^-126 / 2).
  at::Tensor normal = pow2((biased - 127).clamp_min(-126));
  return at::where(biased == 0, normal * 0.5, normal);
}

at::Tensor fake_quantize_blocks(const at::Tensor& x_in, WeightFormat f, const at::Tensor& global_amax) {
  const int64_t block = format_block_size(f);
  if (block <= 0) throw Error("format " + format_name(f) + " is not a block format (mxfp4, mxfp8, nvfp4)");
  const int64_t W = x_in.size(-1);
  if (W % block != 0)
    throw Error("block format " + format_name(f) + ": its block of " + std::to_string(block) +
                " does not divide the width " + std::to_string(W));
  at::Tensor x = x_in.to(at::kFloat).reshape({-1, W / block, block});
  at::Tensor amax = x.abs().amax(-1, true);
  const double emax = minifloat_max(element_format(f));
  at::Tensor scale = block_scale(amax, f, global_amax.defined() ? global_amax : amax.amax());
  at::Tensor y = round_to_minifloat((x / scale).clamp(-emax, emax), element_format(f)) * scale;
  return y.reshape(x_in.sizes());
}

}  // namespace ptq
