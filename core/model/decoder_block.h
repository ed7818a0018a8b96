#pragma once
// One decoder block (attention + MLP or mixture of experts) whose linear layers are addressable
// by name and observable: quant/ and eval/ capture a layer's inputs and outputs through a
// LinearObserver and replace weights by assigning Linear::weight.
#include <ATen/ATen.h>

#include <functional>
#include <string>
#include <vector>

#include "core/io/model_config.h"
#include "core/model/model_layout.h"
#include "core/model/rope.h"

namespace ptq {

struct Linear {
  LinearSpec spec;      // name inside the block, shapes, layer type
  at::Tensor weight;    // [out, in] in the compute dtype
  at::Tensor bias;      // [out] or undefined
  // Optional online transform of the input before the matmul (e.g. a Hadamard rotation of
  // down_proj inputs); observers see the transformed input, the one the weight multiplies.
  std::function<at::Tensor(const at::Tensor&)> input_transform;
  // Optional fake quantization of the input (after input_transform, so it sees what the weight
  // multiplies) and of the output (q/k/v for attention); unset = full precision. Installed by
  // quant/pipeline/act_install.h; observers see the quantized input.
  std::function<at::Tensor(const at::Tensor&)> input_quantizer, output_quantizer;

  const std::string& name() const { return spec.name; }
  at::Tensor forward(const at::Tensor& x, class LinearObserver* obs, int block) const;
};

class LinearObserver {
 public:
  virtual ~LinearObserver() = default;
  // `input` is [tokens, in] and `output` [tokens, out] for the tokens this layer saw
  // (all tokens of the batch, or the tokens routed to an expert).
  virtual void on_linear(int block, const Linear& layer, const at::Tensor& input, const at::Tensor& output) = 0;
};

struct BlockContext {
  const RopeTables* rope = nullptr;
  at::Tensor mask;                    // additive [T, T] mask, or undefined for plain causal attention
  LinearObserver* observer = nullptr;
  // Layers that layer_types marks sliding_attention (Gemma): their own rope (Gemma3's local base;
  // null = rope) and mask (undefined = plain causal, when the sequence fits in the window).
  const RopeTables* local_rope = nullptr;
  at::Tensor sliding_mask;
};

class DecoderBlock {
 public:
  DecoderBlock(const ModelConfig& c, int index);

  int index() const { return index_; }
  // h: [B, T, hidden] -> [B, T, hidden]
  at::Tensor forward(const at::Tensor& h, const BlockContext& ctx) const;

  // The two residual branches on their normed inputs, for searches that score one module (AWQ
  // scores the attention for input_layernorm -> q,k,v and the MLP / experts for the post-norm).
  at::Tensor attention_branch(const at::Tensor& x, const BlockContext& ctx) const { return attention(x, ctx); }
  at::Tensor mlp_branch(const at::Tensor& x, const BlockContext& ctx) const;

  Linear& linear(const std::string& name);
  const Linear& linear(const std::string& name) const;
  Linear* find(const std::string& name);
  std::vector<Linear>& linears() { return linears_; }
  const std::vector<Linear>& linears() const { return linears_; }

  at::Tensor input_norm;  // input_layernorm.weight
  at::Tensor post_norm;   // post_attention_layernorm.weight (Gemma: on the attention output)
  at::Tensor pre_ff_norm, post_ff_norm;  // Gemma: pre_/post_feedforward_layernorm.weight
  at::Tensor q_norm, k_norm;             // Qwen3, Gemma3: self_attn.q_norm / k_norm.weight [head_dim]

  // Every tensor of the block, in a fixed order, with its checkpoint key.
  std::vector<std::pair<std::string, at::Tensor*>> tensors();
  bool loaded() const { return input_norm.defined(); }
  int64_t bytes() const;  // of the tensors as they are now
  void unload();          // drops the tensors (frees their memory)

  // Set by whoever changes weights, so a streamed block keeps the change when it leaves the device.
  void mark_modified() { modified_ = true; }
  bool modified() const { return modified_; }

 private:
  at::Tensor attention(const at::Tensor& x, const BlockContext& ctx) const;
  at::Tensor mlp(const at::Tensor& x, const BlockContext& ctx) const;
  at::Tensor moe(const at::Tensor& x, const BlockContext& ctx) const;
  at::Tensor gated_mlp(const std::string& prefix, const at::Tensor& x, const BlockContext& ctx) const;
  at::Tensor attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask) const;
  at::Tensor norm(const at::Tensor& x, const at::Tensor& w) const;
  at::Tensor run(const std::string& name, const at::Tensor& x, const BlockContext& ctx) const;

  const ModelConfig* cfg_;
  int index_;
  std::vector<Linear> linears_;
  bool modified_ = false;
};

// transformers' LlamaRMSNorm: normalise in float32, cast back, then scale.
at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps);
// transformers' GemmaRMSNorm: normalise and scale by (1 + w) in float32, then cast back.
at::Tensor rms_norm_plus_one(const at::Tensor& x, const at::Tensor& weight, double eps);

}  // namespace ptq
