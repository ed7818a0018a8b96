// DeepSeek-V3's section of config.json: multi-head latent attention (q_lora_rank, kv_lora_rank,
// qk_nope_head_dim / qk_rope_head_dim / v_head_dim, rope_interleave) and the routed MoE (n_routed_experts,
// n_shared_experts, n_group / topk_group, norm_topk_prob, routed_scaling_factor, first_k_dense_replace).
// Defaults and meanings follow transformers' configuration_deepseek_v3.py and modeling_deepseek_v3.py;
// kv_lora_rank is required (a config without it is not a latent-attention config).
#include <cmath>
#include <cstdint>
#include <string>

#include "core/io/config_reader.h"
#include "core/io/model_config.h"
#include "core/runtime/errors.h"

namespace ptq {

using json = nlohmann::json;

namespace {

constexpr int64_t kMaxRank = int64_t(1) << 16;
constexpr int64_t kMaxExperts = int64_t(1) << 14;

void read_attention(ModelConfig& c, const ConfigReader& in) {
  DeepseekConfig& d = c.deepseek;
  // q_lora_rank null: q_proj straight from the hidden state (DeepSeek-V2-Lite); absent: the default 1536.
  const bool q_null = in.j.contains("q_lora_rank") && in.j["q_lora_rank"].is_null();
  d.q_lora_rank = q_null ? 0 : in.integer("q_lora_rank", 1536, 1, kMaxRank);
  if (!in.find("kv_lora_rank"))
    throw Error(in.source + ": 'kv_lora_rank' is missing" +
                (d.q_lora_rank > 0 ? " while 'q_lora_rank' is " + std::to_string(d.q_lora_rank) : std::string()) +
                ": multi-head latent attention needs the rank of its compressed keys and values");
  d.kv_lora_rank = in.integer("kv_lora_rank", 512, 1, kMaxRank);
  d.qk_nope_head_dim = in.integer("qk_nope_head_dim", 128, 0, kMaxRank);
  d.qk_rope_head_dim = in.integer("qk_rope_head_dim", 64, 2, kMaxRank);
  if (d.qk_rope_head_dim % 2 != 0)
    throw Error(in.source + ": 'qk_rope_head_dim' (" + std::to_string(d.qk_rope_head_dim) +
                ") must be even for rotary embeddings");
  d.v_head_dim = in.integer("v_head_dim", 128, 1, kMaxRank);
  d.rope_interleave = in.boolean("rope_interleave", true);
  c.head_dim = d.qk_rope_head_dim;  // DeepseekV3Config: head_dim = qk_rope_head_dim (the rope dimension)
  if (c.num_kv_heads != c.num_heads)
    throw Error(in.source + ": 'num_key_value_heads' (" + std::to_string(c.num_kv_heads) +
                ") must equal 'num_attention_heads' (" + std::to_string(c.num_heads) +
                ") for multi-head latent attention (kv_b_proj makes keys and values for every head)");
}

void read_moe(ModelConfig& c, const ConfigReader& in) {
  DeepseekConfig& d = c.deepseek;
  c.moe_layout = "deepseek";
  c.num_experts = in.integer("n_routed_experts", 256, 1, kMaxExperts);
  c.experts_per_token = in.integer("num_experts_per_tok", 8, 1, kMaxExperts);
  if (c.experts_per_token > c.num_experts)
    throw Error(in.source + ": 'num_experts_per_tok' (" + std::to_string(c.experts_per_token) +
                ") exceeds 'n_routed_experts' (" + std::to_string(c.num_experts) + ")");
  c.moe_intermediate_size = in.integer("moe_intermediate_size", 2048, 1, int64_t(1) << 20);
  c.norm_topk_prob = in.boolean("norm_topk_prob", true);
  d.n_group = in.integer("n_group", 8, 1, kMaxExperts);
  if (c.num_experts % d.n_group != 0)
    throw Error(in.source + ": 'n_group' (" + std::to_string(d.n_group) + ") does not divide 'n_routed_experts' (" +
                std::to_string(c.num_experts) + ")");
  if (c.num_experts / d.n_group < 2)
    throw Error(in.source + ": 'n_group' (" + std::to_string(d.n_group) + ") leaves fewer than 2 of the " +
                std::to_string(c.num_experts) + " 'n_routed_experts' per group (a group's score is the sum of its top 2)");
  d.topk_group = in.integer("topk_group", 4, 1, kMaxExperts);
  if (d.topk_group > d.n_group)
    throw Error(in.source + ": 'topk_group' (" + std::to_string(d.topk_group) + ") exceeds 'n_group' (" +
                std::to_string(d.n_group) + ")");
  d.routed_scaling_factor = in.real("routed_scaling_factor", 2.5, 0.0, true);
  d.n_shared_experts = in.integer("n_shared_experts", 1, 0, kMaxExperts);
  d.first_k_dense_replace = in.integer("first_k_dense_replace", 3, 0, c.num_layers);
}

}  // namespace

void parse_deepseek_features(ModelConfig& c, const json& j, const std::string& source) {
  ConfigReader in{j, source};
  c.mla = true;
  c.qkv_bias = c.o_bias = in.boolean("attention_bias", false);  // q_a_proj, kv_a_proj_with_mqa, o_proj
  c.mlp_bias = false;
  const json* act = in.find("hidden_act");
  if (act && !(act->is_string() && act->get<std::string>() == "silu"))
    throw Error(source + ": 'hidden_act' " + act->dump() + " is not supported for DeepseekV3ForCausalLM (supported: silu)");
  read_attention(c, in);
  read_moe(c, in);
}

void write_deepseek_features(const ModelConfig& c, json& j) {
  const DeepseekConfig& d = c.deepseek;
  j["model_type"] = "deepseek_v3";
  j["q_lora_rank"] = d.q_lora_rank > 0 ? json(d.q_lora_rank) : json(nullptr);
  j["kv_lora_rank"] = d.kv_lora_rank;
  j["qk_nope_head_dim"] = d.qk_nope_head_dim;
  j["qk_rope_head_dim"] = d.qk_rope_head_dim;
  j["v_head_dim"] = d.v_head_dim;
  j["rope_interleave"] = d.rope_interleave;
  j["attention_bias"] = c.qkv_bias;
  j["n_routed_experts"] = c.num_experts;
  j["num_experts_per_tok"] = c.experts_per_token;
  j["moe_intermediate_size"] = c.moe_intermediate_size;
  j["norm_topk_prob"] = c.norm_topk_prob;
  j["n_group"] = d.n_group;
  j["topk_group"] = d.topk_group;
  j["routed_scaling_factor"] = d.routed_scaling_factor;
  j["n_shared_experts"] = d.n_shared_experts;
  j["first_k_dense_replace"] = d.first_k_dense_replace;
  j.erase("num_local_experts");
}

json deepseek_features(const ModelConfig& c) {
  const DeepseekConfig& d = c.deepseek;
  json moe_layers = json::array();
  for (int64_t l = 0; l < c.num_layers; ++l)
    if (c.is_moe_layer(l)) moe_layers.push_back(l);
  json rope = {{"type", c.rope_scaling.type}, {"dim", d.qk_rope_head_dim}, {"interleaved", d.rope_interleave},
               {"attention_factor", rope_attention_factor(c.rope_scaling)}};
  if (c.rope_scaling.type == "yarn")
    rope.update({{"factor", c.rope_scaling.factor},
                 {"original_max_position_embeddings", c.rope_scaling.original_max_position_embeddings}});
  return {{"latent_attention",
           {{"q_lora_rank", d.q_lora_rank > 0 ? json(d.q_lora_rank) : json(nullptr)},
            {"kv_lora_rank", d.kv_lora_rank},
            {"qk_nope_head_dim", d.qk_nope_head_dim},
            {"qk_rope_head_dim", d.qk_rope_head_dim},
            {"v_head_dim", d.v_head_dim},
            {"softmax_scale", deepseek_softmax_scale(c)},
            {"rope", rope}}},
          {"moe",
           {{"layers", moe_layers},
            {"first_k_dense_replace", d.first_k_dense_replace},
            {"routing", "sigmoid, e_score_correction_bias for the choice, grouped top-k"},
            {"n_group", d.n_group},
            {"topk_group", d.topk_group},
            {"norm_topk_prob", c.norm_topk_prob},
            {"routed_scaling_factor", d.routed_scaling_factor},
            {"moe_intermediate_size", c.moe_intermediate_size},
            {"n_shared_experts", d.n_shared_experts}}}};
}

// get_mscale / yarn_get_mscale of transformers: 1 for scale <= 1, else 0.1·mscale·ln(scale) + 1.
static double yarn_get_mscale(double scale, double mscale) { return scale <= 1 ? 1.0 : 0.1 * mscale * std::log(scale) + 1.0; }

double rope_attention_factor(const RopeScaling& s) {
  if (s.type != "yarn") return 1.0;
  if (s.attention_factor > 0) return s.attention_factor;
  if (s.mscale > 0 && s.mscale_all_dim > 0)
    return yarn_get_mscale(s.factor, s.mscale) / yarn_get_mscale(s.factor, s.mscale_all_dim);
  return yarn_get_mscale(s.factor, 1.0);
}

double deepseek_softmax_scale(const ModelConfig& c) {
  double scale = 1.0 / std::sqrt(double(c.deepseek.qk_head_dim()));
  if (c.rope_scaling.type != "default" && c.rope_scaling.mscale_all_dim > 0) {
    const double m = yarn_get_mscale(c.rope_scaling.factor, c.rope_scaling.mscale_all_dim);
    scale = scale * m * m;
  }
  return scale;
}

}  // namespace ptq
