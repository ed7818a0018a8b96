// DeepSeek-V3 beyond parity (tests/test_parity.cpp): config.json keys and their bad values, yarn rope
// against tests/reference/yarn_reference.py, grouped sigmoid routing by hand, the make-checkpoint
// preset, AWQ / rotation folds that keep the function, every strategy on the fixture, and the RTN
// fallback of experts that no calibration token reaches.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "core/io/make_checkpoint.h"
#include "core/io/safetensors.h"
#include "core/model/model.h"
#include "core/model/moe_routing.h"
#include "core/model/rope.h"
#include "core/model/transform_support.h"
#include "core/records/json_util.h"
#include "core/runtime/errors.h"
#include "core/text/tokenizer.h"
#include "quant/methods/rotation/rotation.h"
#include "quant/pipeline/block_stage.h"
#include "quant/pipeline/pipeline.h"
#include "tests/check.h"

namespace ptq {
int awq_fold_random_scales(DecoderBlock& b, uint64_t seed, double range);  // quant/methods/awq/awq.cpp
}  // namespace ptq

using namespace ptq;
using json = nlohmann::json;

namespace {

std::string fixture() { return test::shared_dir() + "/parity/deepseek-v3"; }
json fixture_json() { return read_json_file(fixture() + "/config.json"); }
ModelConfig with(const std::function<void(json&)>& edit) {
  json j = fixture_json();
  edit(j);
  return ModelConfig::from_json(j, "deepseek.json");
}
double max_abs(const at::Tensor& a, const at::Tensor& b) { return (a - b).abs().max().item<double>(); }
at::Tensor reference_ids() { return SafetensorsFile(fixture() + "/reference.safetensors").load("input_ids"); }

}  // namespace

TEST_CASE("deepseek config: latent attention and routing keys, per-layer layout") {
  const ModelConfig c = ModelConfig::load(fixture() + "/config.json");
  CHECK(c.mla && c.moe_layout == "deepseek" && c.head_dim == 8);
  CHECK(c.deepseek.q_lora_rank == 32 && c.deepseek.kv_lora_rank == 16 && c.deepseek.qk_head_dim() == 24);
  CHECK(c.deepseek.n_group == 2 && c.deepseek.topk_group == 1 && c.deepseek.routed_scaling_factor == 2.5);
  CHECK(!c.is_moe_layer(0) && c.is_moe_layer(1));
  std::vector<std::string> types;
  for (const auto& s : block_linears(c, 1)) types.push_back(s.type);
  CHECK(types[0] == "q_a" && types[1] == "q_b" && types[2] == "kv_a" && types[3] == "kv_b" && types[4] == "o");
  CHECK(types[5] == "router" && types.size() == 5 + 1 + 4 * 3 + 3);  // attention, router, 4 experts, shared
  CHECK(layer_type_of("layers.1.mlp.shared_experts.down_proj") == "down");
  CHECK(layer_type_of("layers.0.self_attn.kv_a_proj_with_mqa") == "kv_a");
  // q_lora_rank null: one q_proj of heads·qk_head_dim rows from the hidden state.
  const ModelConfig q = with([](json& j) { j["q_lora_rank"] = nullptr; });
  const auto l = block_linears(q, 0);
  CHECK(l[0].name == "self_attn.q_proj" && l[0].type == "q" && l[0].out_features == 4 * 24 && l[0].in_features == 64);
  for (const auto& t : block_norms(q, 0)) CHECK(t.name.find("q_a_layernorm") == std::string::npos);
}

TEST_CASE("deepseek config: bad values name the key") {
  CHECK_THROWS_WITH(with([](json& j) { j.erase("kv_lora_rank"); }), "'kv_lora_rank' is missing while 'q_lora_rank' is 32");
  CHECK_THROWS_WITH(with([](json& j) { j["qk_rope_head_dim"] = 7; }), "'qk_rope_head_dim' (7) must be even");
  CHECK_THROWS_WITH(with([](json& j) { j["n_group"] = 3; }), "'n_group' (3) does not divide 'n_routed_experts' (4)");
  CHECK_THROWS_WITH(with([](json& j) { j["n_group"] = 4; }), "fewer than 2 of the 4 'n_routed_experts' per group");
  CHECK_THROWS_WITH(with([](json& j) { j["topk_group"] = 3; }), "'topk_group' (3) exceeds 'n_group' (2)");
  CHECK_THROWS_WITH(with([](json& j) { j["num_experts_per_tok"] = 5; }),
                    "'num_experts_per_tok' (5) exceeds 'n_routed_experts' (4)");
  CHECK_THROWS_WITH(with([](json& j) { j["first_k_dense_replace"] = 3; }), "'first_k_dense_replace' is 3");
  CHECK_THROWS_WITH(with([](json& j) { j["routed_scaling_factor"] = -1; }), "'routed_scaling_factor' is -1");
  CHECK_THROWS_WITH(with([](json& j) { j["num_key_value_heads"] = 2; }), "'num_key_value_heads' (2) must equal");
  CHECK_THROWS_WITH(with([](json& j) { j["hidden_act"] = "gelu"; }), "'hidden_act' \"gelu\" is not supported");
  CHECK_THROWS_WITH(with([](json& j) { j["rope_parameters"] = {{"rope_type", "longrope"}, {"rope_theta", 1e4}}; }),
                    "rope scaling type 'longrope' is not supported (supported: default, linear, llama3, yarn");
  CHECK_THROWS_WITH(with([](json& j) { j["rope_parameters"] = {{"rope_type", "yarn"}, {"factor", 0}}; }),
                    "'rope_parameters.factor' is 0");
}

