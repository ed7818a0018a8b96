#include "core/model/decoder_block.h"

#include <torch/version.h>

#include <cmath>
#include <limits>
#include <tuple>

#include "core/model/cpu_attention.h"
#include "core/model/fused_ops.h"
#include "core/runtime/errors.h"

namespace ptq {

at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  if (at::Tensor f = fused_rms_norm(x, weight, eps); f.defined()) return f;  // CUDA: one kernel
  at::Tensor h = x.to(at::kFloat);
  at::Tensor var = h.pow(2).mean(-1, true);
  h = h * at::rsqrt(var + eps);
  return weight * h.to(x.scalar_type());
}

at::Tensor rms_norm_plus_one(const at::Tensor& x, const at::Tensor& weight, double eps) {
  at::Tensor h = x.to(at::kFloat);
  h = h * at::rsqrt(h.pow(2).mean(-1, true) + eps);
  return (h * (1.0 + weight.to(at::kFloat))).to(x.scalar_type());
}

DecoderBlock::DecoderBlock(const ModelConfig& c, int index) : Block(c, index) {}

DecoderBlock& as_decoder(Block& b) {
  auto* d = dynamic_cast<DecoderBlock*>(&b);
  if (!d)
    throw Error("block " + std::to_string(b.index()) + " is a " + b.kind() +
                " block; this operation needs an attention decoder block");
  return *d;
}

std::vector<std::pair<std::string, at::Tensor*>> DecoderBlock::tensors() {
  std::string p = "model.layers." + std::to_string(index_) + ".";
  std::vector<std::pair<std::string, at::Tensor*>> v = {{p + "input_layernorm.weight", &input_norm},
                                                        {p + "post_attention_layernorm.weight", &post_norm}};
  if (cfg_->sandwich_norms) {
    v.push_back({p + "pre_feedforward_layernorm.weight", &pre_ff_norm});
    v.push_back({p + "post_feedforward_layernorm.weight", &post_ff_norm});
  }
  if (cfg_->qk_norm) {
    v.push_back({p + "self_attn.q_norm.weight", &q_norm});
    v.push_back({p + "self_attn.k_norm.weight", &k_norm});
  }
  if (cfg_->mla) {
    if (cfg_->deepseek.q_lora_rank > 0) v.push_back({p + "self_attn.q_a_layernorm.weight", &q_a_norm});
    v.push_back({p + "self_attn.kv_a_layernorm.weight", &kv_a_norm});
  }
  if (cfg_->moe_layout == "deepseek" && cfg_->is_moe_layer(index_))
    v.push_back({p + "mlp.gate.e_score_correction_bias", &score_bias});
  for (auto& l : linears_) {
    v.push_back({linear_weight_key(index_, l.spec.name), &l.weight});
    if (l.spec.bias) v.push_back({linear_bias_key(index_, l.spec.name), &l.bias});
  }
  return v;
}

at::Tensor DecoderBlock::norm(const at::Tensor& x, const at::Tensor& w) const {
  return cfg_->norm_plus_one ? rms_norm_plus_one(x, w, cfg_->rms_norm_eps) : rms_norm(x, w, cfg_->rms_norm_eps);
}

// first_half then second_half; where the fused kernel applies, the residual sum after the attention and
// the norm before the MLP are one pass (the same values).
at::Tensor DecoderBlock::forward(const at::Tensor& h, const BlockContext& ctx) const {
  if (cfg_->sandwich_norms || cfg_->norm_plus_one) return second_half(first_half(h, ctx), ctx);
  if (!loaded()) throw Error("block " + std::to_string(index_) + " used before its weights were loaded");
  const at::Tensor a = attention(norm(h, input_norm), ctx);
  const auto rn = fused_add_rms_norm(a, h, post_norm, cfg_->rms_norm_eps);
  if (!rn.first.defined()) return second_half(h + a, ctx);
  return rn.first + mlp_branch(rn.second, ctx);
}

at::Tensor DecoderBlock::first_half(const at::Tensor& h, const BlockContext& ctx) const {
  if (!loaded()) throw Error("block " + std::to_string(index_) + " used before its weights were loaded");
  at::Tensor a = attention(norm(h, input_norm), ctx);
  return h + (cfg_->sandwich_norms ? norm(a, post_norm) : a);  // Gemma: norms on both sides of each branch
}

