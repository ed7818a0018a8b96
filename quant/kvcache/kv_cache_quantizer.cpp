#include "quant/kvcache/kv_cache_quantizer.h"

#include <cmath>

#include "core/runtime/errors.h"
#include "quant/formats/quantizer.h"

namespace ptq {

namespace {

// KIVI's quant_and_pack_vcache / kcache arithmetic on rows of `group` elements (quant/new_pack.py):
// mn, mx over the group, scale = (mx - mn) / (2^b - 1), q = clamp(round((x - mn) / scale)),
// x̂ = q·scale + mn. A constant group (scale 0) reads back as mn exactly.
at::Tensor int_rows(const at::Tensor& g, int bits) {
  const double max_int = std::pow(2.0, bits) - 1;
  at::Tensor mn = std::get<0>(g.min(-1, true)), mx = std::get<0>(g.max(-1, true));
  at::Tensor scale = (mx - mn) / max_int;
  at::Tensor safe = at::where(scale > 0, scale, at::ones_like(scale));
  at::Tensor q = ((g - mn) / safe).round().clamp(0, max_int);
  return q * scale + mn;
}

WeightFormat fp8_format(const std::string& f) { return f == "fp8_e5m2" ? WeightFormat::FP8_E5M2 : WeightFormat::FP8_E4M3; }

class KiviQuantizer : public KvCacheQuantizer {
 public:
  KiviQuantizer(const KvCacheSpec& s, const ModelConfig& c) : s_(s), head_dim_(c.head_dim) {}

  at::Tensor quantize_keys(const at::Tensor& k) const override {
    if (s_.granularity != "channel") return per_token(k);
    // Per channel over groups of G tokens: the complete groups only (the newest incomplete group
    // is never read quantized, full_precision_keys covers it).
    const int64_t T = k.size(2), G = s_.group, full = (T / G) * G;
    if (full == 0) return k;
    at::Tensor head = k.narrow(2, 0, full).transpose(2, 3);  // [B, H, D, full]
    at::Tensor q = kv_fake_quantize_last_dim(head, G, s_.bits, s_.format).transpose(2, 3);
    return full == T ? q : at::cat({q, k.narrow(2, full, T - full)}, 2);
  }
  at::Tensor quantize_values(const at::Tensor& v) const override { return per_token(v); }

  at::Tensor full_precision_keys(int64_t T, at::Device d) const override {
    if (s_.granularity != "channel") return sliding(T, d);
    const int64_t C = s_.residual > 0 ? s_.residual : s_.group;
    at::Tensor t = at::arange(T, at::TensorOptions().dtype(at::kLong).device(d)).unsqueeze(1);
    at::Tensor j = at::arange(T, at::TensorOptions().dtype(at::kLong).device(d)).unsqueeze(0);
    return j >= at::floor_divide(t, C) * C;  // KIVI's key buffer: the chunk of t is not quantized yet
  }
  at::Tensor full_precision_values(int64_t T, at::Device d) const override { return sliding(T, d); }

 private:
  at::Tensor per_token(const at::Tensor& x) const {
    return kv_fake_quantize_last_dim(x, s_.granularity == "group" ? s_.group : head_dim_, s_.bits, s_.format);
  }
  // KIVI's value buffer: t reads j in [t - N, t] in full precision; none when N = 0.
  at::Tensor sliding(int64_t T, at::Device d) const {
    if (s_.residual == 0) return {};
    at::Tensor t = at::arange(T, at::TensorOptions().dtype(at::kLong).device(d)).unsqueeze(1);
    at::Tensor j = at::arange(T, at::TensorOptions().dtype(at::kLong).device(d)).unsqueeze(0);
    return (t - j) <= s_.residual;
  }

  KvCacheSpec s_;
  int64_t head_dim_;
};

}  // namespace

at::Tensor kv_fake_quantize_last_dim(const at::Tensor& x, int64_t group, int bits, const std::string& format) {
  const int64_t n = x.size(-1);
  if (group <= 0 || n % group != 0)
    throw Error("KV cache: group " + std::to_string(group) + " does not divide the quantized dimension " + std::to_string(n));
  at::Tensor g = x.to(at::kFloat).reshape({-1, group});
  at::Tensor out;
  if (format == "int") {
    out = int_rows(g, bits);
  } else {
    QuantSpec q;
    q.format = fp8_format(format);
    q.group_size = group;
    out = fake_quantize(g, q);  // absmax / max|grid| per group, nearest grid value (quant/formats/quantizer.h)
  }
  return out.reshape(x.sizes()).to(x.scalar_type());
}

std::shared_ptr<const KvCacheQuantizer> make_kv_cache_quantizer(const KvCacheSpec& spec, const ModelConfig& c) {
  if (!spec.enabled()) return nullptr;
  spec.validate_for(c);
  return std::make_shared<KiviQuantizer>(spec, c);
}

}  // namespace ptq
