#include "quant/formats/activation_quant.h"

#include <limits>

#include "core/runtime/errors.h"
#include "quant/formats/number_formats.h"

namespace ptq {

namespace {

double max_code(const ActQuantSpec& s) {
  if (s.format == WeightFormat::Int) return double((1 << (s.bits - 1)) - 1);
  return minifloat_max(s.format);
}

}  // namespace

at::Tensor act_scale_from_amax(const at::Tensor& amax, const ActQuantSpec& s) {
  if (s.format == WeightFormat::Int) return amax.clamp_min(1e-5) / max_code(s);
  at::Tensor scale = amax / max_code(s);
  return at::where(scale == 0, at::full({}, double(std::numeric_limits<float>::epsilon()), scale.options()), scale);
}

at::Tensor fake_quantize_with_scale(const at::Tensor& x, const at::Tensor& scale, const ActQuantSpec& s) {
  const double m = max_code(s);
  if (s.format == WeightFormat::Int) return at::clamp(at::round(x / scale), -m, m) * scale;
  return round_to_minifloat(at::clamp(x / scale, -m, m), s.format) * scale;
}

at::Tensor fake_quantize_activation(const at::Tensor& x, const ActQuantSpec& s, const at::Tensor& static_scale) {
  if (!s.enabled()) return x;
  const int64_t W = x.size(-1);
  at::Tensor xf = x.to(at::kFloat);
  if (format_block_size(s.format) > 0) return fake_quantize_blocks(xf, s.format, static_scale).to(x.scalar_type());
  at::Tensor x2 = xf.reshape({-1, W});
  at::Tensor y;
  switch (s.granularity) {
    case ActGranularity::Tensor: {
      at::Tensor scale = static_scale.defined() ? static_scale.reshape({}) : act_scale_from_amax(x2.abs().amax(), s);
      y = fake_quantize_with_scale(x2, scale, s);
      break;
    }
    case ActGranularity::Token: {
      if (static_scale.defined()) throw Error("internal: static scales per token");
      y = fake_quantize_with_scale(x2, act_scale_from_amax(x2.abs().amax(-1, true), s), s);
      break;
    }
    case ActGranularity::Group: {
      const int64_t g = s.group_size;
      if (W % g != 0)
        throw Error("activation group of " + std::to_string(g) + " channels does not divide the width " +
                    std::to_string(W));
      at::Tensor x3 = x2.reshape({x2.size(0), W / g, g});
      at::Tensor scale = static_scale.defined() ? static_scale.reshape({1, W / g, 1})
                                                : act_scale_from_amax(x3.abs().amax(-1, true), s);
      y = fake_quantize_with_scale(x3, scale, s);
      break;
    }
  }
  return y.reshape(x.sizes()).to(x.scalar_type());
}

}  // namespace ptq
