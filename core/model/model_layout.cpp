#include "core/model/model_layout.h"

namespace ptq {

std::vector<LinearSpec> block_linears(const ModelConfig& c) {
  const int64_t H = c.hidden_size, I = c.intermediate_size, D = c.head_dim;
  std::vector<LinearSpec> v = {
      {"self_attn.q_proj", c.num_heads * D, H, c.qkv_bias, "q"},
      {"self_attn.k_proj", c.num_kv_heads * D, H, c.qkv_bias, "k"},
      {"self_attn.v_proj", c.num_kv_heads * D, H, c.qkv_bias, "v"},
      {"self_attn.o_proj", H, c.num_heads * D, c.o_bias, "o"},
  };
  if (c.is_moe()) {
    v.push_back({"block_sparse_moe.gate", c.num_experts, H, false, "router"});
    for (int e = 0; e < c.num_experts; ++e) {
      std::string p = "block_sparse_moe.experts." + std::to_string(e) + ".";
      v.push_back({p + "w1", I, H, false, "gate", e});
      v.push_back({p + "w3", I, H, false, "up", e});
      v.push_back({p + "w2", H, I, false, "down", e});
    }
  } else {
    v.push_back({"mlp.gate_proj", I, H, c.mlp_bias, "gate"});
    v.push_back({"mlp.up_proj", I, H, c.mlp_bias, "up"});
    v.push_back({"mlp.down_proj", H, I, c.mlp_bias, "down"});
  }
  return v;
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

std::string layer_type_of(const std::string& name) {
  auto ends = [&](const std::string& s) {
    return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
  };
  if (ends("q_proj")) return "q";
  if (ends("k_proj")) return "k";
  if (ends("v_proj")) return "v";
  if (ends("o_proj")) return "o";
  if (ends("gate_proj") || ends(".w1")) return "gate";
  if (ends("up_proj") || ends(".w3")) return "up";
  if (ends("down_proj") || ends(".w2")) return "down";
  if (ends("moe.gate")) return "router";
  return "other";
}

std::vector<TensorSpec> expected_tensors(const ModelConfig& c) {
  std::vector<TensorSpec> t;
  t.push_back({"model.embed_tokens.weight", {c.vocab_size, c.hidden_size}});
  for (int l = 0; l < c.num_layers; ++l) {
    std::string p = "model.layers." + std::to_string(l) + ".";
    t.push_back({p + "input_layernorm.weight", {c.hidden_size}});
    t.push_back({p + "post_attention_layernorm.weight", {c.hidden_size}});
    for (const auto& s : block_linears(c)) {
      t.push_back({linear_weight_key(l, s.name), {s.out_features, s.in_features}});
      if (s.bias) t.push_back({linear_bias_key(l, s.name), {s.out_features}});
    }
  }
  t.push_back({"model.norm.weight", {c.hidden_size}});
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