// tests/reference/yarn_reference.txt is the output of yarn_reference.py (float64). Our inv_freq is
// float32 as transformers': the exponent 2i/dim rounded to float32 (relative 6e-8) times ln(base)
// <= 13.9 moves base^(2i/dim) by <= 8.3e-7 relative, and four float32 operations add <= 2.4e-7;
// 2e-6 covers both. A ramp bound off by one moves entries by tens of percent.
TEST_CASE("yarn inv_freq and attention factor match the plain-Python reference") {
  std::ifstream f(std::string(PTQ_SOURCE_DIR) + "/tests/reference/yarn_reference.txt");
  CHECK(f.good());
  std::map<std::string, std::vector<double>> ref;
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream in(line);
    std::string name;
    in >> name;
    double v;
    while (in >> v) ref[name].push_back(v);
  }
  auto yarn = [](double factor, int64_t orig) {
    RopeScaling s;
    s.type = "yarn";
    s.factor = factor;
    s.original_max_position_embeddings = orig;
    return s;
  };
  struct Case {
    const char* name;
    int64_t dim;
    double base;
    RopeScaling s;
  };
  RopeScaling ds = yarn(40, 4096), small = yarn(8, 256);
  ds.mscale = ds.mscale_all_dim = 1.0;
  small.beta_fast = 16, small.beta_slow = 2, small.mscale = 0.707, small.truncate = false;
  for (const Case& c : {Case{"deepseek-v3", 64, 1e4, ds}, Case{"qwen-yarn", 128, 1e6, yarn(4, 32768)},
                        Case{"small-untruncated", 16, 1e4, small}}) {
    const auto& want = ref.at(c.name);
    CHECK(int64_t(want.size()) == 1 + c.dim / 2);
    CHECK_REL(rope_attention_factor(c.s), want[0], 1e-12);
    at::Tensor inv = yarn_inv_freq(c.dim, c.base, c.s);
    for (int64_t i = 0; i < c.dim / 2; ++i) CHECK_REL(inv[i].item<double>(), want[size_t(i + 1)], 2e-6);
  }
  ModelConfig p = preset_config("deepseek-v3");
  CHECK_REL(deepseek_softmax_scale(p), ref.at("deepseek-v3-softmax-scale")[0], 1e-12);
  CHECK_REL(rope_inv_freq(p)[5].item<double>(), ref.at("deepseek-v3")[6], 2e-6);  // the model's own rope path
  // From config.json (DeepSeek-V3's hub layout): factor, original_max_position_embeddings, mscale keys.
  const ModelConfig y = with([](json& j) {
    j.erase("rope_parameters");
    j["rope_theta"] = 1e4;
    j["rope_scaling"] = {{"type", "yarn"}, {"factor", 40}, {"original_max_position_embeddings", 4096},
                         {"beta_fast", 32}, {"beta_slow", 1}, {"mscale", 1.0}, {"mscale_all_dim", 1.0}};
  });
  CHECK(y.rope_scaling.type == "yarn" && y.rope_scaling.original_max_position_embeddings == 4096);
  CHECK_REL(deepseek_softmax_scale(y), (1 / std::sqrt(24.0)) * std::pow(0.1 * std::log(40.0) + 1, 2), 1e-12);
}

