#include "core/model/model_summary.h"

#include "core/io/checkpoint.h"
#include "core/model/model_layout.h"

namespace ptq {

ModelSummary summarize_checkpoint(const std::string& dir) {
  auto ck = Checkpoint::open(dir);
  ModelSummary s;
  s.dir = dir;
  s.config = ck->config();
  s.parameters = parameter_count(s.config);
  s.stored_dtype = ck->stored_dtype();
  s.size_on_disk = ck->size_on_disk();
  s.tokenizer = ck->tokenizer_path();
  for (int l = 0; l < s.config.num_layers; ++l)
    for (const auto& spec : block_linears(s.config, l))
      s.linears.push_back({linear_full_name(l, spec.name), spec.type, spec.out_features, spec.in_features, spec.bias});
  return s;
}

nlohmann::json ModelSummary::to_json() const {
  const ModelConfig& c = config;
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& l : linears)
    layers.push_back({{"name", l.name}, {"type", l.type}, {"shape", {l.out_features, l.in_features}}, {"bias", l.bias}});
  return {{"model", dir},
          {"architecture", c.architecture},
          {"model_type", c.model_type},
          {"hidden_size", c.hidden_size},
          {"intermediate_size", c.intermediate_size},
          {"num_layers", c.num_layers},
          {"num_heads", c.num_heads},
          {"num_kv_heads", c.num_kv_heads},
          {"head_dim", c.head_dim},
          {"vocab_size", c.vocab_size},
          {"num_experts", c.num_experts},
          {"experts_per_token", c.experts_per_token},
          {"tie_word_embeddings", c.tie_word_embeddings},
          {"rope_theta", c.rope_theta},
          {"rope_scaling", c.rope_scaling.type},
          {"sliding_window", c.sliding_window},
          {"parameters", parameters},
          {"dtype", c.dtype},
          {"stored_dtype", stored_dtype},
          {"size_on_disk", size_on_disk},
          {"tokenizer", tokenizer},
          {"linear_layers", layers}};
}

}  // namespace ptq
