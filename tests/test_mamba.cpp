// Mamba-1: the chunked selective scan against a plain sequential scan, config.json parsing and
// writing, make-checkpoint shapes, layer names and types, what has no KV cache, and every
// strategy running or refusing with its reason. (Logits parity: test_parity.cpp.)
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cmath>
#include <cstdio>

#include "core/io/make_checkpoint.h"
#include "core/model/model.h"
#include "core/model/model_layout.h"
#include "core/model/model_summary.h"
#include "core/model/selective_scan.h"
#include "core/model/transform_support.h"
#include "core/records/json_util.h"
#include "core/runtime/errors.h"
#include "core/text/tokenizer.h"
#include "quant/pipeline/pipeline.h"
#include "tests/check.h"
#include "tests/fixture_paths.h"

using namespace ptq;
using json = nlohmann::json;

namespace {

// transformers' MambaMixer.slow_forward loop, in float64: h = exp(dt·A)·h + dt·x·B; y = h·C.
at::Tensor sequential_scan(const at::Tensor& x, const at::Tensor& dt, const at::Tensor& A, const at::Tensor& Bm,
                           const at::Tensor& C) {
  const auto d = at::kDouble;
  at::Tensor x64 = x.to(d), dt64 = dt.to(d), A64 = A.to(d), B64 = Bm.to(d), C64 = C.to(d);
  at::Tensor h = at::zeros({x.size(0), x.size(2), A.size(1)}, x64.options());
  std::vector<at::Tensor> ys;
  for (int64_t t = 0; t < x.size(1); ++t) {
    at::Tensor dtt = dt64.select(1, t).unsqueeze(-1);  // [B, D, 1]
    h = at::exp(dtt * A64) * h + dtt * x64.select(1, t).unsqueeze(-1) * B64.select(1, t).unsqueeze(1);
    ys.push_back((h * C64.select(1, t).unsqueeze(1)).sum(-1));
  }
  return at::stack(ys, 1);
}

struct ScanInputs {
  at::Tensor x, dt, A, B, C;
};

// dt = softplus(N(0,1)·dt_scale) as after dt_proj; A = −exp(N(0,1)·0.5 + log_a) per channel and state.
ScanInputs random_scan(int64_t T, double dt_scale, double log_a, uint64_t seed) {
  at::manual_seed(seed);
  const int64_t B = 2, D = 6, N = 4;
  ScanInputs s;
  s.x = at::randn({B, T, D});
  s.dt = at::softplus(at::randn({B, T, D}) * dt_scale);
  s.A = -at::exp(at::randn({D, N}) * 0.5 + log_a);
  s.B = at::randn({B, T, N});
  s.C = at::randn({B, T, N});
  return s;
}

std::string fixture() { return test::shared_dir() + "/parity/mamba"; }

}  // namespace

// Float32 against float64: every exponent s_t − s_k comes from a cumulative sum restarted each
// chunk, so its rounding is at most chunk·max|dt·A|·2⁻²⁴ (32·~8·6e-8 ≈ 1.5e-5 here) absolute,
// i.e. that relative error in a decay factor; the sums over k ≤ chunk terms and N states add
// (chunk + N)·2⁻²⁴ relative. 1e-4 of the output's scale covers both with a margin of ~5.
TEST_CASE("mamba: chunked selective scan matches the sequential scan (chunks 1, 3, 8, 32; T 1, 7, 37, 70)") {
  at::NoGradGuard ng;
  for (int64_t T : {1, 7, 37, 70})
    for (int64_t chunk : {1, 3, 8, 32}) {
      ScanInputs s = random_scan(T, 1.0, 0.5, uint64_t(T * 100 + chunk));
      at::Tensor last;
      at::Tensor y = selective_scan(s.x, s.dt, s.A, s.B, s.C, chunk, &last);
      at::Tensor ref = sequential_scan(s.x, s.dt, s.A, s.B, s.C);
      CHECK(y.scalar_type() == at::kFloat && y.sizes() == s.x.sizes());
      const double scale = 1.0 + ref.abs().max().item<double>();
      const double d = (y.to(at::kDouble) - ref).abs().max().item<double>();
      CHECK_MSG(d < 1e-4 * scale, "T " + std::to_string(T) + " chunk " + std::to_string(chunk) + ": max |diff| " +
                                      std::to_string(d) + " (scale " + std::to_string(scale) + ")");
      CHECK(last.sizes() == at::IntArrayRef({2, 6, 4}));
    }
}

