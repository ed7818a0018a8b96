#include "core/model/decoder_block.h"

#include <torch/version.h>

#include <cmath>

#include "core/runtime/errors.h"

namespace ptq {

at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  at::Tensor h = x.to(at::kFloat);
  at::Tensor var = h.pow(2).mean(-1, true);
  h = h * at::rsqrt(var + eps);
  return weight * h.to(x.scalar_type());
}

at::Tensor Linear::forward(const at::Tensor& x, LinearObserver* obs, int block) const {
  at::Tensor in = input_transform ? input_transform(x) : x;
  at::Tensor out = at::linear(in, weight, bias.defined() ? c10::optional<at::Tensor>(bias) : c10::nullopt);
  if (obs) {
    const int64_t n_in = in.size(-1), n_out = out.size(-1);
    obs->on_linear(block, *this, in.reshape({-1, n_in}), out.reshape({-1, n_out}));
  }
  return out;
}

DecoderBlock::DecoderBlock(const ModelConfig& c, int index) : cfg_(&c), index_(index) {
  for (auto& s : block_linears(c)) linears_.push_back(Linear{s, {}, {}, {}});
}

Linear* DecoderBlock::find(const std::string& name) {
  for (auto& l : linears_)
    if (l.spec.name == name) return &l;
  return nullptr;
}

Linear& DecoderBlock::linear(const std::string& name) {
  Linear* l = find(name);
  if (!l) throw Error("block " + std::to_string(index_) + " has no linear layer '" + name + "'");
  return *l;
}

const Linear& DecoderBlock::linear(const std::string& name) const {
  return const_cast<DecoderBlock*>(this)->linear(name);
}

std::vector<std::pair<std::string, at::Tensor*>> DecoderBlock::tensors() {
  std::string p = "model.layers." + std::to_string(index_) + ".";
  std::vector<std::pair<std::string, at::Tensor*>> v = {{p + "input_layernorm.weight", &input_norm},
                                                        {p + "post_attention_layernorm.weight", &post_norm}};
  for (auto& l : linears_) {
    v.push_back({linear_weight_key(index_, l.spec.name), &l.weight});
    if (l.spec.bias) v.push_back({linear_bias_key(index_, l.spec.name), &l.bias});
  }
  return v;
}

int64_t DecoderBlock::bytes() const {
  int64_t n = 0;
  for (auto& kv : const_cast<DecoderBlock*>(this)->tensors())
    if (kv.second->defined()) n += kv.second->numel() * kv.second->element_size();
  return n;
}

void DecoderBlock::unload() {
  for (auto& kv : tensors()) *kv.second = at::Tensor();
}

at::Tensor DecoderBlock::run(const std::string& name, const at::Tensor& x, const BlockContext& ctx) const {
  return linear(name).forward(x, ctx.observer, index_);
}

at::Tensor DecoderBlock::forward(const at::Tensor& h, const BlockContext& ctx) const {
  if (!loaded()) throw Error("block " + std::to_string(index_) + " used before its weights were loaded");
  at::Tensor x = rms_norm(h, input_norm, cfg_->rms_norm_eps);
  at::Tensor r = h + attention(x, ctx);
  x = rms_norm(r, post_norm, cfg_->rms_norm_eps);
  return r + mlp_branch(x, ctx);
}

at::Tensor DecoderBlock::mlp_branch(const at::Tensor& x, const BlockContext& ctx) const {
  return cfg_->is_moe() ? moe(x, ctx) : mlp(x, ctx);
}

at::Tensor DecoderBlock::attention(const at::Tensor& x, const BlockContext& ctx) const {
  const int64_t B = x.size(0), T = x.size(1), D = cfg_->head_dim;
  const int64_t Hq = cfg_->num_heads, Hkv = cfg_->num_kv_heads;
  at::Tensor q = run("self_attn.q_proj", x, ctx).view({B, T, Hq, D}).transpose(1, 2);
  at::Tensor k = run("self_attn.k_proj", x, ctx).view({B, T, Hkv, D}).transpose(1, 2);
  at::Tensor v = run("self_attn.v_proj", x, ctx).view({B, T, Hkv, D}).transpose(1, 2);
  q = apply_rope(q, *ctx.rope);
  k = apply_rope(k, *ctx.rope);
  if (Hkv != Hq) {  // transformers' repeat_kv
    const int64_t rep = Hq / Hkv;
    k = k.unsqueeze(2).expand({B, Hkv, rep, T, D}).reshape({B, Hq, T, D});
    v = v.unsqueeze(2).expand({B, Hkv, rep, T, D}).reshape({B, Hq, T, D});
  }
  at::Tensor o;
#if TORCH_VERSION_MAJOR >= 2
  if (ctx.mask.defined())
    o = at::scaled_dot_product_attention(q, k, v, ctx.mask, 0.0, false);
  else
    o = at::scaled_dot_product_attention(q, k, v, {}, 0.0, true);
#else
  {
    at::Tensor scores = at::matmul(q, k.transpose(-1, -2)) * (1.0 / std::sqrt(double(D)));
    at::Tensor mask = ctx.mask;
    if (!mask.defined()) {
      mask = at::full({T, T}, -std::numeric_limits<float>::infinity(), scores.options()).triu(1);
    }
    scores = scores + mask;
    at::Tensor p = at::softmax(scores, -1, at::kFloat).to(q.scalar_type());
    o = at::matmul(p, v);
  }
#endif
  o = o.transpose(1, 2).reshape({B, T, Hq * D});
  return run("self_attn.o_proj", o, ctx);
}

at::Tensor DecoderBlock::mlp(const at::Tensor& x, const BlockContext& ctx) const {
  at::Tensor g = run("mlp.gate_proj", x, ctx);
  at::Tensor u = run("mlp.up_proj", x, ctx);
  return run("mlp.down_proj", at::silu(g) * u, ctx);
}

at::Tensor DecoderBlock::moe(const at::Tensor& x, const BlockContext& ctx) const {
  const int64_t H = x.size(-1);
  at::Tensor flat = x.reshape({-1, H});
  at::Tensor logits = run("block_sparse_moe.gate", flat, ctx);
  at::Tensor probs = at::softmax(logits, -1, at::kFloat);
  auto top = probs.topk(cfg_->experts_per_token, -1);
  at::Tensor w = std::get<0>(top);
  at::Tensor idx = std::get<1>(top);
  w = (w / w.sum(-1, true)).to(x.scalar_type());  // Mixtral renormalises the top-k weights
  at::Tensor out = at::zeros_like(flat);
  for (int64_t e = 0; e < cfg_->num_experts; ++e) {
    at::Tensor hit = idx.eq(e);                 // [N, k]
    at::Tensor rows = hit.any(-1).nonzero().squeeze(-1);
    if (rows.numel() == 0) continue;
    at::Tensor we = (w * hit.to(w.scalar_type())).sum(-1).index_select(0, rows);
    at::Tensor xe = flat.index_select(0, rows);
    std::string p = "block_sparse_moe.experts." + std::to_string(e) + ".";
    at::Tensor h = at::silu(run(p + "w1", xe, ctx)) * run(p + "w3", xe, ctx);
    at::Tensor ye = run(p + "w2", h, ctx) * we.unsqueeze(-1);
    out.index_add_(0, rows, ye);
  }
  return out.view(x.sizes());
}

}  // namespace ptq
