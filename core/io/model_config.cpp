#include "core/io/model_config.h"
#include "core/io/config_reader.h"

#include <cmath>

#include "core/runtime/errors.h"
#include "core/records/json_util.h"

namespace ptq {

const std::vector<std::string>& supported_architectures() {
  static const std::vector<std::string> a = {"LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM",
                                             "MixtralForCausalLM", "Qwen3ForCausalLM", "Qwen3MoeForCausalLM",
                                             "Qwen2MoeForCausalLM", "Phi3ForCausalLM", "Gemma2ForCausalLM",
                                             "Gemma3ForCausalLM", "DeepseekV3ForCausalLM", "MambaForCausalLM"};
  return a;
}

namespace {

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
  return s;
}

// Largest values accepted: far above any published model (the largest have ~130 layers, 512
// experts, a 262k vocabulary, hidden 32k), far below what would overflow a size or exhaust memory.
constexpr int64_t kMaxHidden = int64_t(1) << 17;
constexpr int64_t kMaxIntermediate = int64_t(1) << 20;
constexpr int64_t kMaxLayers = int64_t(1) << 12;
constexpr int64_t kMaxHeads = int64_t(1) << 12;
constexpr int64_t kMaxHeadDim = int64_t(1) << 12;
constexpr int64_t kMaxVocab = int64_t(1) << 24;
constexpr int64_t kMaxExperts = int64_t(1) << 14;
constexpr int64_t kMaxPositions = int64_t(1) << 30;

// yarn's keys (transformers' _compute_yarn_parameters, modeling_rope_utils.py): factor (absent:
// max_position_embeddings / original_max_position_embeddings), original_max_position_embeddings
// (absent: max_position_embeddings), attention_factor, mscale, mscale_all_dim, beta_fast / beta_slow
// ("or 32" / "or 1": 0 or null take the default), truncate.
void parse_yarn(RopeScaling& s, const ConfigReader& in, int64_t max_positions) {
  s.original_max_position_embeddings = in.integer("original_max_position_embeddings", max_positions, 1, kMaxPositions);
  s.factor = in.real("factor", double(max_positions) / double(s.original_max_position_embeddings), 0.0, true);
  s.attention_factor = in.real("attention_factor", 0.0, 0.0, false);
  s.mscale = in.real("mscale", 0.0, 0.0, false);
  s.mscale_all_dim = in.real("mscale_all_dim", 0.0, 0.0, false);
  s.beta_fast = in.real("beta_fast", 0.0, 0.0, false);
  s.beta_slow = in.real("beta_slow", 0.0, 0.0, false);
  if (s.beta_fast == 0.0) s.beta_fast = 32.0;
  if (s.beta_slow == 0.0) s.beta_slow = 1.0;
  s.truncate = in.boolean("truncate", true);
}

// rope_scaling (long-standing layout) or rope_parameters (transformers 5); `key` names which.
RopeScaling parse_rope(const json& r, const char* key, int64_t max_positions, const std::string& source) {
  RopeScaling s;
  if (r.is_null()) return s;
  if (!r.is_object()) throw Error(source + ": '" + key + "' is " + r.dump() + ", expected an object or null");
  const std::string where = std::string(key) + ".";
  ConfigReader in{r, source, where};
  s.type = in.string("rope_type", in.string("type", "default"));
  if (s.type != "default" && s.type != "linear" && s.type != "llama3" && s.type != "yarn")
    throw Error(source + ": rope scaling type '" + s.type + "' is not supported (supported: default, linear, llama3, " +
                "yarn; in '" + key + "')");
  if (s.type == "default") return s;
  if (s.type == "yarn") {
    parse_yarn(s, in, max_positions);
    return s;
  }
  s.factor = in.real("factor", 1.0, 0.0, true);
  if (s.type == "llama3") {
    s.low_freq_factor = in.real("low_freq_factor", 1.0, 0.0, true);
    s.high_freq_factor = in.real("high_freq_factor", 4.0, 0.0, true);
    if (s.high_freq_factor <= s.low_freq_factor)
      throw Error(source + ": " + where + "high_freq_factor (" + std::to_string(s.high_freq_factor) +
                  ") must be greater than " + where + "low_freq_factor (" + std::to_string(s.low_freq_factor) + ")");
    s.original_max_position_embeddings = in.integer("original_max_position_embeddings", 8192, 1, max_positions);
  }
  return s;
}

void read_shape(ModelConfig& c, const ConfigReader& in) {
  c.hidden_size = in.integer("hidden_size", 0, 1, kMaxHidden, true);
  c.intermediate_size = in.integer("intermediate_size", 0, 1, kMaxIntermediate, true);
  c.num_layers = in.integer("num_hidden_layers", 0, 1, kMaxLayers, true);
  c.num_heads = in.integer("num_attention_heads", 0, 1, kMaxHeads, true);
  c.num_kv_heads = in.integer("num_key_value_heads", c.num_heads, 1, c.num_heads);
  if (c.num_heads % c.num_kv_heads != 0)
    throw Error(in.source + ": num_attention_heads (" + std::to_string(c.num_heads) +
                ") is not a multiple of num_key_value_heads (" + std::to_string(c.num_kv_heads) + ")");
  if (!in.find("head_dim") && (c.hidden_size < c.num_heads || c.hidden_size % c.num_heads != 0))
    throw Error(in.source + ": hidden_size (" + std::to_string(c.hidden_size) + ") is not a multiple of " +
                "num_attention_heads (" + std::to_string(c.num_heads) + ") and there is no 'head_dim'");
  c.head_dim = in.integer("head_dim", c.hidden_size / c.num_heads, 2, kMaxHeadDim);
  if (c.head_dim % 2 != 0) throw Error(in.source + ": 'head_dim' (" + std::to_string(c.head_dim) + ") must be even for rotary embeddings");
  c.vocab_size = in.integer("vocab_size", 0, 1, kMaxVocab, true);
  c.max_position_embeddings = in.integer("max_position_embeddings", 2048, 1, kMaxPositions);
  c.rms_norm_eps = in.real("rms_norm_eps", 1e-6, 0.0, false, 1.0);
  c.tie_word_embeddings = in.boolean("tie_word_embeddings", false);
}

void read_rope(ModelConfig& c, const json& j, const ConfigReader& in) {
  // transformers 5 layout: rope_parameters {rope_theta, rope_type, ...}; older: rope_theta + rope_scaling.
  const double theta = in.real("rope_theta", 10000.0, 0.0, true);
  if (in.find("rope_parameters")) {
    const json& rp = j["rope_parameters"];
    c.rope_scaling = parse_rope(rp, "rope_parameters", c.max_position_embeddings, in.source);
    c.rope_theta = ConfigReader{rp, in.source, "rope_parameters."}.real("rope_theta", theta, 0.0, true);
  } else {
    c.rope_theta = theta;
    c.rope_scaling = parse_rope(j.value("rope_scaling", json()), "rope_scaling", c.max_position_embeddings, in.source);
  }
}

void read_family(ModelConfig& c, const ConfigReader& in) {
  c.dtype = in.string("dtype", in.string("torch_dtype", "float32"));
  if (c.architecture == "Qwen2ForCausalLM") {
    c.qkv_bias = true;
    if (in.boolean("use_sliding_window", false)) c.sliding_window = in.integer("sliding_window", 0, 0, kMaxPositions);
  } else {
    c.qkv_bias = c.o_bias = in.boolean("attention_bias", false);
    c.mlp_bias = in.boolean("mlp_bias", false);
    if (c.architecture == "MistralForCausalLM" || c.architecture == "MixtralForCausalLM")
      c.sliding_window = in.integer("sliding_window", 0, 0, kMaxPositions);
  }
  if (c.architecture == "MixtralForCausalLM") {
    c.num_experts = in.integer("num_local_experts", 0, 1, kMaxExperts, true);
    c.experts_per_token = in.integer("num_experts_per_tok", 0, 1, c.num_experts, true);
    c.moe_layout = "mixtral";
  }
}

}  // namespace