// Decays of exp(−200) per step: a formulation through exp(−s_k) (the cumulative decay inverted)
// overflows float32 after one step; the masked segment sums never exponentiate a positive number.
TEST_CASE("mamba: selective scan stays finite with very fast decays and long chunks") {
  at::NoGradGuard ng;
  ScanInputs s = random_scan(50, 3.0, 4.0, 7);  // |dt·A| up to several hundred per step
  at::Tensor y = selective_scan(s.x, s.dt, s.A, s.B, s.C, 50);
  CHECK(at::isfinite(y).all().item<bool>());
  at::Tensor ref = sequential_scan(s.x, s.dt, s.A, s.B, s.C);
  CHECK((y.to(at::kDouble) - ref).abs().max().item<double>() < 1e-4 * (1.0 + ref.abs().max().item<double>()));
  CHECK_THROWS_WITH(selective_scan(s.x, s.dt, s.A, s.B, s.C, 0), "chunk size must be >= 1");
}

TEST_CASE("mamba: config.json of the fixture, its layout, layer names and types, no KV cache") {
  const ModelConfig c = ModelConfig::load(fixture() + "/config.json");
  CHECK(c.is_mamba() && !c.has_kv_cache() && c.hidden_size == 64 && c.intermediate_size == 128);
  CHECK(c.ssm_state_size == 8 && c.conv_kernel == 4 && c.time_step_rank == 8 && c.conv_bias && !c.mixer_bias);
  CHECK(c.residual_in_fp32 && c.tie_word_embeddings && std::abs(c.rms_norm_eps - 1e-5) < 1e-12);
  auto ls = block_linears(c, 1);
  CHECK(ls.size() == 4 && ls[0].name == "mixer.in_proj" && ls[0].out_features == 256 && ls[0].in_features == 64);
  CHECK(ls[1].name == "mixer.x_proj" && ls[1].out_features == 8 + 2 * 8 && ls[2].name == "mixer.dt_proj" && ls[2].bias);
  for (const auto& l : ls) CHECK(layer_type_of(linear_full_name(1, l.name)) == l.type);
  CHECK(layer_type_of("layers.1.mixer.out_proj") == "out_proj" && layer_type_of("layers.0.self_attn.o_proj") == "o");
  CHECK(linear_weight_key(c, 1, "mixer.x_proj") == "backbone.layers.1.mixer.x_proj.weight");
  ModelSummary s = summarize_checkpoint(fixture());
  CHECK(s.linears.size() == 8 && s.linears[0].name == "layers.0.mixer.in_proj" && s.linears[0].type == "in_proj");
  json j = s.to_json();
  CHECK(j["features"]["mamba"]["state_size"] == 8 && j["features"]["mamba"]["kv_cache"] == false);
  CHECK(!Model::load(fixture())->has_kv_cache() && Model::load(test::tiny())->has_kv_cache());
}

TEST_CASE("mamba: config errors name the key") {
  json j = read_json_file(fixture() + "/config.json");
  json bad = j;
  bad["intermediate_size"] = 100;
  CHECK_THROWS_WITH(ModelConfig::from_json(bad), "but expand (2) x hidden_size (64) is 128");
  bad = j;
  bad["num_attention_heads"] = 4;
  CHECK_THROWS_WITH(ModelConfig::from_json(bad), "sets 'num_attention_heads'");
  bad = j;
  bad["state_size"] = 0;
  CHECK_THROWS_WITH(ModelConfig::from_json(bad), "'state_size' is 0, expected an integer from 1");
  bad = j;
  bad["hidden_act"] = "gelu";
  CHECK_THROWS_WITH(ModelConfig::from_json(bad), "activation 'gelu' is not supported for MambaForCausalLM");
  bad = j;
  bad["time_step_rank"] = "auto";
  bad.erase("intermediate_size");
  bad["hidden_size"] = 100;  // ceil(100 / 16) = 7, intermediate = 200
  const ModelConfig c = ModelConfig::from_json(bad);
  CHECK(c.time_step_rank == 7 && c.intermediate_size == 200);
}

