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

namespace {
// What sets the later families apart from Llama, for `ptq inspect` (empty for Llama).
nlohmann::json family_features(const ModelConfig& c) {
  nlohmann::json f = nlohmann::json::object();
  if (c.qk_norm) f["qk_norm"] = true;
  if (c.norm_plus_one) f["rms_norm"] = "(1+w)";
  if (c.sandwich_norms) f["sandwich_norms"] = true;
  if (c.embed_scale) f["embedding_scale"] = "sqrt(hidden_size)";
  if (c.hidden_act != "silu") f["activation"] = c.hidden_act;
  if (c.attn_softcap > 0) f["attn_softcap"] = {{"cap", c.attn_softcap}, {"applied", c.attn_softcap_eager}};
  if (c.final_softcap > 0) f["final_softcap"] = c.final_softcap;
  if (c.query_pre_attn_scalar > 0) f["query_pre_attn_scalar"] = c.query_pre_attn_scalar;
  if (!c.layer_types.empty()) f["layer_types"] = c.layer_types;
  if (c.rope_local_theta > 0) f["rope_local_theta"] = c.rope_local_theta;
  if (c.fused_qkv) f["fused"] = {"qkv_proj", "gate_up_proj"};
  if (c.is_mamba())
    f["mamba"] = {{"state_size", c.ssm_state_size}, {"conv_kernel", c.conv_kernel},
                  {"time_step_rank", c.time_step_rank}, {"conv_bias", c.conv_bias},
                  {"proj_bias", c.mixer_bias}, {"residual_in_fp32", c.residual_in_fp32},
                  {"kv_cache", c.has_kv_cache()}};
  if (c.moe_layout == "qwen") {
    nlohmann::json moe_layers = nlohmann::json::array();
    for (int64_t l = 0; l < c.num_layers; ++l)
      if (c.is_moe_layer(l)) moe_layers.push_back(l);
    f["moe"] = {{"layers", moe_layers},
                {"moe_intermediate_size", c.moe_intermediate_size},
                {"shared_expert_intermediate_size", c.shared_expert_intermediate_size},
                {"norm_topk_prob", c.norm_topk_prob}};
  }
  if (c.mla) f.update(deepseek_features(c));
  return f;
}
}  // namespace

nlohmann::json ModelSummary::to_json() const {
  const ModelConfig& c = config;
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& l : linears)
    layers.push_back({{"name", l.name}, {"type", l.type}, {"shape", {l.out_features, l.in_features}}, {"bias", l.bias}});
  nlohmann::json j = {{"model", dir},
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
  j["features"] = family_features(c);
  return j;
}

}  // namespace ptq
