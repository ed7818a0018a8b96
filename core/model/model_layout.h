#pragma once
// The one place that knows how a supported architecture names and shapes its tensors.
// Loading validates against it, `ptq inspect` lists it, make-checkpoint writes it.
#include <string>
#include <vector>

#include "core/io/model_config.h"

namespace ptq {

struct LinearSpec {
  std::string name;  // inside the block: "self_attn.q_proj", "block_sparse_moe.experts.2.w1"
  int64_t out_features = 0, in_features = 0;
  bool bias = false;
  std::string type;  // q, k, v, o, qkv (fused), gate, up, gate_up (fused), down, router;
                     // DeepSeek's latent attention: q_a, q_b, kv_a (kv_a_proj_with_mqa), kv_b;
                     // Mamba: in_proj, x_proj, dt_proj, out_proj
  int expert = -1;   // expert index for MoE experts
};

struct TensorSpec {
  std::string name;  // checkpoint name
  std::vector<int64_t> shape;
};

// Linear layers of decoder block `layer`, in execution order (layers differ in Qwen-MoE's
// mlp_only_layers / decoder_sparse_step).
std::vector<LinearSpec> block_linears(const ModelConfig& c, int64_t layer);
// Norm weights of block `layer` (input / post-attention, Gemma's pre/post feed-forward, q/k norms;
// Mamba: the block norm and the mixer's other tensors, conv1d, A_log, D).
std::vector<TensorSpec> block_norms(const ModelConfig& c, int64_t layer);
// Every tensor the checkpoint must hold (lm_head omitted when tied).
std::vector<TensorSpec> expected_tensors(const ModelConfig& c);
// "layers.3.mlp.down_proj" for block 3's "mlp.down_proj".
std::string linear_full_name(int layer, const std::string& name);
// Checkpoint tensor name of a block linear's weight / bias.
std::string linear_weight_key(int layer, const std::string& name);
std::string linear_bias_key(int layer, const std::string& name);
// Checkpoint keys of the tensors outside the blocks and a block's key prefix ("model.embed_tokens.weight",
// "model.norm.weight", "model.layers.3."; Mamba: "backbone.embeddings.weight", "backbone.norm_f.weight",
// "backbone.layers.3."), and a block linear's weight / bias key for the architecture.
std::string embedding_key(const ModelConfig& c);
std::string final_norm_key(const ModelConfig& c);
std::string block_key_prefix(const ModelConfig& c, int layer);
std::string linear_weight_key(const ModelConfig& c, int layer, const std::string& name);
std::string linear_bias_key(const ModelConfig& c, int layer, const std::string& name);
// Mamba-1's block (mamba_layout.cpp): mixer.in_proj, x_proj, dt_proj, out_proj; and its other tensors.
std::vector<LinearSpec> mamba_block_linears(const ModelConfig& c);
std::vector<TensorSpec> mamba_block_tensors(const ModelConfig& c, int64_t layer);
// Layer type for grouping analyses: q, k, v, o, qkv, q_a, q_b, kv_a, kv_b, gate, up, gate_up, down,
// router, Mamba's in_proj, x_proj, dt_proj, out_proj, else "other" (experts and the shared experts
// of Qwen2-MoE / DeepSeek map to gate/up/down; shared_expert_gate is a router).
std::string layer_type_of(const std::string& name);
int64_t parameter_count(const ModelConfig& c);

}  // namespace ptq
