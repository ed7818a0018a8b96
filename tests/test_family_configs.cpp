// Later families' config.json (Qwen3, Qwen MoE, Gemma 2/3, Phi-3, DeepSeek-V3, yarn): both key layouts
// (hub and transformers 5), per-layer features, and bad values named. Split from test_checkpoint_errors.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>

#include "core/io/checkpoint.h"
#include "core/io/make_checkpoint.h"
#include "core/model/model_layout.h"
#include "core/runtime/errors.h"
#include "core/records/json_util.h"
#include "core/model/model.h"
#include "core/io/safetensors.h"
#include "tests/check.h"

using namespace ptq;

namespace {
std::string tmpdir(const std::string& tag) {
  std::string d = "/tmp/ptq-test-" + std::to_string(::getpid()) + "-" + tag;
  ::mkdir(d.c_str(), 0755);
  return d;
}
}  // namespace

namespace {
json parity_config(const std::string& arch) {
  return read_json_file(test::shared_dir() + "/parity/" + arch + "/config.json");
}
}  // namespace

TEST_CASE("rope_scaling types the engine does not implement are refused by name (longrope, dynamic); yarn reads") {
  for (const char* type : {"yarn", "longrope", "dynamic"}) {
    if (std::string(type) == "yarn") {  // implemented (tests/test_deepseek.cpp checks its numbers): every layout reads it
      json q = parity_config("qwen3");
      q["rope_scaling"] = {{"rope_type", type}, {"factor", 4.0}, {"original_max_position_embeddings", 32768}};
      CHECK(ModelConfig::from_json(q).rope_scaling.type == "yarn");
      json m = parity_config("qwen3-moe");
      m["rope_parameters"]["rope_type"] = type;
      m["rope_parameters"]["factor"] = 2.0;
      CHECK(ModelConfig::from_json(m).rope_scaling.factor == 2.0);
      json g = parity_config("gemma3");
      g["rope_parameters"]["full_attention"]["rope_type"] = type;
      g["rope_parameters"]["full_attention"]["factor"] = 8.0;
      CHECK(ModelConfig::from_json(g).rope_scaling.type == "yarn");
      continue;
    }
    json q = parity_config("qwen3");
    q["rope_scaling"] = {{"rope_type", type}, {"factor", 4.0}, {"original_max_position_embeddings", 32768}};
    CHECK_THROWS_WITH(ModelConfig::from_json(q), std::string("rope scaling type '") + type + "' is not supported");
    json p = parity_config("phi3");
    p["rope_scaling"] = {{"type", type}, {"short_factor", {1.0}}, {"long_factor", {1.0}}};
    CHECK_THROWS_WITH(ModelConfig::from_json(p), std::string("rope scaling type '") + type + "' is not supported");
    json m = parity_config("qwen3-moe");  // transformers 5 layout
    m["rope_parameters"]["rope_type"] = type;
    CHECK_THROWS_WITH(ModelConfig::from_json(m), std::string("rope scaling type '") + type + "' is not supported");
    json g = parity_config("gemma3");  // per layer type
    g["rope_parameters"]["full_attention"]["rope_type"] = type;
    CHECK_THROWS_WITH(ModelConfig::from_json(g), std::string("rope scaling type '") + type + "' is not supported");
  }
}

TEST_CASE("gemma3: the hub layout (rope_theta, rope_local_base_freq, sliding_window_pattern) reads like transformers 5's") {
  ModelConfig t5 = ModelConfig::from_json(parity_config("gemma3"));
  CHECK(t5.rope_theta == 1e6 && t5.rope_local_theta == 1e4 && t5.qk_norm && t5.norm_plus_one);
  CHECK(t5.layer_types == std::vector<std::string>({"sliding_attention", "full_attention"}));
  json hub = parity_config("gemma3");
  hub.erase("rope_parameters");
  hub.erase("layer_types");
  hub.erase("dtype");
  hub["rope_theta"] = 1e6;
  hub["rope_local_base_freq"] = 1e4;
  hub["sliding_window_pattern"] = 2;
  hub["torch_dtype"] = "float32";
  ModelConfig h = ModelConfig::from_json(hub);
  CHECK(h.rope_theta == t5.rope_theta && h.rope_local_theta == t5.rope_local_theta);
  CHECK(h.layer_types == t5.layer_types && h.is_sliding_layer(0) && !h.is_sliding_layer(1));
  hub["sliding_window_pattern"] = 6;  // transformers' default: every 6th layer global
  hub["num_hidden_layers"] = 12;
  ModelConfig six = ModelConfig::from_json(hub);
  CHECK(!six.is_sliding_layer(5) && !six.is_sliding_layer(11) && six.is_sliding_layer(0) && six.is_sliding_layer(6));
}

