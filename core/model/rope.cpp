#include "core/model/rope.h"

#include <cmath>

namespace ptq {

at::Tensor rope_inv_freq(const ModelConfig& c) { return rope_inv_freq(c.head_dim, c.rope_theta, c.rope_scaling); }

at::Tensor rope_inv_freq(int64_t dim, double theta, const RopeScaling& s) {
  auto exps = at::arange(0, dim, 2, at::TensorOptions().dtype(at::kLong)).to(at::kFloat) / double(dim);
  at::Tensor inv = 1.0 / at::pow(theta, exps);
  if (s.type == "linear") {
    inv = inv / s.factor;
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
RopeTables tables_from(const at::Tensor& inv_cpu, int64_t seq_len, at::Device dev, at::ScalarType dt) {
  at::Tensor inv = inv_cpu.to(dev);
  at::Tensor pos = at::arange(seq_len, at::TensorOptions().dtype(at::kFloat).device(dev));
  at::Tensor freqs = at::outer(pos, inv);         // [T, D/2]
  at::Tensor emb = at::cat({freqs, freqs}, -1);   // [T, D]
  return {emb.cos().to(dt), emb.sin().to(dt)};
}
}  // namespace

RopeTables make_rope_tables(const ModelConfig& c, int64_t seq_len, at::Device dev, at::ScalarType dt) {
  return tables_from(rope_inv_freq(c), seq_len, dev, dt);
}

RopeTables make_local_rope_tables(const ModelConfig& c, int64_t seq_len, at::Device dev, at::ScalarType dt) {
  const double theta = c.rope_local_theta > 0 ? c.rope_local_theta : c.rope_theta;
  return tables_from(rope_inv_freq(c.head_dim, theta, c.rope_local_theta > 0 ? c.rope_local_scaling : c.rope_scaling),
                     seq_len, dev, dt);
}

at::Tensor apply_rope(const at::Tensor& x, const RopeTables& r) {
  const int64_t half = x.size(-1) / 2;
  at::Tensor x1 = x.narrow(-1, 0, half);
  at::Tensor x2 = x.narrow(-1, half, half);
  at::Tensor rot = at::cat({-x2, x1}, -1);
  return x * r.cos + rot * r.sin;
}

}  // namespace ptq
