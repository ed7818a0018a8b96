#include "core/model/rope.h"

#include "core/model/fused_ops.h"

#include <algorithm>
#include <cmath>

namespace ptq {

at::Tensor rope_inv_freq(const ModelConfig& c) { return rope_inv_freq(c.head_dim, c.rope_theta, c.rope_scaling); }

// transformers' _compute_yarn_parameters (modeling_rope_utils.py): the correction range in double,
// the frequencies and the ramp in float32, as there.
at::Tensor yarn_inv_freq(int64_t dim, double base, const RopeScaling& s) {
  const double orig = double(s.original_max_position_embeddings);
  auto correction_dim = [&](double rotations) {
    return (double(dim) * std::log(orig / (rotations * 2 * M_PI))) / (2 * std::log(base));
  };
  double low = correction_dim(s.beta_fast), high = correction_dim(s.beta_slow);
  if (s.truncate) {
    low = std::floor(low);
    high = std::ceil(high);
  }
  low = std::max(low, 0.0);
  high = std::min(high, double(dim - 1));
  if (low == high) high += 0.001;  // linear_ramp_factor: prevent singularity
  at::Tensor pos_freqs = at::pow(base, at::arange(0, dim, 2, at::TensorOptions().dtype(at::kLong)).to(at::kFloat) / double(dim));
  at::Tensor extrapolation = 1.0 / pos_freqs;
  at::Tensor interpolation = 1.0 / (s.factor * pos_freqs);
  at::Tensor ramp = ((at::arange(dim / 2, at::TensorOptions().dtype(at::kFloat)) - low) / (high - low)).clamp(0, 1);
  at::Tensor extrapolation_factor = 1 - ramp;
  return interpolation * (1 - extrapolation_factor) + extrapolation * extrapolation_factor;
}

at::Tensor rope_inv_freq(int64_t dim, double theta, const RopeScaling& s) {
  auto exps = at::arange(0, dim, 2, at::TensorOptions().dtype(at::kLong)).to(at::kFloat) / double(dim);
  at::Tensor inv = 1.0 / at::pow(theta, exps);
  if (s.type == "linear") {
    inv = inv / s.factor;
  } else if (s.type == "yarn") {
    inv = yarn_inv_freq(dim, theta, s);
  } else if (s.type == "llama3") {
    const double old_len = double(s.original_max_position_embeddings);
    const double low_wavelen = old_len / s.low_freq_factor;
    const double high_wavelen = old_len / s.high_freq_factor;
    at::Tensor wavelen = 2 * M_PI / inv;
    at::Tensor inv_llama = at::where(wavelen > low_wavelen, inv / s.factor, inv);
    at::Tensor smooth = (old_len / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
    at::Tensor smoothed = (1 - smooth) * inv_llama / s.factor + smooth * inv_llama;
    at::Tensor medium = at::logical_not(wavelen < high_wavelen).logical_and(at::logical_not(wavelen > low_wavelen));
    inv = at::where(medium, smoothed, inv_llama);
  }
  return inv;
}

namespace {
// cos and sin in float32, times yarn's attention factor (attention_scaling), then cast.
RopeTables tables_from(const at::Tensor& inv_cpu, int64_t seq_len, at::Device dev, at::ScalarType dt,
                       double attention_factor) {
  at::Tensor inv = inv_cpu.to(dev);
  at::Tensor pos = at::arange(seq_len, at::TensorOptions().dtype(at::kFloat).device(dev));
  at::Tensor freqs = at::outer(pos, inv);         // [T, D/2]
  at::Tensor emb = at::cat({freqs, freqs}, -1);   // [T, D]
  if (attention_factor == 1.0) return {emb.cos().to(dt), emb.sin().to(dt)};
  return {(emb.cos() * attention_factor).to(dt), (emb.sin() * attention_factor).to(dt)};
}
}  // namespace

RopeTables make_rope_tables(const ModelConfig& c, int64_t seq_len, at::Device dev, at::ScalarType dt) {
  return tables_from(rope_inv_freq(c), seq_len, dev, dt, rope_attention_factor(c.rope_scaling));
}

RopeTables make_local_rope_tables(const ModelConfig& c, int64_t seq_len, at::Device dev, at::ScalarType dt) {
  const double theta = c.rope_local_theta > 0 ? c.rope_local_theta : c.rope_theta;
  const RopeScaling& s = c.rope_local_theta > 0 ? c.rope_local_scaling : c.rope_scaling;
  return tables_from(rope_inv_freq(c.head_dim, theta, s), seq_len, dev, dt, rope_attention_factor(s));
}

at::Tensor apply_rope(const at::Tensor& x, const RopeTables& r) {
  if (at::Tensor f = fused_rope(x, r.cos, r.sin); f.defined()) return f;  // CUDA: one kernel, the same values
  const int64_t half = x.size(-1) / 2;
  at::Tensor x1 = x.narrow(-1, 0, half);
  at::Tensor x2 = x.narrow(-1, half, half);
  at::Tensor rot = at::cat({-x2, x1}, -1);
  return x * r.cos + rot * r.sin;
}

at::Tensor apply_rope_interleaved(const at::Tensor& x, const RopeTables& r) {
  auto sizes = x.sizes().vec();
  const int64_t d = sizes.back();
  std::vector<int64_t> pairs(sizes.begin(), sizes.end() - 1);
  pairs.push_back(d / 2);
  pairs.push_back(2);
  const int64_t n = int64_t(pairs.size());
  return apply_rope(x.reshape(pairs).transpose(n - 1, n - 2).reshape(sizes), r);
}

}  // namespace ptq