TEST_CASE("gemma2 without layer_types alternates sliding (even) and full (odd) layers") {
  json j = parity_config("gemma2");
  j.erase("layer_types");
  j["num_hidden_layers"] = 4;
  ModelConfig c = ModelConfig::from_json(j);
  CHECK(c.is_sliding_layer(0) && !c.is_sliding_layer(1) && c.is_sliding_layer(2) && !c.is_sliding_layer(3));
  CHECK(c.attn_softcap == 50.0 && c.final_softcap == 30.0 && c.query_pre_attn_scalar == 16.0 && c.hidden_act == "gelu_tanh");
}

TEST_CASE("qwen MoE: which layers are MoE (mlp_only_layers, decoder_sparse_step), expert counts under both keys") {
  ModelConfig m = ModelConfig::from_json(parity_config("qwen3-moe"));  // num_local_experts (transformers 5)
  CHECK(m.num_experts == 4 && !m.is_moe_layer(0) && m.is_moe_layer(1) && m.norm_topk_prob);
  ModelConfig q = ModelConfig::from_json(parity_config("qwen2-moe"));  // num_experts (hub)
  CHECK(q.num_experts == 4 && q.is_moe_layer(0) && !q.norm_topk_prob && q.shared_expert_intermediate_size == 96);
  json j = parity_config("qwen2-moe");
  j["decoder_sparse_step"] = 2;
  ModelConfig s = ModelConfig::from_json(j);
  CHECK(!s.is_moe_layer(0) && s.is_moe_layer(1));
}

TEST_CASE("later families: bad per-architecture values are named") {
  json a = parity_config("gemma2");
  a["layer_types"] = {"sliding_attention"};
  CHECK_THROWS_WITH(ModelConfig::from_json(a), "'layer_types' has 1 entries but num_hidden_layers is 2");
  a = parity_config("gemma2");
  a["layer_types"] = {"sliding_attention", "chunked_attention"};
  CHECK_THROWS_WITH(ModelConfig::from_json(a), "layer type 'chunked_attention' is not supported");
  a = parity_config("gemma2");
  a["query_pre_attn_scalar"] = 0;
  CHECK_THROWS_WITH(ModelConfig::from_json(a), "'query_pre_attn_scalar' must be positive");
  a = parity_config("gemma2");
  a["attn_logit_softcapping"] = -1.0;
  CHECK_THROWS_WITH(ModelConfig::from_json(a), "'attn_logit_softcapping' must be a finite number >= 0");
  json m = parity_config("qwen3-moe");
  m["mlp_only_layers"] = {5};
  CHECK_THROWS_WITH(ModelConfig::from_json(m), "mlp_only_layers entry 5 is outside 0..1");
  m = parity_config("qwen3-moe");
  m.erase("moe_intermediate_size");
  CHECK_THROWS_WITH(ModelConfig::from_json(m), "'moe_intermediate_size'");
  m = parity_config("qwen3-moe");
  m["num_experts_per_tok"] = 8;
  CHECK_THROWS_WITH(ModelConfig::from_json(m), "num_experts_per_tok exceeds num_experts");
  json p = parity_config("phi3");
  p["partial_rotary_factor"] = 0.75;
  CHECK_THROWS_WITH(ModelConfig::from_json(p), "partial_rotary_factor 0.750000 is not supported");
  p = parity_config("phi3");
  p["hidden_act"] = "relu";
  CHECK_THROWS_WITH(ModelConfig::from_json(p), "activation 'relu' is not supported for Phi3ForCausalLM");
}

