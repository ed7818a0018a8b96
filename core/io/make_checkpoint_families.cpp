// make-checkpoint shapes of the later families, as the hub's config.json of each model (the text
// part for Gemma 3): the loader parses them like any checkpoint, and make_checkpoint writes the
// same JSON with the layer count and dtype of the run, so what is written reads back exactly.
#include "core/io/make_checkpoint.h"

#include <nlohmann/json.hpp>

namespace ptq {

namespace {

using json = nlohmann::json;

json qwen3_8b() {  // Qwen/Qwen3-8B
  return {{"architectures", {"Qwen3ForCausalLM"}}, {"model_type", "qwen3"}, {"hidden_size", 4096},
          {"intermediate_size", 12288}, {"num_hidden_layers", 36}, {"num_attention_heads", 32},
          {"num_key_value_heads", 8}, {"head_dim", 128}, {"vocab_size", 151936}, {"max_position_embeddings", 40960},
          {"rms_norm_eps", 1e-6}, {"rope_theta", 1000000.0}, {"rope_scaling", nullptr}, {"attention_bias", false},
          {"hidden_act", "silu"}, {"use_sliding_window", false}, {"sliding_window", nullptr},
          {"max_window_layers", 36}, {"tie_word_embeddings", false}, {"bos_token_id", 151643},
          {"eos_token_id", 151645}};
}

json qwen3_30b_a3b() {  // Qwen/Qwen3-30B-A3B
  return {{"architectures", {"Qwen3MoeForCausalLM"}}, {"model_type", "qwen3_moe"}, {"hidden_size", 2048},
          {"intermediate_size", 6144}, {"moe_intermediate_size", 768}, {"num_hidden_layers", 48},
          {"num_attention_heads", 32}, {"num_key_value_heads", 4}, {"head_dim", 128}, {"num_experts", 128},
          {"num_experts_per_tok", 8}, {"norm_topk_prob", true}, {"decoder_sparse_step", 1},
          {"mlp_only_layers", json::array()}, {"vocab_size", 151936}, {"max_position_embeddings", 40960},
          {"rms_norm_eps", 1e-6}, {"rope_theta", 1000000.0}, {"rope_scaling", nullptr}, {"attention_bias", false},
          {"hidden_act", "silu"}, {"use_sliding_window", false}, {"sliding_window", nullptr},
          {"max_window_layers", 48}, {"tie_word_embeddings", false}, {"bos_token_id", 151643},
          {"eos_token_id", 151645}};
}

json gemma_2_9b() {  // google/gemma-2-9b
  return {{"architectures", {"Gemma2ForCausalLM"}}, {"model_type", "gemma2"}, {"hidden_size", 3584},
          {"intermediate_size", 14336}, {"num_hidden_layers", 42}, {"num_attention_heads", 16},
          {"num_key_value_heads", 8}, {"head_dim", 256}, {"vocab_size", 256000}, {"max_position_embeddings", 8192},
          {"rms_norm_eps", 1e-6}, {"rope_theta", 10000.0}, {"attn_logit_softcapping", 50.0},
          {"final_logit_softcapping", 30.0}, {"query_pre_attn_scalar", 256}, {"sliding_window", 4096},
          {"hidden_act", "gelu_pytorch_tanh"}, {"hidden_activation", "gelu_pytorch_tanh"},
          {"attention_bias", false}, {"tie_word_embeddings", true}, {"bos_token_id", 2}, {"eos_token_id", 1},
          {"pad_token_id", 0}};
}

json gemma_3_12b() {  // google/gemma-3-12b-pt, its text_config as Gemma3ForCausalLM reads it
  return {{"architectures", {"Gemma3ForCausalLM"}}, {"model_type", "gemma3_text"}, {"hidden_size", 3840},
          {"intermediate_size", 15360}, {"num_hidden_layers", 48}, {"num_attention_heads", 16},
          {"num_key_value_heads", 8}, {"head_dim", 256}, {"vocab_size", 262208},
          {"max_position_embeddings", 131072}, {"rms_norm_eps", 1e-6}, {"rope_theta", 1000000.0},
          {"rope_local_base_freq", 10000.0}, {"rope_scaling", {{"rope_type", "linear"}, {"factor", 8.0}}},
          {"sliding_window", 1024}, {"sliding_window_pattern", 6}, {"query_pre_attn_scalar", 256},
          {"attn_logit_softcapping", nullptr}, {"final_logit_softcapping", nullptr},
          {"hidden_activation", "gelu_pytorch_tanh"}, {"attention_bias", false}, {"tie_word_embeddings", true},
          {"bos_token_id", 2}, {"eos_token_id", 1}, {"pad_token_id", 0}};
}

json phi_3_mini() {  // microsoft/Phi-3-mini-4k-instruct
  return {{"architectures", {"Phi3ForCausalLM"}}, {"model_type", "phi3"}, {"hidden_size", 3072},
          {"intermediate_size", 8192}, {"num_hidden_layers", 32}, {"num_attention_heads", 32},
          {"num_key_value_heads", 32}, {"vocab_size", 32064}, {"max_position_embeddings", 4096},
          {"original_max_position_embeddings", 4096}, {"rms_norm_eps", 1e-5}, {"rope_theta", 10000.0},
          {"rope_scaling", nullptr}, {"sliding_window", 2047}, {"hidden_act", "silu"}, {"attention_bias", false},
          {"tie_word_embeddings", false}, {"bos_token_id", 1}, {"eos_token_id", 32000}, {"pad_token_id", 32000}};
}

struct FamilyPreset {
  const char* name;
  json (*config)();
};

const FamilyPreset kFamilyPresets[] = {{"qwen3-8b", qwen3_8b},       {"qwen3-30b-a3b", qwen3_30b_a3b},
                                       {"gemma-2-9b", gemma_2_9b},   {"gemma-3-12b", gemma_3_12b},
                                       {"phi-3-mini", phi_3_mini}};

}  // namespace

const std::vector<std::string>& family_presets() {
  static const std::vector<std::string> v = [] {
    std::vector<std::string> r;
    for (const auto& p : kFamilyPresets) r.push_back(p.name);
    return r;
  }();
  return v;
}

std::optional<nlohmann::json> family_preset_json(const std::string& like, int64_t layers, const std::string& dtype) {
  for (const auto& p : kFamilyPresets) {
    if (like != p.name) continue;
    json j = p.config();
    if (layers > 0) {
      j["num_hidden_layers"] = layers;
      if (j.contains("max_window_layers")) j["max_window_layers"] = layers;
    }
    j["torch_dtype"] = dtype;
    return j;
  }
  return std::nullopt;
}

}  // namespace ptq