TEST_CASE("deepseek routing: groups by top-2 sums, bias only for the choice, scaled weights") {
  ModelConfig c = ModelConfig::load(fixture() + "/config.json");  // 4 experts, 2 groups, top group 1, top-2, x2.5
  auto sig = [](double x) { return 1 / (1 + std::exp(-x)); };
  at::Tensor logits = at::tensor({2.0f, 1.0f, 3.0f, -1.0f}).view({1, 4});
  // Group {0,1} sums 0.881 + 0.731 > group {2,3} 0.953 + 0.269: experts 0 and 1, though 2 scores highest.
  auto r = deepseek_route(logits, at::zeros({4}), c);
  at::Tensor idx = std::get<0>(r.first.sort(-1));
  CHECK(idx[0][0].item<int64_t>() == 0 && idx[0][1].item<int64_t>() == 1);
  CHECK_REL(r.second.sum().item<double>(), 2.5, 1e-6);  // renormalised, times routed_scaling_factor
  // A bias of +1 on expert 3 moves the choice to group {2,3}; the weights stay unbiased sigmoids.
  r = deepseek_route(logits, at::tensor({0.0f, 0.0f, 0.0f, 1.0f}), c);
  at::Tensor w = r.second[0], i = r.first[0];
  const int64_t hi = i[0].item<int64_t>() == 2 ? 0 : 1;
  CHECK(i[hi].item<int64_t>() == 2 && i[1 - hi].item<int64_t>() == 3);
  CHECK_REL(w[hi].item<double>(), 2.5 * sig(3) / (sig(3) + sig(-1)), 1e-6);
  c.norm_topk_prob = false;
  r = deepseek_route(logits, at::tensor({0.0f, 0.0f, 0.0f, 1.0f}), c);
  CHECK_REL(r.second.sum().item<double>(), 2.5 * (sig(3) + sig(-1)), 1e-6);
}

TEST_CASE("make-checkpoint deepseek-v3: real shapes, --layers required, config round trip") {
  const ModelConfig p = preset_config("deepseek-v3");
  // 671 B parameters in the 61 layers (the hub's figure leaves out the 14 B multi-token-prediction layer).
  const double n = double(parameter_count(p));
  std::printf("      deepseek-v3 parameters: %.4g\n", n);
  CHECK_REL(n, 671e9, 0.005);
  MakeCheckpointOptions o;
  o.like = "deepseek-v3";
  o.out_dir = "/nonexistent/never-written";
  CHECK_THROWS_WITH(make_checkpoint(o), "make-checkpoint --like deepseek-v3 needs --layers N");
  ModelConfig c = p;
  c.num_layers = 2;
  c.deepseek.first_k_dense_replace = 1;
  const ModelConfig back = ModelConfig::from_json(c.to_hf_json(), "written");
  CHECK(back.architecture == "DeepseekV3ForCausalLM" && back.mla && back.num_layers == 2);
  CHECK(back.to_hf_json() == c.to_hf_json());
  CHECK(expected_tensors(back).size() == expected_tensors(c).size());
  for (const auto& t : {"q_lora_rank", "kv_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim"})
    CHECK(back.to_hf_json().at(t) == c.to_hf_json().at(t));
  CHECK(back.rope_scaling.type == "yarn" && back.rope_scaling.factor == 40 && back.rope_scaling.mscale_all_dim == 1.0);
  CHECK(back.deepseek.n_group == 8 && back.deepseek.topk_group == 4 && back.experts_per_token == 8);
  CHECK(back.num_experts == 256 && back.moe_intermediate_size == 2048 && back.intermediate_size == 18432);
  CHECK(!back.is_moe_layer(0) && back.is_moe_layer(1));
}

TEST_CASE("deepseek AWQ folds (latent norms, router with experts and shared experts) keep the function") {
  at::NoGradGuard ng;
  const at::Tensor ids = reference_ids();
  const at::Tensor want = Model::load(fixture())->forward(ids);
  auto m = Model::load(fixture());
  // Block 0 (dense): input_layernorm -> q_a,kv_a; q_a_layernorm -> q_b; kv_a_layernorm -> kv_b;
  // post_attention_layernorm -> gate,up; up -> down. Block 1: the same three, post-norm -> router +
  // 4 experts + shared, and 5 up -> down.
  CHECK(awq_fold_random_scales(as_decoder(m->acquire(0)), 100, 1.0) == 5);
  CHECK(awq_fold_random_scales(as_decoder(m->acquire(1)), 101, 1.0) == 9);
  CHECK_MSG(max_abs(as_decoder(m->block(1)).kv_a_norm, as_decoder(Model::load(fixture())->block(1)).kv_a_norm) > 1e-2, "kv_a_layernorm not scaled");
  // Exact in real arithmetic; float32 roundings of scales within e^±1 measured 2e-6 here.
  const double d = max_abs(m->forward(ids), want);
  std::printf("      deepseek-v3 AWQ folds: max |logits - unscaled| = %.2e\n", d);
  CHECK_MSG(d < 1e-4, "logits differ by " + std::to_string(d));
}