RopeScaling parse_rope_scaling(const json& r, const std::string& source, int64_t max_positions) {
  return parse_rope(r, "rope_parameters", max_positions > 0 ? max_positions : kMaxPositions, source);
}

ModelConfig ModelConfig::from_json(const json& j, const std::string& source) {
  if (!j.is_object()) throw Error(source + ": expected a JSON object");
  // The copy into `raw` (and any later dump) recurses once per level: bound the depth first.
  const size_t depth = json_depth(j);
  if (depth > kMaxJsonDepth)
    throw Error(source + ": nested " + std::to_string(depth) + " levels deep, more than the " +
                std::to_string(kMaxJsonDepth) + " this program accepts");
  ModelConfig c;
  c.raw = j;
  ConfigReader in{j, source};
  auto archs = j.find("architectures");
  if (archs == j.end() || !archs->is_array() || archs->empty() || !(*archs)[0].is_string())
    throw Error(source + ": no 'architectures' entry; supported architectures: " + join(supported_architectures()));
  c.architecture = (*archs)[0].get<std::string>();
  bool ok = false;
  for (const auto& a : supported_architectures()) ok |= (a == c.architecture);
  if (!ok)
    throw Error(source + ": architecture '" + c.architecture +
                "' is not supported; supported architectures: " + join(supported_architectures()));
  c.model_type = in.string("model_type", "");
  if (c.is_mamba()) {  // no attention: its own shape keys (model_config_mamba.cpp)
    parse_mamba_config(c, j, source);
    return c;
  }
  read_shape(c, in);
  read_rope(c, j, in);
  read_family(c, in);
  try {
    parse_family_features(c, j, source);
  } catch (const Error& e) {
    const std::string what = e.what();
    throw Error(what.rfind(source, 0) == 0 ? what : source + ": " + what);
  }
  return c;
}

