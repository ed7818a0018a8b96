#include "core/model/rope.h"

#include <cmath>

namespace ptq {

at::Tensor rope_inv_freq(const ModelConfig& c) {
  const int64_t dim = c.head_dim;
  auto exps = at::arange(0, dim, 2, at::TensorOptions().dtype(at::kLong)).to(at::kFloat) / double(dim);
  at::Tensor inv = 1.0 / at::pow(c.rope_theta, exps);
  const RopeScaling& s = c.rope_scaling;
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

RopeTables make_rope_tables(const ModelConfig& c, int64_t seq_len, at::Device dev, at::ScalarType dt) {
  at::Tensor inv = rope_inv_freq(c).to(dev);
  at::Tensor pos = at::arange(seq_len, at::TensorOptions().dtype(at::kFloat).device(dev));
  at::Tensor freqs = at::outer(pos, inv);         // [T, D/2]
  at::Tensor emb = at::cat({freqs, freqs}, -1);   // [T, D]
  return {emb.cos().to(dt), emb.sin().to(dt)};
}

at::Tensor apply_rope(const at::Tensor& x, const RopeTables& r) {
  const int64_t half = x.size(-1) / 2;
  at::Tensor x1 = x.narrow(-1, 0, half);
  at::Tensor x2 = x.narrow(-1, half, half);
  at::Tensor rot = at::cat({-x2, x1}, -1);
  return x * r.cos + rot * r.sin;
}

}  // namespace ptq