TEST_CASE("gemma2: attn_implementation eager applies the attention soft-cap (transformers' default sdpa does not)") {
  at::NoGradGuard ng;
  const std::string src = test::shared_dir() + "/parity/gemma2";
  std::string d = tmpdir("gemma2-eager");
  std::filesystem::copy_file(src + "/model.safetensors", d + "/model.safetensors",
                             std::filesystem::copy_options::overwrite_existing);
  json cfg = parity_config("gemma2");
  cfg["_attn_implementation"] = "eager";
  write_json_atomic(d + "/config.json", cfg);
  at::Tensor ids = SafetensorsFile(src + "/reference.safetensors").load("input_ids");
  at::Tensor sdpa = Model::load(src)->forward(ids), eager = Model::load(d)->forward(ids);
  CHECK(ModelConfig::load(d + "/config.json").attn_softcap_eager);
  // cap·tanh(s/cap) = s - s³/(3cap²) + ...: small scores move by ~1e-4 relative, enough to see.
  const double moved = (eager - sdpa).abs().max().item<double>();
  CHECK_MSG(moved > 1e-4 && moved < 1e-1 && at::isfinite(eager).all().item<bool>(), std::to_string(moved));
}

// Found by fuzz_model_config (its reproducer is in tests/fuzz/corpus/fuzz_model_config/): a
// per-architecture key of the wrong JSON type escaped as an internal json exception (std::terminate).
TEST_CASE("later families: a per-architecture key of the wrong type is named, not an internal error") {
  json cfg = read_json_file(test::shared_dir() + "/parity/gemma2/config.json");
  cfg["final_logit_softcapping"] = true;
  CHECK_THROWS_WITH(ModelConfig::from_json(cfg, "g2 config.json"), "g2 config.json: 'final_logit_softcapping' must be a number, got true");
  cfg["final_logit_softcapping"] = 30.0;
  cfg["hidden_activation"] = 7;
  CHECK_THROWS_WITH(ModelConfig::from_json(cfg, "g2 config.json"), "'hidden_activation' must be a string, got 7");
  cfg["hidden_activation"] = "gelu_pytorch_tanh";
  cfg["layer_types"] = {2, "full_attention"};
  CHECK_THROWS_WITH(ModelConfig::from_json(cfg, "g2 config.json"), "'layer_types' entries must be strings, got 2");
}

TEST_MAIN()

// make-checkpoint's later-family shapes are the hub config.json files: each parses, its parameter
// count is the model card's figure at the card's precision (8.2B, 30.5B, 9.24B, 3.8B: the count is
// exact arithmetic on the shapes, so only the card's rounding is allowed), and the JSON written
// for a 2-layer run reads back as the same model with 2 layers.
TEST_CASE("make-checkpoint: qwen3-8b, qwen3-30b-a3b, gemma-2-9b, gemma-3-12b, phi-3-mini shapes") {
  struct Card {
    const char* like;
    double billions, precision;  // precision: half a unit of the card's last digit
  };
  const Card cards[] = {{"qwen3-8b", 8.2, 0.05}, {"qwen3-30b-a3b", 30.5, 0.05}, {"gemma-2-9b", 9.24, 0.005},
                        {"phi-3-mini", 3.8, 0.05}, {"gemma-3-12b", 0, 0}};
  for (const auto& card : cards) {
    const ModelConfig c = preset_config(card.like);
    const double b = double(parameter_count(c)) / 1e9;
    std::printf("      %s: %s, %lld layers, %.4f B parameters\n", card.like, c.architecture.c_str(),
                (long long)c.num_layers, b);
    if (card.billions > 0) CHECK_MSG(std::fabs(b - card.billions) < card.precision, std::string(card.like) + ": " + std::to_string(b));
    const auto j = family_preset_json(card.like, 2, "bfloat16");
    CHECK(j.has_value());
    const ModelConfig back = ModelConfig::from_json(*j);
    CHECK(back.num_layers == 2 && back.dtype == "bfloat16" && back.architecture == c.architecture);
    CHECK(back.hidden_size == c.hidden_size && back.head_dim == c.head_dim && back.num_kv_heads == c.num_kv_heads &&
          back.vocab_size == c.vocab_size && back.num_experts == c.num_experts);
  }
  const ModelConfig g3 = preset_config("gemma-3-12b");  // 5 local layers, then a global one
  CHECK(g3.is_sliding_layer(0) && g3.is_sliding_layer(4) && !g3.is_sliding_layer(5) && g3.sliding_window == 1024);
  CHECK(g3.rope_local_theta == 10000.0 && g3.rope_theta == 1000000.0 && g3.rope_scaling.factor == 8.0);
  const ModelConfig g2 = preset_config("gemma-2-9b");
  CHECK(g2.attn_softcap == 50.0 && g2.final_softcap == 30.0 && g2.is_sliding_layer(0) && !g2.is_sliding_layer(1));
  CHECK(preset_config("qwen3-30b-a3b").is_moe_layer(0) && preset_config("phi-3-mini").fused_qkv);
}
