// Analyses: kurtosis (definition, streaming, per-layer tables on parity models), token-distribution
// KL / JS on hand-computed histograms, and exact model sizes on a small config.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cmath>

#include "core/runtime/errors.h"
#include "core/records/json_util.h"
#include "core/model/model.h"
#include "core/text/tokenizer.h"
#include "eval/experiment/experiment.h"
#include "eval/metrics/kurtosis.h"
#include "quant/pipeline/calibration.h"
#include "eval/metrics/model_size.h"
#include "eval/metrics/token_kl.h"
#include "tests/check.h"

using namespace ptq;

namespace {

std::string shared(const std::string& rel) { return test::shared_dir() + "/" + rel; }

// Kurtosis the textbook way, for comparison.
double kurtosis_by_hand(const std::vector<double>& x) {
  double n = double(x.size()), mean = 0, m2 = 0, m4 = 0;
  for (double v : x) mean += v / n;
  for (double v : x) m2 += (v - mean) * (v - mean), m4 += std::pow(v - mean, 4);
  const double s2 = m2 / (n - 1);
  return (m4 / n) / (s2 * s2);
}

struct Capture : LinearObserver {
  std::map<std::string, std::vector<at::Tensor>> inputs;
  void on_linear(int block, const Linear& l, const at::Tensor& in, const at::Tensor&) override {
    inputs[linear_full_name(block, l.name())].push_back(in.clone());
  }
};

const json& layer_row(const json& k, const std::string& name) {
  for (const auto& l : k["layers"])
    if (l["name"] == name) return l;
  throw test::Failure{"no kurtosis row for " + name};
}

}  // namespace

TEST_CASE("pearson kurtosis of [1,2,3,4,100] by hand") {
  at::Tensor x = at::tensor({1.0, 2.0, 3.0, 4.0, 100.0}, at::kDouble);
  CHECK_NEAR(pearson_kurtosis(x), kurtosis_by_hand({1, 2, 3, 4, 100}), 1e-12);
  // Exact: mean 22, sum of squared deviations 7610, of fourth powers 37604834, so
  // (37604834 / 5) / (7610 / 4)^2 = 2.077898553152105...
  CHECK_NEAR(pearson_kurtosis(x), (37604834.0 / 5) / ((7610.0 / 4) * (7610.0 / 4)), 1e-12);
  CHECK_NEAR(pearson_kurtosis(x.to(at::kFloat)), 2.077898553152105, 1e-9);
  CHECK(std::isnan(pearson_kurtosis(at::ones({7}))));  // zero variance
  CHECK(std::isnan(pearson_kurtosis(at::ones({1}))));
}

TEST_CASE("Gaussian sample scores 3, uniform 1.8") {
  at::manual_seed(1);
  // Sampling error of the kurtosis of n = 1e6 draws: sqrt(24/n) = 0.005 for a Gaussian and
  // sqrt((mu8 - mu4^2)/n)/sigma^4 ~ 0.001 for the uniform; the tolerances are ~10 of those.
  CHECK_NEAR(pearson_kurtosis(at::randn({1000, 1000})), 3.0, 0.05);
  CHECK_NEAR(pearson_kurtosis(at::rand({1000000})), 1.8, 0.01);
}

TEST_CASE("streaming accumulator over 3 batches equals one shot") {
  at::manual_seed(2);
  at::Tensor x = at::randn({5000}).pow(3) * 2 + 7;  // heavy tails, far from zero mean
  MomentAccumulator acc;
  acc.add(x.slice(0, 0, 1000).reshape({10, 100}));
  acc.add(x.slice(0, 1000, 1100));
  acc.add(x.slice(0, 1100, 5000));
  CHECK(acc.count() == 5000);
  const double one_shot = pearson_kurtosis(x);
  CHECK(one_shot > 10);
  CHECK_NEAR(acc.kurtosis(), one_shot, 1e-9 * one_shot);
  // Double sums of 5000 terms: relative rounding ~ sqrt(5000) * 1.1e-16; the shifted streaming
  // sums and the two-pass ones differ by that, far below 1e-11.
  CHECK_REL(acc.mean(), x.to(at::kDouble).mean().item<double>(), 1e-11);
  CHECK_REL(acc.variance(), x.to(at::kDouble).var().item<double>(), 1e-11);
  MomentAccumulator empty;
  empty.add(at::empty({0, 4}));
  CHECK(empty.count() == 0 && std::isnan(empty.kurtosis()));
}