ModelConfig ModelConfig::load(const std::string& path) {
  if (!file_exists(path)) throw Error("missing config.json: '" + path + "' does not exist");
  return from_json(read_json_file(path), "'" + path + "'");
}

json ModelConfig::to_hf_json() const {
  if (is_mamba()) return mamba_hf_json(*this);
  json j = {{"architectures", {architecture}},
            {"model_type", model_type},
            {"hidden_size", hidden_size},
            {"intermediate_size", intermediate_size},
            {"num_hidden_layers", num_layers},
            {"num_attention_heads", num_heads},
            {"num_key_value_heads", num_kv_heads},
            {"head_dim", head_dim},
            {"vocab_size", vocab_size},
            {"max_position_embeddings", max_position_embeddings},
            {"rms_norm_eps", rms_norm_eps},
            {"rope_theta", rope_theta},
            {"tie_word_embeddings", tie_word_embeddings},
            {"torch_dtype", dtype},
            {"hidden_act", "silu"},
            {"bos_token_id", 1},
            {"eos_token_id", 2}};
  if (rope_scaling.type == "yarn")
    j["rope_scaling"] = {{"rope_type", "yarn"},
                         {"factor", rope_scaling.factor},
                         {"original_max_position_embeddings", rope_scaling.original_max_position_embeddings},
                         {"beta_fast", rope_scaling.beta_fast},
                         {"beta_slow", rope_scaling.beta_slow},
                         {"mscale", rope_scaling.mscale},
                         {"mscale_all_dim", rope_scaling.mscale_all_dim},
                         {"truncate", rope_scaling.truncate}};
  else if (rope_scaling.type != "default")
    j["rope_scaling"] = {{"rope_type", rope_scaling.type},
                         {"factor", rope_scaling.factor},
                         {"low_freq_factor", rope_scaling.low_freq_factor},
                         {"high_freq_factor", rope_scaling.high_freq_factor},
                         {"original_max_position_embeddings", rope_scaling.original_max_position_embeddings}};
  if (architecture == "LlamaForCausalLM") {
    j["attention_bias"] = qkv_bias;
    j["mlp_bias"] = mlp_bias;
  }
  if (is_moe()) {
    j["num_local_experts"] = num_experts;
    j["num_experts_per_tok"] = experts_per_token;
  }
  if (sliding_window > 0) j["sliding_window"] = sliding_window;
  if (mla) write_deepseek_features(*this, j);
  return j;
}

}  // namespace ptq
