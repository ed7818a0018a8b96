// The per-architecture section of config.json parsing for Qwen3, Qwen3-MoE, Qwen2-MoE, Phi-3,
// Gemma 2 and Gemma 3 (text). Defaults follow transformers' configuration_*.py of each family.
#include <cmath>
#include <set>
#include <type_traits>
#include <cstdint>

#include "core/io/model_config.h"
#include "core/runtime/errors.h"

namespace ptq {

using json = nlohmann::json;

namespace {

template <typename T>
T value_or(const json& j, const char* key, T def) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return def;
  bool ok;
  if constexpr (std::is_same_v<T, bool>) ok = it->is_boolean();
  else if constexpr (std::is_integral_v<T>)
    ok = it->is_number_integer() && !(it->is_number_unsigned() && it->get<uint64_t>() > uint64_t(INT64_MAX));
  else if constexpr (std::is_floating_point_v<T>) ok = it->is_number();
  else ok = it->is_string();
  if (!ok) {
    const char* want = std::is_same_v<T, bool> ? "true or false" : std::is_integral_v<T> ? "an integer"
                       : std::is_floating_point_v<T> ? "a number" : "a string";
    throw Error("'" + std::string(key) + "' must be " + want + ", got " + it->dump());
  }
  return it->get<T>();
}

double non_negative(const json& j, const char* key, const std::string& source) {
  const double v = value_or<double>(j, key, 0.0);
  if (!(v >= 0.0) || !std::isfinite(v))
    throw Error(source + ": '" + key + "' must be a finite number >= 0 (or null), got " + std::to_string(v));
  return v;
}

// layer_types when given; otherwise `sliding(i)` decides each layer.
template <typename F>
void read_layer_types(ModelConfig& c, const json& j, const std::string& source, F sliding) {
  c.layer_types.clear();
  if (j.contains("layer_types") && j["layer_types"].is_array()) {
    for (const auto& t : j["layer_types"]) {
      if (!t.is_string()) throw Error(source + ": 'layer_types' entries must be strings, got " + t.dump());
      c.layer_types.push_back(t.get<std::string>());
    }
    if (int64_t(c.layer_types.size()) != c.num_layers)
      throw Error(source + ": 'layer_types' has " + std::to_string(c.layer_types.size()) + " entries but num_hidden_layers is " +
                  std::to_string(c.num_layers));
  } else {
    for (int64_t i = 0; i < c.num_layers; ++i) c.layer_types.push_back(sliding(i) ? "sliding_attention" : "full_attention");
  }
  for (const auto& t : c.layer_types)
    if (t != "full_attention" && t != "sliding_attention")
      throw Error(source + ": layer type '" + t + "' is not supported (supported: full_attention, sliding_attention)");
}

void read_activation(ModelConfig& c, const json& j, const std::string& source, const char* def) {
  std::string a = value_or<std::string>(j, "hidden_activation", value_or<std::string>(j, "hidden_act", def));
  if (a == "gelu_pytorch_tanh" || a == "gelu_tanh") a = "gelu_tanh";
  if (a != "silu" && a != "gelu_tanh")
    throw Error(source + ": activation '" + a + "' is not supported for " + c.architecture +
                " (supported: silu, gelu_pytorch_tanh)");
  c.hidden_act = a;
}

// Qwen2/Qwen3: sliding windows only with use_sliding_window, on layers >= max_window_layers.
void read_qwen_sliding(ModelConfig& c, const json& j, const std::string& source) {
  c.sliding_window = 0;
  c.layer_types.clear();
  if (!value_or<bool>(j, "use_sliding_window", false)) return;
  c.sliding_window = value_or<int64_t>(j, "sliding_window", 0);
  const int64_t max_window_layers = value_or<int64_t>(j, "max_window_layers", c.num_layers);
  read_layer_types(c, j, source, [&](int64_t i) { return c.sliding_window > 0 && i >= max_window_layers; });
}

void read_qwen_moe(ModelConfig& c, const json& j, const std::string& source, bool shared_expert) {
  c.moe_layout = "qwen";
  c.num_experts = value_or<int64_t>(j, "num_experts", value_or<int64_t>(j, "num_local_experts", 0));
  c.experts_per_token = value_or<int64_t>(j, "num_experts_per_tok", 0);
  c.moe_intermediate_size = value_or<int64_t>(j, "moe_intermediate_size", 0);
  if (c.num_experts <= 0 || c.experts_per_token <= 0 || c.moe_intermediate_size <= 0)
    throw Error(source + ": " + c.architecture +
                " needs positive 'num_experts' (or 'num_local_experts'), 'num_experts_per_tok' and 'moe_intermediate_size'");
  if (c.experts_per_token > c.num_experts) throw Error(source + ": num_experts_per_tok exceeds num_experts");
  c.norm_topk_prob = value_or<bool>(j, "norm_topk_prob", false);
  c.decoder_sparse_step = value_or<int64_t>(j, "decoder_sparse_step", 1);
  if (c.decoder_sparse_step <= 0) throw Error(source + ": 'decoder_sparse_step' must be a positive integer");
  c.mlp_only_layers.clear();
  if (j.contains("mlp_only_layers") && j["mlp_only_layers"].is_array())
    for (const auto& l : j["mlp_only_layers"]) {
      if (!l.is_number_integer()) throw Error(source + ": 'mlp_only_layers' entries must be integers, got " + l.dump());
      const int64_t i = l.get<int64_t>();
      if (i < 0 || i >= c.num_layers)
        throw Error(source + ": mlp_only_layers entry " + std::to_string(i) + " is outside 0.." + std::to_string(c.num_layers - 1));
      c.mlp_only_layers.push_back(i);
    }
  if (shared_expert) {
    c.shared_expert_intermediate_size = value_or<int64_t>(j, "shared_expert_intermediate_size", 0);
    if (c.shared_expert_intermediate_size < 0) throw Error(source + ": 'shared_expert_intermediate_size' must be >= 0");
  }
}

// Gemma 3: transformers 5 nests rope_parameters per layer type; the hub layout has rope_theta (global),
// rope_local_base_freq (sliding layers) and rope_scaling (global layers only).
void read_gemma3_rope(ModelConfig& c, const json& j, const std::string& source) {
  const json rp = j.value("rope_parameters", json());
  if (rp.is_object() && (rp.contains("full_attention") || rp.contains("sliding_attention"))) {
    const json full = rp.value("full_attention", json::object());
    const json local = rp.value("sliding_attention", json::object());
    if (!full.is_object() || !local.is_object())
      throw Error(source + ": 'rope_parameters.full_attention' and '.sliding_attention' must be objects");
    c.rope_theta = value_or<double>(full, "rope_theta", 1000000.0);
    c.rope_scaling = parse_rope_scaling(full, source, c.max_position_embeddings);
    c.rope_local_theta = value_or<double>(local, "rope_theta", 10000.0);
    c.rope_local_scaling = parse_rope_scaling(local, source, c.max_position_embeddings);
  } else {
    c.rope_local_theta = value_or<double>(j, "rope_local_base_freq", 10000.0);
    c.rope_local_scaling = RopeScaling{};
  }
  if (!(c.rope_theta > 0) || !(c.rope_local_theta > 0))
    throw Error(source + ": rope bases of full and sliding layers must be positive");
}

void read_gemma(ModelConfig& c, const json& j, const std::string& source, bool gemma3) {
  c.norm_plus_one = c.sandwich_norms = c.embed_scale = true;
  c.qk_norm = gemma3;
  read_activation(c, j, source, "gelu_pytorch_tanh");
  c.attn_softcap = non_negative(j, "attn_logit_softcapping", source);
  const std::string impl = value_or<std::string>(j, "_attn_implementation", value_or<std::string>(j, "attn_implementation", "sdpa"));
  c.attn_softcap_eager = (impl == "eager");
  c.final_softcap = non_negative(j, "final_logit_softcapping", source);
  c.query_pre_attn_scalar = value_or<double>(j, "query_pre_attn_scalar", double(c.head_dim));
  if (!(c.query_pre_attn_scalar > 0)) throw Error(source + ": 'query_pre_attn_scalar' must be positive");
  c.sliding_window = value_or<int64_t>(j, "sliding_window", 0);
  const int64_t pattern = gemma3 ? value_or<int64_t>(j, "sliding_window_pattern", value_or<int64_t>(j, "_sliding_window_pattern", 6)) : 2;
  if (pattern <= 0) throw Error(source + ": 'sliding_window_pattern' must be positive");
  read_layer_types(c, j, source, [&](int64_t i) { return (i + 1) % pattern != 0; });
  if (gemma3) read_gemma3_rope(c, j, source);
}

void read_phi3(ModelConfig& c, const json& j, const std::string& source) {
  c.fused_qkv = c.fused_gate_up = true;
  c.qkv_bias = c.o_bias = c.mlp_bias = false;
  read_activation(c, j, source, "silu");
  const double partial = value_or<double>(j, "partial_rotary_factor", 1.0);
  if (partial != 1.0)
    throw Error(source + ": partial_rotary_factor " + std::to_string(partial) +
                " is not supported (only rotary embeddings over the whole head, 1.0)");
  c.sliding_window = value_or<int64_t>(j, "sliding_window", 0);  // every layer, as transformers' Phi3
}

}  // namespace