TEST_CASE("row kurtosis mean skips constant rows") {
  at::Tensor w = at::tensor({1.0, 2.0, 3.0, 4.0, 100.0, 5.0, 5.0, 5.0, 5.0, 5.0, 0.0, 1.0, 0.0, 1.0, 9.0}, at::kDouble)
                     .reshape({3, 5});
  const double k0 = kurtosis_by_hand({1, 2, 3, 4, 100}), k2 = kurtosis_by_hand({0, 1, 0, 1, 9});
  CHECK_NEAR(row_kurtosis_mean(w), (k0 + k2) / 2, 1e-12);
}

TEST_CASE("kurtosis table: q/k/v share their input, activation matches the captured inputs") {
  at::NoGradGuard ng;
  auto model = Model::load(shared("parity/llama"));
  at::manual_seed(3);
  at::Tensor windows = at::randint(0, 8192, {3, 24}, at::kLong);
  json k = measure_kurtosis(*model, windows, 2);
  CHECK(k["definition"].get<std::string>().find("unbiased") != std::string::npos);
  CHECK(k["calib_tokens"] == 72);
  CHECK(k["layers"].size() == 14);
  Capture cap;
  model->forward(windows, &cap);
  for (const char* name : {"layers.0.self_attn.q_proj", "layers.1.mlp.down_proj", "layers.1.self_attn.o_proj"}) {
    const json& row = layer_row(k, name);
    // measure_kurtosis runs the windows 2 at a time, the capture all 3 at once: the float32
    // activations then differ by a few ulps (relative ~1e-6 after two blocks), and a kurtosis
    // (fourth moment over squared second) moves by up to ~6x that. An absolute 1e-6 failed at
    // 15.244229 vs 15.244230 on a clean clone.
    CHECK_REL(row["activation"].get<double>(), pearson_kurtosis(at::cat(cap.inputs[name])), 1e-5);
  }
  const json& q = layer_row(k, "layers.0.self_attn.q_proj");
  CHECK_REL(layer_row(k, "layers.0.self_attn.v_proj")["activation"].get<double>(), q["activation"].get<double>(), 1e-15);
  const at::Tensor wq = model->block(0).linear("self_attn.q_proj").weight;
  CHECK_NEAR(q["weight"].get<double>(), pearson_kurtosis(wq), 1e-12);
  CHECK_NEAR(q["weight_channel_mean"].get<double>(), row_kurtosis_mean(wq), 1e-12);
  CHECK_NEAR(q["weight"].get<double>(), 3.0, 0.3);  // N(0, 0.08) weights
  for (const char* t : {"q", "k", "v", "o", "gate", "up", "down"}) CHECK(k["by_type"][t]["layers"] == 2);
  const json& bq = k["by_type"]["q"];
  const double mean_q = (q["activation"].get<double>() + layer_row(k, "layers.1.self_attn.q_proj")["activation"].get<double>()) / 2;
  CHECK_REL(bq["activation"].get<double>(), mean_q, 1e-15);  // the mean of two doubles: one rounding
}

TEST_CASE("kurtosis table of a Mixtral: expert and router types; by_type skips missing values") {
  at::NoGradGuard ng;
  auto model = Model::load(shared("parity/mixtral"));
  at::Tensor windows = at::arange(0, 64, at::kLong).reshape({2, 32});
  json k = measure_kurtosis(*model, windows, 2);
  CHECK(k["layers"].size() == 2 * (4 + 1 + 4 * 3));
  CHECK(k["by_type"]["expert_gate"]["layers"] == 8);
  CHECK(k["by_type"]["router"]["layers"] == 2);
  CHECK(!k["by_type"].contains("gate"));
  CHECK(layer_row(k, "layers.0.block_sparse_moe.experts.1.w2")["type"] == "expert_down");
  // The hook form: no observer, so no activation values.
  KurtosisTable t;
  add_block_kurtosis(t, model->acquire(0), nullptr);
  t.layers[1].weight = std::nan("");
  json j = t.to_json();
  CHECK(j["layers"][0]["activation"].is_null());
  CHECK(j["by_type"]["q"]["activation"].is_null());
  CHECK(j["layers"][1]["weight"].is_null());
  CHECK(j["by_type"]["k"]["weight"].is_null());
  CHECK(j["by_type"]["v"]["weight"].is_number());
}