at::Tensor DecoderBlock::second_half(const at::Tensor& r, const BlockContext& ctx) const {
  if (!loaded()) throw Error("block " + std::to_string(index_) + " used before its weights were loaded");
  if (cfg_->sandwich_norms) return r + norm(mlp_branch(norm(r, pre_ff_norm), ctx), post_ff_norm);
  return r + mlp_branch(norm(r, post_norm), ctx);
}

at::Tensor DecoderBlock::mlp_branch(const at::Tensor& x, const BlockContext& ctx) const {
  return cfg_->is_moe_layer(index_) ? moe(x, ctx) : mlp(x, ctx);
}

at::Tensor DecoderBlock::attention(const at::Tensor& x, const BlockContext& ctx) const {
  if (cfg_->mla) return mla_attention(x, ctx);
  const int64_t B = x.size(0), T = x.size(1), D = cfg_->head_dim;
  const int64_t Hq = cfg_->num_heads, Hkv = cfg_->num_kv_heads;
  at::Tensor q, k, v;
  if (cfg_->fused_qkv) {  // Phi3: rows are [q | k | v]
    at::Tensor qkv = run("self_attn.qkv_proj", x, ctx);
    q = qkv.narrow(-1, 0, Hq * D);
    k = qkv.narrow(-1, Hq * D, Hkv * D);
    v = qkv.narrow(-1, (Hq + Hkv) * D, Hkv * D);
  } else {
    q = run("self_attn.q_proj", x, ctx);
    k = run("self_attn.k_proj", x, ctx);
    v = run("self_attn.v_proj", x, ctx);
  }
  q = q.reshape({B, T, Hq, D});
  k = k.reshape({B, T, Hkv, D});
  if (cfg_->qk_norm) {  // per head, before rope
    q = norm(q, q_norm);
    k = norm(k, k_norm);
  }
  q = q.transpose(1, 2);
  k = k.transpose(1, 2);
  v = v.reshape({B, T, Hkv, D}).transpose(1, 2);
  const bool sliding = cfg_->is_sliding_layer(index_);
  const RopeTables& rope = (sliding && ctx.local_rope) ? *ctx.local_rope : *ctx.rope;
  q = apply_rope(q, rope);
  k = apply_rope(k, rope);
  if (ctx.cache) std::tie(k, v) = append_kv(*ctx.cache, k, v);  // decoding: every slot so far
  const int64_t S = k.size(2);
  if (ctx.kv_cache) {  // K and V as written into a quantized cache, read back by every later query
    at::Tensor o = attend_with_kv_cache(q, k, v, sliding ? ctx.sliding_mask : ctx.mask, softmax_scale(),
                                        softcap(), *ctx.kv_cache);
    return run("self_attn.o_proj", o.transpose(1, 2).reshape({B, T, Hq * D}), ctx);
  }
  const at::Tensor& mask = sliding ? ctx.sliding_mask : ctx.mask;
  at::Tensor o;
  if (!mask.defined() && cpu_causal_attention_applies(q, k, v)) {  // plain causal, float32 on the CPU
    o = cpu_causal_attention(q, k, v, softmax_scale(), softcap());
  } else {
    if (Hkv != Hq) {  // transformers' repeat_kv
      const int64_t rep = Hq / Hkv;
      k = k.unsqueeze(2).expand({B, Hkv, rep, S, D}).reshape({B, Hq, S, D});
      v = v.unsqueeze(2).expand({B, Hkv, rep, S, D}).reshape({B, Hq, S, D});
    }
    o = attend(q, k, v, mask);
  }
  o = o.transpose(1, 2).reshape({B, T, Hq * D});
  return run("self_attn.o_proj", o, ctx);
}

// head_dim^-1/2, or query_pre_attn_scalar^-1/2 (Gemma).
double DecoderBlock::softmax_scale() const {
  return 1.0 / std::sqrt(cfg_->query_pre_attn_scalar > 0 ? cfg_->query_pre_attn_scalar : double(cfg_->head_dim));
}

// Gemma 2's attention soft-cap where the eager attention applies it, else 0 (none).
double DecoderBlock::softcap() const { return cfg_->attn_softcap_eager ? cfg_->attn_softcap : 0.0; }

