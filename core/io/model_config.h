#pragma once
// config.json of a Hugging Face causal LM, in both layouts: the long-standing
// rope_theta / rope_scaling / torch_dtype keys and transformers 5's rope_parameters / dtype.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ptq {

struct RopeScaling {
  std::string type = "default";  // default | linear | llama3
  double factor = 1.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_max_position_embeddings = 8192;
};

struct ModelConfig {
  std::string architecture;  // LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, MixtralForCausalLM
  std::string model_type;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;
  int64_t vocab_size = 0;
  int64_t max_position_embeddings = 2048;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  bool tie_word_embeddings = false;
  bool qkv_bias = false;  // Qwen2 always; Llama when attention_bias
  bool o_bias = false;    // Llama attention_bias
  bool mlp_bias = false;
  std::string dtype = "float32";  // storage dtype declared by the checkpoint
  int64_t num_experts = 0;        // Mixtral: num_local_experts
  int64_t experts_per_token = 0;  // Mixtral: num_experts_per_tok
  int64_t sliding_window = 0;     // 0 = full causal attention
  nlohmann::json raw;

  // ---- Features of the later families (Qwen3, Qwen2/3-MoE, Gemma 2/3, Phi-3), set by
  // parse_family_features (model_config_families.cpp); the defaults are Llama's.
  bool qk_norm = false;                 // Qwen3, Gemma3: RMSNorm per head on q and k before rope
  bool norm_plus_one = false;           // Gemma: RMSNorm scales by (1 + w), in float32
  bool sandwich_norms = false;          // Gemma: post_attention_layernorm on the attention output,
                                        // pre_/post_feedforward_layernorm around the MLP
  bool embed_scale = false;             // Gemma: embeddings × sqrt(hidden) in the model dtype
  std::string hidden_act = "silu";      // silu | gelu_tanh
  double attn_softcap = 0.0;            // Gemma2: scores = cap·tanh(scores/cap); 0 = off
  // transformers applies attn_softcap only in its eager attention; its default (sdpa) ignores it,
  // and the parity references follow the default. True when config.json asks for eager
  // ("_attn_implementation" or "attn_implementation": "eager").
  bool attn_softcap_eager = false;
  double final_softcap = 0.0;           // Gemma2: logits = cap·tanh(logits/cap); 0 = off
  double query_pre_attn_scalar = 0.0;   // Gemma: scores scaled by this^-1/2; 0 = head_dim
  std::vector<std::string> layer_types; // per layer full_attention | sliding_attention; empty = uniform
  double rope_local_theta = 0.0;        // rope base of sliding layers (Gemma3); 0 = rope_theta
  RopeScaling rope_local_scaling;       // rope scaling of sliding layers (Gemma3)
  bool fused_qkv = false;               // Phi3: self_attn.qkv_proj
  bool fused_gate_up = false;           // Phi3: mlp.gate_up_proj (gate rows first)
  std::string moe_layout;               // "" (none) | mixtral (block_sparse_moe.*) | qwen (mlp.gate, mlp.experts.*)
  int64_t moe_intermediate_size = 0;    // qwen MoE experts (dense layers use intermediate_size)
  int64_t shared_expert_intermediate_size = 0;  // Qwen2-MoE shared expert; 0 = none
  bool norm_topk_prob = true;           // renormalise the top-k routing weights
  std::vector<int64_t> mlp_only_layers; // qwen MoE: layers that keep a dense MLP
  int64_t decoder_sparse_step = 1;      // qwen MoE: layer l is MoE when (l+1) % step == 0

  // ---- Mamba-1 (MambaForCausalLM), set by parse_mamba_config (model_config_mamba.cpp): no
  // attention (num_heads 0), intermediate_size = expand · hidden, rms_norm_eps from layer_norm_epsilon.
  int64_t ssm_state_size = 0;           // state_size (N)
  int64_t conv_kernel = 0;              // depthwise causal conv1d width
  int64_t time_step_rank = 0;           // dt rank ("auto" = ceil(hidden / 16))
  bool conv_bias = false;               // use_conv_bias
  bool mixer_bias = false;              // use_bias: in_proj / out_proj biases
  bool residual_in_fp32 = false;        // the residual stream between blocks is float32

  bool is_mamba() const { return architecture == "MambaForCausalLM"; }
  // Whether the model keeps keys and values per token when generating (Mamba keeps a fixed state).
  bool has_kv_cache() const { return !is_mamba(); }
  bool is_moe() const { return num_experts > 0; }
  bool is_moe_layer(int64_t layer) const;
  // Layer marked sliding_attention in layer_types (the window then applies to that layer only;
  // without layer_types, sliding_window applies to every layer, as for Mistral).
  bool is_sliding_layer(int64_t layer) const;
  int64_t expert_intermediate_size() const { return moe_intermediate_size > 0 ? moe_intermediate_size : intermediate_size; }
  // Parses and validates; `source` names the file in errors.
  static ModelConfig from_json(const nlohmann::json& j, const std::string& source = "config.json");
  static ModelConfig load(const std::string& path);
  // The config.json a Hugging Face loader accepts (long-standing layout).
  nlohmann::json to_hf_json() const;
};

const std::vector<std::string>& supported_architectures();
// rope_scaling / rope_parameters object -> RopeScaling (throws on unsupported types).
RopeScaling parse_rope_scaling(const nlohmann::json& r, const std::string& source);
// The per-architecture section of from_json for the later families (no-op for the first four).
void parse_family_features(ModelConfig& c, const nlohmann::json& j, const std::string& source);
// MambaForCausalLM's config.json (replaces the attention shape keys); and its config.json writer.
void parse_mamba_config(ModelConfig& c, const nlohmann::json& j, const std::string& source);
nlohmann::json mamba_hf_json(const ModelConfig& c);

}  // namespace ptq
