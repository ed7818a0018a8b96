// DeepSeek-V3's multi-head latent attention, as transformers' DeepseekV3Attention.forward
// (src/transformers/models/deepseek_v3/modeling_deepseek_v3.py):
//   q = q_b_proj(q_a_layernorm(q_a_proj(x)))  (or q_proj(x)), per head [q_nope | q_rope]
//   [latent | k_rope] = kv_a_proj_with_mqa(x); [k_nope | v] = kv_b_proj(kv_a_layernorm(latent)) per head
//   k_rope is one head shared by all heads; rope (interleaved when rope_interleave) on q_rope, k_rope
//   softmax((q·kᵀ)·scale + causal)·v, scale = qk_head_dim^-1/2 (· yarn mscale² with mscale_all_dim); o_proj.
#include <torch/version.h>

#include <limits>
#include <tuple>

#include "core/model/decoder_block.h"

namespace ptq {

namespace {

// q_a_layernorm and kv_a_layernorm are DeepseekV3RMSNorm(rank) with its default eps 1e-6, not
// rms_norm_eps (transformers builds them without the config's eps).
constexpr double kLatentNormEps = 1e-6;

at::Tensor attend_scaled(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask_in,
                         double scale) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)
  if (mask_in.defined()) return at::scaled_dot_product_attention(q, k, v, mask_in, 0.0, false, scale);
  return at::scaled_dot_product_attention(q, k, v, {}, 0.0, true, scale);
#else
  const int64_t T = q.size(2);
  at::Tensor scores = at::matmul(q, k.transpose(-1, -2)) * scale;
  at::Tensor mask = mask_in;
  if (!mask.defined()) mask = at::full({T, T}, -std::numeric_limits<float>::infinity(), scores.options()).triu(1);
  at::Tensor p = at::softmax(scores + mask, -1, at::kFloat).to(q.scalar_type());
  return at::matmul(p, v);
#endif
}

}  // namespace

at::Tensor DecoderBlock::mla_attention(const at::Tensor& x, const BlockContext& ctx) const {
  const DeepseekConfig& d = cfg_->deepseek;
  const int64_t B = x.size(0), T = x.size(1), Nh = cfg_->num_heads;
  const int64_t nope = d.qk_nope_head_dim, rope_dim = d.qk_rope_head_dim, vd = d.v_head_dim;
  at::Tensor q = d.q_lora_rank > 0
                     ? run("self_attn.q_b_proj", rms_norm(run("self_attn.q_a_proj", x, ctx), q_a_norm, kLatentNormEps), ctx)
                     : run("self_attn.q_proj", x, ctx);
  q = q.reshape({B, T, Nh, d.qk_head_dim()}).transpose(1, 2);
  at::Tensor q_pass = q.narrow(-1, 0, nope), q_rot = q.narrow(-1, nope, rope_dim);

  at::Tensor compressed = run("self_attn.kv_a_proj_with_mqa", x, ctx);
  at::Tensor latent = compressed.narrow(-1, 0, d.kv_lora_rank);
  at::Tensor k_rot = compressed.narrow(-1, d.kv_lora_rank, rope_dim).reshape({B, 1, T, rope_dim});
  at::Tensor kv = run("self_attn.kv_b_proj", rms_norm(latent, kv_a_norm, kLatentNormEps), ctx);
  kv = kv.reshape({B, T, Nh, nope + vd}).transpose(1, 2);
  at::Tensor k_pass = kv.narrow(-1, 0, nope), v = kv.narrow(-1, nope, vd);

  const RopeTables& rope = *ctx.rope;
  if (d.rope_interleave) {
    q_rot = apply_rope_interleaved(q_rot, rope);
    k_rot = apply_rope_interleaved(k_rot, rope);
  } else {
    q_rot = apply_rope(q_rot, rope);
    k_rot = apply_rope(k_rot, rope);
  }
  k_rot = k_rot.expand({B, Nh, T, rope_dim});
  at::Tensor query = at::cat({q_pass, q_rot}, -1);
  at::Tensor key = at::cat({k_pass, k_rot}, -1);
  v = v.contiguous();
  if (ctx.cache) std::tie(key, v) = append_kv(*ctx.cache, key, v);  // decoding: the expanded K, V of every slot
  at::Tensor o = attend_scaled(query, key, v, ctx.mask, deepseek_softmax_scale(*cfg_));
  o = o.transpose(1, 2).reshape({B, T, Nh * vd});
  return run("self_attn.o_proj", o, ctx);
}

}  // namespace ptq