// softmax(q·kᵀ·scale [soft-capped] + mask)·v.
at::Tensor DecoderBlock::attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                const at::Tensor& mask_in) const {
  const int64_t T = q.size(2);
  const double scale = softmax_scale();
  const double cap = softcap();
#if TORCH_VERSION_MAJOR >= 2
  if (cap <= 0 && cfg_->query_pre_attn_scalar <= 0) {
    if (mask_in.defined()) return at::scaled_dot_product_attention(q, k, v, mask_in, 0.0, false);
    return at::scaled_dot_product_attention(q, k, v, {}, 0.0, true);
  }
#endif
  // The scale and the mask in place: the same kernels as `scores * scale` and `scores + mask` (bitwise the same
  // scores), without two more [B, H, T, S] buffers per call; at 8 windows of 512 tokens each is 50 MB, above glibc's
  // largest mmap threshold, so every one came back as fresh zeroed pages (perf: page faults and page clearing).
  at::Tensor scores = at::matmul(q, k.transpose(-1, -2));
  scores.mul_(scale);
  if (cap > 0) scores = at::tanh(scores / cap) * cap;  // Gemma2's attention soft-capping, before the mask
  at::Tensor mask = mask_in;
  if (!mask.defined()) mask = at::full({T, T}, -std::numeric_limits<float>::infinity(), scores.options()).triu(1);
  if (mask.scalar_type() == scores.scalar_type())
    scores.add_(mask);
  else
    scores = scores + mask;  // type promotion, as before
  at::Tensor p = at::softmax(scores, -1, at::kFloat).to(q.scalar_type());
  return at::matmul(p, v);
}

at::Tensor DecoderBlock::gated_mlp(const std::string& prefix, const at::Tensor& x, const BlockContext& ctx) const {
  at::Tensor g, u;
  if (cfg_->fused_gate_up && prefix == "mlp.") {  // Phi3: rows are [gate | up]
    at::Tensor gu = run(prefix + "gate_up_proj", x, ctx);
    const int64_t I = gu.size(-1) / 2;
    g = gu.narrow(-1, 0, I);
    u = gu.narrow(-1, I, I);
  } else {
    g = run(prefix + "gate_proj", x, ctx);
    u = run(prefix + "up_proj", x, ctx);
  }
  if (cfg_->hidden_act == "gelu_tanh") return run(prefix + "down_proj", at::gelu(g, "tanh") * u, ctx);
  return run(prefix + "down_proj", silu_mul(g, u), ctx);
}

at::Tensor DecoderBlock::mlp(const at::Tensor& x, const BlockContext& ctx) const { return gated_mlp("mlp.", x, ctx); }

at::Tensor DecoderBlock::moe(const at::Tensor& x, const BlockContext& ctx) const {
  if (cfg_->moe_layout == "deepseek") return deepseek_moe(x, ctx);
  const int64_t H = x.size(-1);
  const bool qwen = cfg_->moe_layout == "qwen";
  const std::string base = qwen ? "mlp." : "block_sparse_moe.";
  at::Tensor flat = x.reshape({-1, H});
  at::Tensor logits = run(base + "gate", flat, ctx);
  at::Tensor probs = at::softmax(logits, -1, at::kFloat);
  auto top = probs.topk(cfg_->experts_per_token, -1);
  at::Tensor w = std::get<0>(top);
  at::Tensor idx = std::get<1>(top);
  if (cfg_->norm_topk_prob) w = w / w.sum(-1, true);  // Mixtral always; Qwen per norm_topk_prob
  w = w.to(x.scalar_type());
  at::Tensor out = at::zeros_like(flat);
  for (int64_t e = 0; e < cfg_->num_experts; ++e) {
    at::Tensor hit = idx.eq(e);                 // [N, k]
    at::Tensor rows = hit.any(-1).nonzero().squeeze(-1);
    if (rows.numel() == 0) continue;
    at::Tensor we = (w * hit.to(w.scalar_type())).sum(-1).index_select(0, rows);
    at::Tensor xe = flat.index_select(0, rows);
    std::string p = base + "experts." + std::to_string(e) + ".";
    at::Tensor ye;
    if (qwen) {
      ye = gated_mlp(p, xe, ctx);
    } else {
      at::Tensor h = silu_mul(run(p + "w1", xe, ctx), run(p + "w3", xe, ctx));
      ye = run(p + "w2", h, ctx);
    }
    out.index_add_(0, rows, ye * we.unsqueeze(-1));
  }
  if (qwen && cfg_->shared_expert_intermediate_size > 0)  // Qwen2-MoE: sigmoid-gated shared expert
    out = out + at::sigmoid(run("mlp.shared_expert_gate", flat, ctx)) * gated_mlp("mlp.shared_expert.", flat, ctx);
  return out.view(x.sizes());
}

}  // namespace ptq
