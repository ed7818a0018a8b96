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

  bool is_moe() const { return num_experts > 0; }
  // Parses and validates; `source` names the file in errors.
  static ModelConfig from_json(const nlohmann::json& j, const std::string& source = "config.json");
  static ModelConfig load(const std::string& path);
  // The config.json a Hugging Face loader accepts (long-standing layout).
  nlohmann::json to_hf_json() const;
};

const std::vector<std::string>& supported_architectures();

}  // namespace ptq