TEST_CASE("KL and JS on hand-computed histograms") {
  std::vector<int64_t> calib = {3, 1, 0}, test = {1, 1, 2};
  auto pc = smoothed_distribution(calib, 0.5), pt = smoothed_distribution(test, 0.5);
  CHECK_NEAR(pc[0], 3.5 / 5.5, 1e-15);
  CHECK_NEAR(pt[2], 2.5 / 5.5, 1e-15);
  const double kl = 1.5 / 5.5 * std::log(1.5 / 3.5) + 1.5 / 5.5 * std::log(1.5 / 1.5) + 2.5 / 5.5 * std::log(2.5 / 0.5);
  CHECK_NEAR(kl_divergence(pt, pc), kl, 1e-12);
  CHECK_NEAR(kl, 0.500481, 1e-6);
  auto m = [](double a, double b) { return (a + b) / 2; };
  double js = 0;
  for (int i = 0; i < 3; ++i) js += 0.5 * pt[i] * std::log(pt[i] / m(pt[i], pc[i])) + 0.5 * pc[i] * std::log(pc[i] / m(pt[i], pc[i]));
  CHECK_NEAR(js_divergence(pt, pc), js, 1e-12);
  CHECK_NEAR(js_divergence(pt, pc), js_divergence(pc, pt), 1e-15);
  CHECK_NEAR(js_divergence({1, 0}, {0, 1}), std::log(2.0), 1e-12);
  CHECK_NEAR(kl_divergence(pc, pc), 0.0, 1e-15);
  CHECK(token_counts({0, 2, 2}, 3) == std::vector<int64_t>({1, 0, 2}));
  CHECK_THROWS_WITH(token_counts({5}, 3), "outside the vocabulary");
}

TEST_CASE("token_kl on two texts") {
  Tokenizer tok = Tokenizer::from_file(shared("tokenizers/austen-bpe8k.tokenizer.json"));
  const std::string calib = "Hello world. Hello world.", test = "Hello there, my dear world";
  TokenKlOptions o;
  o.top = 3;
  json j = token_kl(tok, calib, test, o);
  CHECK(j["vocab_size"] == 8192);
  CHECK(j["calib_counts"].size() == 8192 && j["test_counts"].size() == 8192);
  auto cc = j["calib_counts"].get<std::vector<int64_t>>(), tc = j["test_counts"].get<std::vector<int64_t>>();
  CHECK(int64_t(tok.encode(calib).size()) == j["calib_tokens"].get<int64_t>());
  int64_t sum = 0;
  for (auto c : tc) sum += c;
  CHECK(sum == j["test_tokens"].get<int64_t>());
  // KL(test‖calib) from the counts, by the documented formula.
  const double eps = 1e-6, V = 8192, nc = double(j["calib_tokens"].get<int64_t>()), nt = double(sum);
  double kl = 0;
  for (size_t i = 0; i < tc.size(); ++i) {
    const double p = (tc[i] + eps) / (nt + eps * V), q = (cc[i] + eps) / (nc + eps * V);
    kl += p * std::log(p / q);
  }
  CHECK_NEAR(j["kl"].get<double>(), kl, 1e-9 * kl);
  CHECK(j["kl"].get<double>() > 1.0 && j["js"].get<double>() < std::log(2.0));
  CHECK(j["top"].size() == 3);
  const json& t0 = j["top"][0];
  CHECK(t0["token"] == tok.id_to_token(t0["id"].get<int64_t>()));
  CHECK(t0["calib"].get<double>() + t0["test"].get<double>() >= j["top"][1]["calib"].get<double>() + j["top"][1]["test"].get<double>());
  json same = token_kl(tok, calib, calib, o);
  CHECK_NEAR(same["kl"].get<double>(), 0.0, 1e-15);
  CHECK_NEAR(same["js"].get<double>(), 0.0, 1e-15);
  CHECK_THROWS_WITH(token_kl(tok, calib, "", o, "calib", "the test text"), "the test text has no tokens");
  CHECK_THROWS_WITH(token_kl(tok, std::string("ab\xff"), test, o, "calib 'x.txt'"), "calib 'x.txt': ");
  CHECK_THROWS_WITH(token_kl(tok, std::string("ab\xff"), test, o, "calib 'x.txt'"), "not valid UTF-8");
  o.smoothing = 0;
  CHECK_THROWS_WITH(token_kl(tok, calib, test, o), "smoothing must be a positive number");
}

