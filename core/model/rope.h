#pragma once
// Rotary position embeddings as transformers computes them: inv_freq in float32
// (default, linear, Llama-3 and yarn scaling; yarn's attention factor scales cos and sin), cos/sin over cat(freqs, freqs), rotate_half.
#include <ATen/ATen.h>

#include "core/io/model_config.h"

namespace ptq {

struct RopeTables {
  at::Tensor cos, sin;  // [T, head_dim] in the compute dtype, on the compute device
};

at::Tensor rope_inv_freq(const ModelConfig& c);  // float32 [head_dim / 2], CPU
// With an explicit base and scaling (Gemma3's sliding layers use rope_local_theta).
at::Tensor rope_inv_freq(int64_t head_dim, double theta, const RopeScaling& s);
// yarn's inverse frequencies (float32 [dim / 2], CPU); the factor on cos/sin is rope_attention_factor.
at::Tensor yarn_inv_freq(int64_t dim, double base, const RopeScaling& s);
RopeTables make_rope_tables(const ModelConfig& c, int64_t seq_len, at::Device dev, at::ScalarType dt);
// Tables of the sliding-attention layers (rope_local_theta / rope_local_scaling).
RopeTables make_local_rope_tables(const ModelConfig& c, int64_t seq_len, at::Device dev, at::ScalarType dt);
// x: [B, heads, T, head_dim]
at::Tensor apply_rope(const at::Tensor& x, const RopeTables& r);
// DeepSeek's rope_interleave: x viewed as [..., d/2, 2], transposed to [..., 2, d/2] (even entries
// first, then odd), then apply_rope (apply_rotary_pos_emb_interleave, modeling_deepseek_v3.py).
at::Tensor apply_rope_interleaved(const at::Tensor& x, const RopeTables& r);

}  // namespace ptq