bool ModelConfig::is_moe_layer(int64_t layer) const {
  if (num_experts <= 0) return false;
  if (moe_layout == "deepseek") return layer >= deepseek.first_k_dense_replace;
  if (moe_layout != "qwen") return true;
  for (int64_t l : mlp_only_layers)
    if (l == layer) return false;
  return (layer + 1) % decoder_sparse_step == 0;
}

bool ModelConfig::is_sliding_layer(int64_t layer) const {
  return sliding_window > 0 && layer >= 0 && layer < int64_t(layer_types.size()) &&
         layer_types[size_t(layer)] == "sliding_attention";
}

void parse_family_features(ModelConfig& c, const json& j, const std::string& source) {
  const std::string& a = c.architecture;
  if (a == "Qwen3ForCausalLM" || a == "Qwen3MoeForCausalLM" || a == "Qwen2MoeForCausalLM") {
    read_activation(c, j, source, "silu");
    read_qwen_sliding(c, j, source);
    c.qk_norm = (a != "Qwen2MoeForCausalLM");
    if (a == "Qwen2MoeForCausalLM") {  // q/k/v always biased in the released models
      c.qkv_bias = value_or<bool>(j, "qkv_bias", true);
      c.o_bias = c.mlp_bias = false;
    }
    if (a != "Qwen3ForCausalLM") read_qwen_moe(c, j, source, a == "Qwen2MoeForCausalLM");
  } else if (a == "Phi3ForCausalLM") {
    read_phi3(c, j, source);
  } else if (a == "Gemma2ForCausalLM" || a == "Gemma3ForCausalLM") {
    read_gemma(c, j, source, a == "Gemma3ForCausalLM");
  } else if (a == "DeepseekV3ForCausalLM") {
    parse_deepseek_features(c, j, source);
  }
  if (c.sliding_window < 0) throw Error(source + ": 'sliding_window' must be >= 0 (or null)");
}

}  // namespace ptq
