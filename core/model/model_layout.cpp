#include "core/model/model_layout.h"

namespace ptq {

namespace {

// DeepSeek-V3's multi-head latent attention (DeepseekV3Attention): q_a_proj -> q_a_layernorm ->
// q_b_proj (or q_proj when q_lora_rank is null); kv_a_proj_with_mqa -> [latent | k_rope], the latent
// through kv_a_layernorm -> kv_b_proj ([k_nope | v] per head); o_proj. attention_bias biases
// q_a_proj, kv_a_proj_with_mqa and o_proj only.
void add_mla(const ModelConfig& c, std::vector<LinearSpec>& v) {
  const DeepseekConfig& d = c.deepseek;
  const int64_t H = c.hidden_size, Nh = c.num_heads;
  if (d.q_lora_rank > 0) {
    v.push_back({"self_attn.q_a_proj", d.q_lora_rank, H, c.qkv_bias, "q_a"});
    v.push_back({"self_attn.q_b_proj", Nh * d.qk_head_dim(), d.q_lora_rank, false, "q_b"});
  } else {
    v.push_back({"self_attn.q_proj", Nh * d.qk_head_dim(), H, false, "q"});
  }
  v.push_back({"self_attn.kv_a_proj_with_mqa", d.kv_lora_rank + d.qk_rope_head_dim, H, c.qkv_bias, "kv_a"});
  v.push_back({"self_attn.kv_b_proj", Nh * (d.qk_nope_head_dim + d.v_head_dim), d.kv_lora_rank, false, "kv_b"});
  v.push_back({"self_attn.o_proj", H, Nh * d.v_head_dim, c.o_bias, "o"});
}

void add_attention(const ModelConfig& c, std::vector<LinearSpec>& v) {
  if (c.mla) return add_mla(c, v);
  const int64_t H = c.hidden_size, D = c.head_dim;
  if (c.fused_qkv) {
    v.push_back({"self_attn.qkv_proj", (c.num_heads + 2 * c.num_kv_heads) * D, H, c.qkv_bias, "qkv"});
  } else {
    v.push_back({"self_attn.q_proj", c.num_heads * D, H, c.qkv_bias, "q"});
    v.push_back({"self_attn.k_proj", c.num_kv_heads * D, H, c.qkv_bias, "k"});
    v.push_back({"self_attn.v_proj", c.num_kv_heads * D, H, c.qkv_bias, "v"});
  }
  v.push_back({"self_attn.o_proj", H, c.num_heads * D, c.o_bias, "o"});
}

// A gated MLP named prefix + gate_proj / up_proj / down_proj (or the fused gate_up_proj).
void add_mlp(const std::string& prefix, int64_t H, int64_t I, bool bias, bool fused, int expert,
             std::vector<LinearSpec>& v) {
  if (fused) {
    v.push_back({prefix + "gate_up_proj", 2 * I, H, bias, "gate_up", expert});
  } else {
    v.push_back({prefix + "gate_proj", I, H, bias, "gate", expert});
    v.push_back({prefix + "up_proj", I, H, bias, "up", expert});
  }
  v.push_back({prefix + "down_proj", H, I, bias, "down", expert});
}

void add_moe(const ModelConfig& c, std::vector<LinearSpec>& v) {
  const int64_t H = c.hidden_size, I = c.expert_intermediate_size();
  if (c.moe_layout == "deepseek") {  // DeepseekV3MoE: gate (router), experts.E, shared_experts
    v.push_back({"mlp.gate", c.num_experts, H, false, "router"});
    for (int e = 0; e < c.num_experts; ++e) add_mlp("mlp.experts." + std::to_string(e) + ".", H, I, false, false, e, v);
    if (c.deepseek.n_shared_experts > 0)
      add_mlp("mlp.shared_experts.", H, I * c.deepseek.n_shared_experts, false, false, -1, v);
    return;
  }
  if (c.moe_layout == "qwen") {
    v.push_back({"mlp.gate", c.num_experts, H, false, "router"});
    for (int e = 0; e < c.num_experts; ++e) add_mlp("mlp.experts." + std::to_string(e) + ".", H, I, false, false, e, v);
    if (c.shared_expert_intermediate_size > 0) {
      add_mlp("mlp.shared_expert.", H, c.shared_expert_intermediate_size, false, false, -1, v);
      v.push_back({"mlp.shared_expert_gate", 1, H, false, "router"});
    }
    return;
  }
  v.push_back({"block_sparse_moe.gate", c.num_experts, H, false, "router"});
  for (int e = 0; e < c.num_experts; ++e) {
    std::string p = "block_sparse_moe.experts." + std::to_string(e) + ".";
    v.push_back({p + "w1", I, H, false, "gate", e});
    v.push_back({p + "w3", I, H, false, "up", e});
    v.push_back({p + "w2", H, I, false, "down", e});
  }
}

}  // namespace

std::vector<LinearSpec> block_linears(const ModelConfig& c, int64_t layer) {
  if (c.is_mamba()) return mamba_block_linears(c);
  std::vector<LinearSpec> v;
  add_attention(c, v);
  if (c.is_moe_layer(layer))
    add_moe(c, v);
  else
    add_mlp("mlp.", c.hidden_size, c.intermediate_size, c.mlp_bias, c.fused_gate_up, -1, v);
  return v;
}

std::vector<TensorSpec> block_norms(const ModelConfig& c, int64_t layer) {
  if (c.is_mamba()) return mamba_block_tensors(c, layer);
  const std::string p = "model.layers." + std::to_string(layer) + ".";
  std::vector<TensorSpec> t = {{p + "input_layernorm.weight", {c.hidden_size}},
                               {p + "post_attention_layernorm.weight", {c.hidden_size}}};
  if (c.sandwich_norms) {
    t.push_back({p + "pre_feedforward_layernorm.weight", {c.hidden_size}});
    t.push_back({p + "post_feedforward_layernorm.weight", {c.hidden_size}});
  }
  if (c.qk_norm) {
    t.push_back({p + "self_attn.q_norm.weight", {c.head_dim}});
    t.push_back({p + "self_attn.k_norm.weight", {c.head_dim}});
  }
  if (c.mla) {
    if (c.deepseek.q_lora_rank > 0) t.push_back({p + "self_attn.q_a_layernorm.weight", {c.deepseek.q_lora_rank}});
    t.push_back({p + "self_attn.kv_a_layernorm.weight", {c.deepseek.kv_lora_rank}});
  }
  if (c.moe_layout == "deepseek" && c.is_moe_layer(layer))  // the router's choice-only bias (not a norm)
    t.push_back({p + "mlp.gate.e_score_correction_bias", {c.num_experts}});
  return t;
}

std::string linear_full_name(int layer, const std::string& name) {
  return "layers." + std::to_string(layer) + "." + name;
}
std::string linear_weight_key(int layer, const std::string& name) {
  return "model." + linear_full_name(layer, name) + ".weight";
}
std::string linear_bias_key(int layer, const std::string& name) {
  return "model." + linear_full_name(layer, name) + ".bias";
}

std::string embedding_key(const ModelConfig& c) {
  return c.is_mamba() ? "backbone.embeddings.weight" : "model.embed_tokens.weight";
}
std::string final_norm_key(const ModelConfig& c) { return c.is_mamba() ? "backbone.norm_f.weight" : "model.norm.weight"; }
std::string block_key_prefix(const ModelConfig& c, int layer) {
  return std::string(c.is_mamba() ? "backbone." : "model.") + "layers." + std::to_string(layer) + ".";
}
std::string linear_weight_key(const ModelConfig& c, int layer, const std::string& name) {
  return block_key_prefix(c, layer) + name + ".weight";
}
std::string linear_bias_key(const ModelConfig& c, int layer, const std::string& name) {
  return block_key_prefix(c, layer) + name + ".bias";
}

std::string layer_type_of(const std::string& name) {
  auto ends = [&](const std::string& s) {
    return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
  };
  if (ends("mixer.in_proj")) return "in_proj";
  if (ends("mixer.x_proj")) return "x_proj";
  if (ends("mixer.dt_proj")) return "dt_proj";
  if (ends("mixer.out_proj")) return "out_proj";
  if (ends("qkv_proj")) return "qkv";
  if (ends("q_a_proj")) return "q_a";
  if (ends("q_b_proj")) return "q_b";
  if (ends("kv_a_proj_with_mqa")) return "kv_a";
  if (ends("kv_b_proj")) return "kv_b";
  if (ends("gate_up_proj")) return "gate_up";
  if (ends("moe.gate") || ends("mlp.gate") || ends("shared_expert_gate")) return "router";
  if (ends("q_proj")) return "q";
  if (ends("k_proj")) return "k";
  if (ends("v_proj")) return "v";
  if (ends("o_proj")) return "o";
  if (ends("gate_proj") || ends(".w1")) return "gate";
  if (ends("up_proj") || ends(".w3")) return "up";
  if (ends("down_proj") || ends(".w2")) return "down";
  return "other";
}

std::vector<TensorSpec> expected_tensors(const ModelConfig& c) {
  std::vector<TensorSpec> t;
  t.push_back({embedding_key(c), {c.vocab_size, c.hidden_size}});
  for (int l = 0; l < c.num_layers; ++l) {
    for (auto& n : block_norms(c, l)) t.push_back(n);
    for (const auto& s : block_linears(c, l)) {
      t.push_back({linear_weight_key(c, l, s.name), {s.out_features, s.in_features}});
      if (s.bias) t.push_back({linear_bias_key(c, l, s.name), {s.out_features}});
    }
  }
  t.push_back({final_norm_key(c), {c.hidden_size}});
  if (!c.tie_word_embeddings) t.push_back({"lm_head.weight", {c.vocab_size, c.hidden_size}});
  return t;
}

int64_t parameter_count(const ModelConfig& c) {
  int64_t n = 0;
  for (const auto& t : expected_tensors(c)) {
    int64_t k = 1;
    for (auto d : t.shape) k *= d;
    n += k;
  }
  return n;
}

}  // namespace ptq
