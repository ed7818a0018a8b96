#pragma once
// One decoder block (attention + MLP or mixture of experts) whose linear layers are addressable
// by name and observable: quant/ and eval/ capture a layer's inputs and outputs through a
// LinearObserver and replace weights by assigning Linear::weight.
#include <ATen/ATen.h>

#include <functional>
#include <string>
#include <vector>

#include "core/io/model_config.h"
#include "core/model/block.h"
#include "core/model/model_layout.h"
#include "core/model/rope.h"

namespace ptq {

class DecoderBlock : public Block {
 public:
  DecoderBlock(const ModelConfig& c, int index);

  std::string kind() const override { return "decoder"; }
  // h: [B, T, hidden] -> [B, T, hidden]
  at::Tensor forward(const at::Tensor& h, const BlockContext& ctx) const override;
  // forward = second_half(first_half(h)): the residual stream after the attention, then the output.
  bool has_halves() const override { return true; }
  bool in_first_half(const Linear& l) const override { return l.name().rfind("self_attn.", 0) == 0; }
  at::Tensor first_half(const at::Tensor& h, const BlockContext& ctx) const override;
  at::Tensor second_half(const at::Tensor& r, const BlockContext& ctx) const override;

  // The two residual branches on their normed inputs, for searches that score one module (AWQ
  // scores the attention for input_layernorm -> q,k,v and the MLP / experts for the post-norm).
  at::Tensor attention_branch(const at::Tensor& x, const BlockContext& ctx) const { return attention(x, ctx); }
  at::Tensor mlp_branch(const at::Tensor& x, const BlockContext& ctx) const;

  at::Tensor input_norm;  // input_layernorm.weight
  at::Tensor post_norm;   // post_attention_layernorm.weight (Gemma: on the attention output)
  at::Tensor pre_ff_norm, post_ff_norm;  // Gemma: pre_/post_feedforward_layernorm.weight
  at::Tensor q_norm, k_norm;             // Qwen3, Gemma3: self_attn.q_norm / k_norm.weight [head_dim]
  at::Tensor q_a_norm, kv_a_norm;        // DeepSeek: self_attn.q_a_layernorm / kv_a_layernorm.weight
  at::Tensor score_bias;                 // DeepSeek MoE: mlp.gate.e_score_correction_bias [experts]

  // Every tensor of the block, in a fixed order, with its checkpoint key.
  std::vector<std::pair<std::string, at::Tensor*>> tensors() override;
  bool loaded() const override { return input_norm.defined(); }

 private:
  at::Tensor attention(const at::Tensor& x, const BlockContext& ctx) const;
  at::Tensor mla_attention(const at::Tensor& x, const BlockContext& ctx) const;  // mla_attention.cpp
  at::Tensor deepseek_moe(const at::Tensor& x, const BlockContext& ctx) const;   // moe_routing.cpp
  at::Tensor mlp(const at::Tensor& x, const BlockContext& ctx) const;
  at::Tensor moe(const at::Tensor& x, const BlockContext& ctx) const;
  at::Tensor gated_mlp(const std::string& prefix, const at::Tensor& x, const BlockContext& ctx) const;
  double softmax_scale() const;
  double softcap() const;
  at::Tensor attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask) const;
  at::Tensor norm(const at::Tensor& x, const at::Tensor& w) const;
};

// `b` as the attention decoder block it must be (AWQ's and rotation's folds, tests); throws
// ptq::Error naming the block's kind otherwise.
DecoderBlock& as_decoder(Block& b);

// transformers' LlamaRMSNorm: normalise in float32, cast back, then scale.
at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps);
// transformers' GemmaRMSNorm: normalise and scale by (1 + w) in float32, then cast back.
at::Tensor rms_norm_plus_one(const at::Tensor& x, const at::Tensor& weight, double eps);

}  // namespace ptq
