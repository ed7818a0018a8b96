#include "core/io/model_config.h"

#include "core/runtime/errors.h"
#include "core/records/json_util.h"

namespace ptq {

const std::vector<std::string>& supported_architectures() {
  static const std::vector<std::string> a = {"LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM",
                                             "MixtralForCausalLM", "Qwen3ForCausalLM", "Qwen3MoeForCausalLM",
                                             "Qwen2MoeForCausalLM", "Phi3ForCausalLM", "Gemma2ForCausalLM",
                                             "Gemma3ForCausalLM"};
  return a;
}

namespace {

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
  return s;
}

template <typename T>
T get_or(const json& j, const char* key, T def) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return def;
  return it->get<T>();
}

int64_t required_int(const json& j, const char* key, const std::string& source) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer() || it->get<int64_t>() <= 0)
    throw Error(source + ": '" + key + "' is missing or not a positive integer");
  return it->get<int64_t>();
}

RopeScaling parse_rope(const json& r, const std::string& source) {
  RopeScaling s;
  if (r.is_null()) return s;
  s.type = get_or<std::string>(r, "rope_type", get_or<std::string>(r, "type", "default"));
  s.factor = get_or<double>(r, "factor", 1.0);
  s.low_freq_factor = get_or<double>(r, "low_freq_factor", 1.0);
  s.high_freq_factor = get_or<double>(r, "high_freq_factor", 4.0);
  s.original_max_position_embeddings = get_or<int64_t>(r, "original_max_position_embeddings", 8192);
  if (s.type != "default" && s.type != "linear" && s.type != "llama3")
    throw Error(source + ": rope scaling type '" + s.type + "' is not supported (supported: default, linear, llama3)");
  return s;
}

}  // namespace

RopeScaling parse_rope_scaling(const json& r, const std::string& source) { return parse_rope(r, source); }

ModelConfig ModelConfig::from_json(const json& j, const std::string& source) {
  if (!j.is_object()) throw Error(source + ": expected a JSON object");
  ModelConfig c;
  c.raw = j;
  try {
    auto archs = j.find("architectures");
    if (archs == j.end() || !archs->is_array() || archs->empty())
      throw Error(source + ": no 'architectures' entry; supported architectures: " + join(supported_architectures()));
    c.architecture = (*archs)[0].get<std::string>();
    bool ok = false;
    for (const auto& a : supported_architectures()) ok |= (a == c.architecture);
    if (!ok)
      throw Error(source + ": architecture '" + c.architecture +
                  "' is not supported; supported architectures: " + join(supported_architectures()));
    c.model_type = get_or<std::string>(j, "model_type", "");
    c.hidden_size = required_int(j, "hidden_size", source);
    c.intermediate_size = required_int(j, "intermediate_size", source);
    c.num_layers = required_int(j, "num_hidden_layers", source);
    c.num_heads = required_int(j, "num_attention_heads", source);
    c.num_kv_heads = get_or<int64_t>(j, "num_key_value_heads", c.num_heads);
    c.head_dim = get_or<int64_t>(j, "head_dim", c.hidden_size / c.num_heads);
    c.vocab_size = required_int(j, "vocab_size", source);
    c.max_position_embeddings = get_or<int64_t>(j, "max_position_embeddings", 2048);
    c.rms_norm_eps = get_or<double>(j, "rms_norm_eps", 1e-6);
    c.tie_word_embeddings = get_or<bool>(j, "tie_word_embeddings", false);
    // transformers 5 layout: rope_parameters {rope_theta, rope_type, ...}; older: rope_theta + rope_scaling.
    if (j.contains("rope_parameters") && j["rope_parameters"].is_object()) {
      const json& rp = j["rope_parameters"];
      c.rope_theta = get_or<double>(rp, "rope_theta", get_or<double>(j, "rope_theta", 10000.0));
      c.rope_scaling = parse_rope(rp, source);
    } else {
      c.rope_theta = get_or<double>(j, "rope_theta", 10000.0);
      c.rope_scaling = parse_rope(j.value("rope_scaling", json()), source);
    }
    c.dtype = get_or<std::string>(j, "dtype", get_or<std::string>(j, "torch_dtype", "float32"));
    if (c.architecture == "Qwen2ForCausalLM") {
      c.qkv_bias = true;
      if (get_or<bool>(j, "use_sliding_window", false)) c.sliding_window = get_or<int64_t>(j, "sliding_window", 0);
    } else {
      bool ab = get_or<bool>(j, "attention_bias", false);
      c.qkv_bias = c.o_bias = ab;
      c.mlp_bias = get_or<bool>(j, "mlp_bias", false);
      if (c.architecture == "MistralForCausalLM" || c.architecture == "MixtralForCausalLM")
        c.sliding_window = get_or<int64_t>(j, "sliding_window", 0);
    }
    if (c.architecture == "MixtralForCausalLM") {
      c.num_experts = required_int(j, "num_local_experts", source);
      c.experts_per_token = required_int(j, "num_experts_per_tok", source);
      if (c.experts_per_token > c.num_experts)
        throw Error(source + ": num_experts_per_tok exceeds num_local_experts");
      c.moe_layout = "mixtral";
    }
    parse_family_features(c, j, source);
  } catch (const json::exception& e) {
    throw Error(source + ": bad value (" + e.what() + ")");
  }
  if (c.num_heads % c.num_kv_heads != 0)
    throw Error(source + ": num_attention_heads (" + std::to_string(c.num_heads) +
                ") is not a multiple of num_key_value_heads (" + std::to_string(c.num_kv_heads) + ")");
  if (c.head_dim % 2 != 0) throw Error(source + ": head_dim must be even for rotary embeddings");
  return c;
}

ModelConfig ModelConfig::load(const std::string& path) {
  if (!file_exists(path)) throw Error("missing config.json: '" + path + "' does not exist");
  return from_json(read_json_file(path), "'" + path + "'");
}

json ModelConfig::to_hf_json() const {
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
  if (rope_scaling.type != "default")
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
  return j;
}

}  // namespace ptq