TEST_CASE("analytic storage bytes equal QuantizedWeight::storage_bytes") {
  at::manual_seed(4);
  at::Tensor w = at::randn({24, 96});
  auto spec = [](int bits, int64_t g, bool sym, WeightFormat f) {
    QuantSpec s;
    s.bits = bits, s.group_size = g, s.symmetric = sym, s.format = f;
    return s;
  };
  for (const QuantSpec& s : {spec(3, 32, false, WeightFormat::Int), spec(4, -1, true, WeightFormat::Int),
                             spec(2, 48, false, WeightFormat::Int), spec(4, 32, false, WeightFormat::NF4),
                             spec(8, 96, false, WeightFormat::FP8_E4M3)})
    CHECK(quantized_linear_bytes(24, 96, s) == quantize_weight(w, s).storage_bytes());
  // 3-bit asymmetric, groups of 32: codes 24*96*3/8 = 864, scales 24*3*2 = 144, zeros ceil(72*3/8) = 27.
  CHECK(quantized_linear_bytes(24, 96, spec(3, 32, false, WeightFormat::Int)) == 864 + 144 + 27);
  CHECK(quantized_linear_bytes(24, 96, spec(3, 32, false, WeightFormat::Int), true) == 864 + 144 + 27 + 96 * 4);
}

TEST_CASE("model size of the parity llama: fp16 baseline, a plan, records") {
  // hidden 64, MLP 128, 2 layers, 4 heads of 16, 2 KV heads, vocab 8192, untied head.
  ModelConfig c = ModelConfig::load(shared("parity/llama/config.json"));
  const int64_t linear = 2 * (64 * 64 + 2 * 32 * 64 + 64 * 64 + 3 * 128 * 64);  // 73728
  const int64_t other = 2 * 8192 * 64 + 2 * 2 * 64 + 64;                          // embed, head, norms
  json base = model_size(c);
  CHECK(base["linear_params"] == linear);
  CHECK(base["other_params"] == other);
  CHECK(base["quantized_params"] == 0);
  CHECK(base["total_bytes"] == 2 * (linear + other));
  CHECK(base["fp16_bytes"] == 2 * (linear + other));
  CHECK_REL(base["bits_per_weight"].get<double>(), 16.0, 1e-15);  // ratios of integers: one or two roundings
  CHECK_NEAR(base["compression_vs_fp16"].get<double>(), 1.0, 1e-12);

  QuantPlan plan;
  plan.spec.bits = 4;
  plan.spec.group_size = 32;
  auto layers = planned_layers(c, plan);
  CHECK(layers.size() == 14);
  json q = model_size(c, layers);
  // 4 bits + a 16-bit scale and a 4-bit zero per 32 weights = 4.625 bits per linear weight.
  const int64_t linear_bytes = linear * 4625 / 8000;
  CHECK(q["total_bytes"] == linear_bytes + 2 * other);
  CHECK(q["quantized_params"] == linear);
  CHECK_REL(q["linear_bits_per_weight"].get<double>(), 4.625, 1e-15);
  CHECK_REL(q["bits_per_weight"].get<double>(), 8.0 * double(linear_bytes + 2 * other) / double(linear + other), 1e-15);
  CHECK_REL(q["compression_vs_fp16"].get<double>(), double(2 * (linear + other)) / double(linear_bytes + 2 * other), 1e-15);

  plan.overrides.push_back(parse_override("layers.0.*=skip"));
  plan.overrides.push_back(parse_override("*.down_proj=bits:8"));
  json mixed = model_size(c, planned_layers(c, plan));
  const int64_t down = 64 * 128, rest1 = linear / 2 - down;
  CHECK(mixed["total_bytes"] == linear + rest1 * 4625 / 8000 + (down + down / 32 * 2 + down / 32) + 2 * other);
  CHECK(mixed["quantized_params"] == linear / 2);

  // From records: only quantized rows with storage count; a foreign name is an error.
  LayerRecord r;
  r.name = "layers.1.mlp.up_proj";
  r.quantized = true;
  r.storage_bytes = 1000;
  json rec = model_size(c, {r});
  CHECK(rec["total_bytes"] == 2 * (linear - 128 * 64) + 1000 + 2 * other);
  r.name = "layers.7.mlp.up_proj";
  CHECK_THROWS_WITH(model_size(c, {r}), "layers.7.mlp.up_proj");
  r.name = "layers.1.mlp.up_proj";
  r.storage_bytes = 0;
  CHECK_THROWS_WITH(model_size(c, {r}), "no storage_bytes");
  plan.spec.group_size = 48;  // block 0 is skipped: the first layer the group size fails is block 1's
  CHECK_THROWS_WITH(planned_layers(c, plan), "layers.1.self_attn.q_proj: group_size 48 does not divide");
}

