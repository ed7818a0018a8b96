#pragma once
// config.json of a Hugging Face causal LM, in both layouts: the long-standing
// rope_theta / rope_scaling / torch_dtype keys and transformers 5's rope_parameters / dtype.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ptq {

struct RopeScaling {
  std::string type = "default";  // default | linear | llama3 | yarn
  double factor = 1.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_max_position_embeddings = 8192;  // yarn: defaults to max_position_embeddings
  // yarn (transformers' _compute_yarn_parameters); 0 = the key is absent / null.
  double attention_factor = 0.0;  // scales cos and sin; 0 = derived from factor, mscale, mscale_all_dim
  double mscale = 0.0, mscale_all_dim = 0.0;
  double beta_fast = 32.0, beta_slow = 1.0;
  bool truncate = true;
};

// DeepSeek-V3: multi-head latent attention and its MoE routing (configuration_deepseek_v3.py).
struct DeepseekConfig {
  int64_t q_lora_rank = 0;         // 0 = q_proj (q_lora_rank null)
  int64_t kv_lora_rank = 0;
  int64_t qk_nope_head_dim = 0, qk_rope_head_dim = 0, v_head_dim = 0;
  bool rope_interleave = true;
  int64_t n_group = 1, topk_group = 1;
  double routed_scaling_factor = 1.0;
  int64_t n_shared_experts = 0;
  int64_t first_k_dense_replace = 0;
  int64_t qk_head_dim() const { return qk_nope_head_dim + qk_rope_head_dim; }
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
  // DeepseekV3ForCausalLM (model_config_deepseek.cpp); moe_layout "deepseek". head_dim is the rope
  // dimension qk_rope_head_dim there, as transformers' DeepseekV3Config sets it.
  bool mla = false;
  DeepseekConfig deepseek;

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
// max_positions bounds original_max_position_embeddings and is yarn's default for it (0: no bound).
RopeScaling parse_rope_scaling(const nlohmann::json& r, const std::string& source, int64_t max_positions = 0);
// The per-architecture section of from_json for the later families (no-op for the first four).
void parse_family_features(ModelConfig& c, const nlohmann::json& j, const std::string& source);
// MambaForCausalLM's config.json (replaces the attention shape keys); and its config.json writer.
void parse_mamba_config(ModelConfig& c, const nlohmann::json& j, const std::string& source);
nlohmann::json mamba_hf_json(const ModelConfig& c);
// DeepSeek-V3's section (model_config_deepseek.cpp) and its keys in to_hf_json.
void parse_deepseek_features(ModelConfig& c, const nlohmann::json& j, const std::string& source);
void write_deepseek_features(const ModelConfig& c, nlohmann::json& j);
// `ptq inspect`'s features of a DeepSeek-V3 checkpoint: latent attention, rope, routing, MoE layers.
nlohmann::json deepseek_features(const ModelConfig& c);
// yarn's attention factor (1 for other types) and the attention softmax scale of DeepSeek-V3
// (qk_head_dim^-1/2 times yarn_get_mscale(factor, mscale_all_dim)^2 when mscale_all_dim is set).
double rope_attention_factor(const RopeScaling& s);
double deepseek_softmax_scale(const ModelConfig& c);

}  // namespace ptq