TEST_CASE("deepseek rotation of the residual stream keeps the function (streamed too)") {
  at::NoGradGuard ng;
  const at::Tensor ids = reference_ids();
  for (Residency res : {Residency::Resident, Residency::Stream}) {
    LoadOptions lo;
    lo.residency = res;
    const at::Tensor want = Model::load(fixture(), lo)->forward(ids);
    auto m = Model::load(fixture(), lo);
    const json params = {{"online_hadamard", false}};
    CHECK(transform_refusal(m->config(), "rotate", params).empty());
    CHECK(rotation_record(m->config(), params).at("not_run")[0].get<std::string>().find("kv_b_proj") != std::string::npos);
    rotate_model(*m, params, 7, nullptr);
    // As tests/test_rotation.cpp: a function-preserving rotation moves float32 logits by ~1e-6 of
    // their maximum; a missed fold (q_a, kv_a, router) moves them by 1e-2 and more.
    const double d = max_abs(m->forward(ids), want), scale = want.abs().max().item<double>();
    std::printf("      deepseek-v3 rotation %s: max |logits - unrotated| = %.2e (max %.2f)\n",
                residency_name(res).c_str(), d, scale);
    CHECK_MSG(d < 1e-5 * scale, "logits differ by " + std::to_string(d));
  }
}

namespace {

QuantRequest deepseek_request(const std::string& method) {
  QuantRequest q;
  q.method = method;
  q.plan.spec.bits = 4;
  q.plan.spec.group_size = 16;  // divides every input width: 64, 32 (q_b), 16 (kv_b), 48 (experts' down)
  q.calib.files = {test::shared_dir() + "/corpus/austen-valid.txt"};
  q.calib.nsamples = 4;
  q.calib.seqlen = 32;
  return q;
}

}  // namespace

// Every strategy runs (finite logits; every linear but the router quantized, the latent projections
// included) or refuses before any work: rotation's online Hadamard (experts' down_proj inputs are 48,
// the dense layer's 128) unless online_hadamard=false.
TEST_CASE("deepseek: each strategy runs or refuses with its reason") {
  at::NoGradGuard ng;
  Tokenizer tok = Tokenizer::from_file(fixture() + "/tokenizer.json");
  const ModelConfig c = ModelConfig::load(fixture() + "/config.json");
  CHECK(transform_refusal(c, "awq").empty());
  CHECK(transform_refusal(c, "rotate").find("online_hadamard=false") != std::string::npos);
  CHECK(transform_refusal(c, "rotate").find("shared experts' 48") != std::string::npos);
  {
    auto model = Model::load(fixture());
    CHECK_THROWS_WITH(quantize_model(*model, &tok, deepseek_request("rotate+gptq")), transform_refusal(c, "rotate"));
  }
  for (const char* method : {"rtn", "gptq", "awq", "rotate", "omniquant", "rotate+gptq", "awq+gptq"}) {
    auto model = Model::load(fixture());
    QuantRequest q = deepseek_request(method);
    if (std::string(method) == "omniquant") q.params = {{"omniquant.epochs", 1}};
    if (std::string(method).find("rotate") != std::string::npos) q.params = {{"rotate.online_hadamard", false}};
    QuantResult r = quantize_model(*model, &tok, q);
    at::Tensor logits = model->forward(reference_ids());
    CHECK_MSG(at::isfinite(logits).all().item<bool>(), std::string(method) + ": non-finite logits");
    int latent = 0;
    for (const auto& l : r.layers) {
      const bool router = l.type == "router";
      CHECK_MSG(l.quantized != router, std::string(method) + ": " + l.name + (router ? " quantized" : " not quantized"));
      latent += (l.type == "q_a" || l.type == "q_b" || l.type == "kv_a" || l.type == "kv_b") && l.quantized;
    }
    CHECK_MSG(latent == 8, std::string(method) + ": latent projections quantized: " + std::to_string(latent));
  }
}

// Experts that no calibration token reaches: a bias of -100 on expert 3 keeps group {2,3} from ever
// winning (its top-2 sum drops below group {0,1}'s), so experts 2 and 3 get no tokens and GPTQ falls
// back to RTN for them, saying so in their records; experts 0 and 1 are solved with tokens.
TEST_CASE("deepseek GPTQ: experts without calibration tokens fall back to RTN, recorded") {
  at::NoGradGuard ng;
  Tokenizer tok = Tokenizer::from_file(fixture() + "/tokenizer.json");
  auto model = Model::load(fixture());
  DecoderBlock& b = as_decoder(model->acquire(1));
  b.score_bias = at::tensor({0.0f, 0.0f, 0.0f, -100.0f});
  b.mark_modified();
  QuantResult r = quantize_model(*model, &tok, deepseek_request("gptq"));
  int fallback = 0, solved = 0;
  for (const auto& l : r.layers) {
    if (l.name.find("layers.1.mlp.experts.") != 0) continue;
    const bool starved = l.name.find("experts.2.") != std::string::npos || l.name.find("experts.3.") != std::string::npos;
    const bool rtn = l.note.find("no calibration tokens: RTN fallback") != std::string::npos;
    CHECK_MSG(rtn == starved, l.name + ": " + l.note);
    fallback += rtn;
    solved += !rtn && l.calib_tokens > 0;
  }
  CHECK(fallback == 6 && solved == 6);
}