TEST_CASE("model size of a Mixtral keeps routers in fp16") {
  ModelConfig c = ModelConfig::load(shared("parity/mixtral/config.json"));
  QuantPlan plan;
  plan.spec.bits = 4;
  plan.spec.group_size = -1;
  json s = model_size(c, planned_layers(c, plan));
  const int64_t router = 2 * c.num_experts * c.hidden_size;
  CHECK(s["quantized_params"].get<int64_t>() == s["linear_params"].get<int64_t>() - router);
}

// token_kl of a run is over the calibration windows it drew (nsamples x seqlen tokens under its
// seed), so nsamples and seed change it; the whole files' figure is kept beside it.
TEST_CASE("token_kl of a run counts the calibration windows it drew") {
  ExperimentSpec s;
  s.model_dir = shared("models/austen-tiny");
  s.calib.files = {shared("corpus/austen-valid.txt")};
  s.calib.nsamples = 4;
  s.calib.seqlen = 64;
  s.eval_text = shared("corpus/austen-test.txt");
  s.eval_seqlen = 64;
  s.eval_max_windows = 1;
  s.analyses = {"token_kl"};
  const Tokenizer tok = Tokenizer::from_file(shared("models/austen-tiny/tokenizer.json"));
  auto kl_of = [&](int64_t nsamples, uint64_t seed) {
    s.calib.nsamples = nsamples;
    s.calib.seed = seed;
    const json k = run_experiment(s)["analyses"]["token_kl"];
    // The counts of the drawn windows, counted here from calibration_windows.
    const at::Tensor w = calibration_windows(tok, s.calib);
    std::vector<int64_t> counts(size_t(tok.vocab_size()), 0);
    for (int64_t i = 0; i < w.numel(); ++i) ++counts[size_t(w.view(-1)[i].item<int64_t>())];
    CHECK(k["calib_counts"].get<std::vector<int64_t>>() == counts);
    CHECK(k["calib_tokens"] == nsamples * 64);
    CHECK(k["calib_draw"]["nsamples"] == nsamples && k["calib_draw"]["seed"] == seed);
    CHECK(k["whole_files"]["calib_tokens"].get<size_t>() == tok.encode(read_text_file(s.calib.files[0]) + "\n").size());
    return k;
  };
  const json a = kl_of(4, 0), b = kl_of(4, 1), c = kl_of(8, 0);
  CHECK(a["kl"] != b["kl"] && a["kl"] != c["kl"]);
  CHECK(a["whole_files"] == b["whole_files"] && a["whole_files"] == c["whole_files"]);
  // 256 drawn tokens miss most of the test text's vocabulary: further from it than the whole file.
  CHECK(a["kl"].get<double>() > a["whole_files"]["kl"].get<double>());
}

TEST_MAIN()