// The hub shapes, checked without writing GBs: the written config.json parses back to the same
// shapes, and the parameter count is the published 1.37 B / 2.77 B.
TEST_CASE("mamba: make-checkpoint shapes mamba-1.4b and mamba-2.8b round-trip through the loader") {
  for (const auto& [like, hidden, layers, rank, params] :
       {std::make_tuple("mamba-1.4b", 2048, 48, 128, 1372178432.0), std::make_tuple("mamba-2.8b", 2560, 64, 160, 2768345600.0)}) {
    const ModelConfig c = preset_config(like);
    const ModelConfig back = ModelConfig::from_json(c.to_hf_json());
    CHECK(back.is_mamba() && back.hidden_size == hidden && back.num_layers == layers && back.time_step_rank == rank);
    CHECK(back.intermediate_size == 2 * hidden && back.ssm_state_size == 16 && back.conv_kernel == 4);
    CHECK(back.vocab_size == 50280 && back.tie_word_embeddings && !back.mixer_bias && back.conv_bias);
    CHECK(expected_tensors(back).size() == expected_tensors(c).size());
    std::printf("      %s: %lld parameters\n", like, (long long)parameter_count(back));
    CHECK_NEAR(double(parameter_count(back)), params, 0.5);
  }
  at::Tensor a = mamba_initial_tensor("backbone.layers.0.mixer.A_log", {3, 16});
  CHECK(std::abs(a[2][15].item<double>() - std::log(16.0)) < 1e-6);
}

TEST_CASE("mamba: make-checkpoint tiny-mamba writes a checkpoint that loads and runs, resident and streamed") {
  at::NoGradGuard ng;
  MakeCheckpointOptions o;
  o.like = "tiny-mamba";
  o.out_dir = test::temp_dir("tiny-mamba");
  o.dtype = "float32";
  make_checkpoint(o);
  at::Tensor ids = at::randint(0, 8192, {1, 20}, at::kLong);
  LoadOptions lo;
  lo.residency = Residency::Resident;
  at::Tensor resident = Model::load(o.out_dir, lo)->forward(ids);
  lo.residency = Residency::Stream;
  at::Tensor streamed = Model::load(o.out_dir, lo)->forward(ids);
  CHECK(at::isfinite(resident).all().item<bool>() && at::equal(resident, streamed));
}

// RTN, GPTQ and OmniQuant (LWC) quantize the four projections; AWQ and rotation refuse before any
// work with the reason transform_refusal gives (their compositions too).
TEST_CASE("mamba: each strategy runs or refuses with its reason") {
  at::NoGradGuard ng;
  const ModelConfig cfg = ModelConfig::load(fixture() + "/config.json");
  CHECK(transform_refusal(cfg, "awq").find("cannot be folded into the projections after the conv") != std::string::npos);
  CHECK(transform_refusal(cfg, "rotate").find("cannot be fused across the mixer") != std::string::npos);
  CHECK(transform_refusal(cfg, "omniquant").empty() && transform_refusal(cfg, "gptq").empty());
  Tokenizer tok = Tokenizer::from_file(fixture() + "/tokenizer.json");
  for (const char* method : {"rtn", "gptq", "omniquant", "awq", "rotate", "awq+gptq", "rotate+gptq"}) {
    auto model = Model::load(fixture());
    QuantRequest q;
    q.method = method;
    q.plan.spec.bits = 4;
    q.plan.spec.group_size = 8;  // divides dt_proj's 8 inputs
    q.calib.files = {test::corpus("austen-valid.txt")};
    q.calib.nsamples = 4;
    q.calib.seqlen = 24;
    q.params = std::string(method) == "omniquant" ? json{{"omniquant.epochs", 1}} : json::object();
    const std::string m = method;
    const std::string why = transform_refusal(cfg, m.find("awq") != std::string::npos ? "awq" : m.find("rotate") != std::string::npos ? "rotate" : m);
    if (!why.empty()) {
      CHECK_THROWS_WITH(quantize_model(*model, &tok, q), why);
      continue;
    }
    QuantResult r = quantize_model(*model, &tok, q);
    CHECK_MSG(r.layers.size() == 8, m + ": " + std::to_string(r.layers.size()) + " layer records");
    for (const auto& l : r.layers) CHECK_MSG(l.quantized && l.out_cosine > 0.5, m + ": " + l.name);
    CHECK(r.blocks.size() == 2 && std::isfinite(r.blocks[1].out_rel_mse));
    at::Tensor logits = model->forward(at::randint(0, 8192, {1, 16}, at::kLong));
    CHECK_MSG(at::isfinite(logits).all().item<bool>(), m + ": non-finite logits");
  }
}

TEST_MAIN()
