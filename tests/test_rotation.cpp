// QuaRot-style rotation (quant/rotation.cpp): the transform alone preserves the model's function
// (float32 logits within 1e-5 of max |logits| of the unrotated model) for every architecture,
// resident and streamed, with and without the online Hadamard, at LLaMA-2-7B's MLP size 11008 too; sizes without a Hadamard matrix
// fall back cleanly and the record says which steps ran; and on austen-small rotation keeps RTN within 1% at w4 and w3 (it does not
// clearly improve it there: see the last case).
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <unistd.h>

#include "core/runtime/errors.h"
#include "core/records/json_util.h"
#include "core/model/model.h"
#include "core/io/safetensors.h"
#include "core/text/tokenizer.h"
#include "eval/metrics/perplexity.h"
#include "quant/pipeline/block_stage.h"
#include "quant/methods/rotation/hadamard.h"
#include "quant/pipeline/pipeline.h"
#include "tests/check.h"

using namespace ptq;
using nlohmann::json;

namespace {

double max_abs(const at::Tensor& a, const at::Tensor& b) { return (a - b).abs().max().item<double>(); }

std::string parity(const std::string& name) { return test::shared_dir() + "/parity/" + name; }
std::string model_dir(const std::string& name) { return test::shared_dir() + "/models/" + name; }

at::Tensor reference_ids(const std::string& dir) {
  return SafetensorsFile(dir + "/reference.safetensors").load("input_ids");
}

bool all_ones(const at::Tensor& t) { return t.eq(1).all().item<bool>(); }

// Rotates a fresh copy of `dir` and compares its logits with the unrotated model's.
// expect_online: whether down_proj / w2 must carry the online Hadamard afterwards.
void check_preserved(const std::string& dir, Residency res, const json& params, bool expect_online,
                     at::Tensor ids = at::Tensor(), uint64_t seed = 7) {
  at::NoGradGuard ng;
  if (!ids.defined()) ids = reference_ids(dir);
  LoadOptions lo;
  lo.residency = res;
  at::Tensor want = Model::load(dir, lo)->forward(ids);
  auto m = Model::load(dir, lo);
  CHECK(m->streaming() == (res == Residency::Stream));
  at::Tensor embed0 = m->embed_weight().clone();

  Feedback fb;
  int64_t last = 0, total = 0;
  fb.set_callback([&](const Progress& p) {
    if (p.stage == "rotate") last = p.step, total = p.total;
  });
  rotate_model(*m, params, seed, &fb);
  CHECK(last == m->num_blocks() && total == m->num_blocks());
  CHECK_MSG(max_abs(m->embed_weight(), embed0) > 1e-3, "embedding was not rotated");
  CHECK(all_ones(m->norm_weight()));
  CHECK(!m->head_weight().is_same(m->embed_weight()));  // untied: the head got the final norm

  for (int i = 0; i < m->num_blocks(); ++i) {
    DecoderBlock& b = as_decoder(m->block(i));
    CHECK(b.modified());
    if (m->streaming()) CHECK(!b.loaded());  // released: weights left, transforms stay
    for (const Linear& l : b.linears()) {
      const bool down = l.spec.type == "down";
      CHECK_MSG(bool(l.input_transform) == (down && expect_online), l.name());
    }
  }
  // Twice: a streamed model re-acquires its blocks from the CPU copies the second time.
  // The rotated model computes the same function in other float32 roundings: measured
  // max |logits - unrotated| / max |logits| = 0.5e-6 .. 0.9e-6 on every fixture here (2.5e-6 at
  // |logits| 3 on the parity models, 1.1e-5 at 12.5 on austen-tiny). 1e-5 of max |logits| leaves
  // 10x for other BLAS blockings; a missed fold or transform moves logits by 1e-2 and more.
  const double scale = want.abs().max().item<double>();
  for (int pass = 0; pass < 2; ++pass) {
    at::Tensor got = m->forward(ids);
    double d = max_abs(got, want);
    std::printf("      %s %s %s pass %d: max |logits - unrotated| = %.2e (|logits| max %.1f)\n",
                dir.substr(dir.rfind('/') + 1).c_str(), residency_name(res).c_str(), params.dump().c_str(), pass, d,
                scale);
    CHECK_MSG(d < 1e-5 * scale, dir + ": logits differ by " + std::to_string(d));
  }
  DecoderBlock& b0 = as_decoder(m->acquire(0));
  CHECK(all_ones(b0.input_norm) && all_ones(b0.post_norm));
  m->release(0);
}

const json kDefault = {{"online_hadamard", true}, {"rotation", "hadamard"}};

// A random Llama checkpoint of the given sizes (4 heads, 2 KV heads, vocabulary 512), with q/k/v/o
// and MLP biases and non-trivial norms.
std::string write_checkpoint(const std::string& tag, int64_t hidden, int64_t head_dim, int64_t intermediate) {
  namespace fs = std::filesystem;
  std::string dir = (fs::temp_directory_path() / ("ptq_rotation_" + tag + "_" + std::to_string(::getpid()))).string();
  fs::create_directories(dir);
  json cfg = read_json_file(parity("llama") + "/config.json");
  cfg["hidden_size"] = hidden;
  cfg["head_dim"] = head_dim;
  cfg["num_attention_heads"] = 4;
  cfg["num_key_value_heads"] = 2;
  cfg["intermediate_size"] = intermediate;
  cfg["vocab_size"] = 512;
  cfg["attention_bias"] = true;
  cfg["mlp_bias"] = true;
  {
    FILE* f = std::fopen((dir + "/config.json").c_str(), "w");
    std::string s = cfg.dump(2);
    std::fwrite(s.data(), 1, s.size(), f);
    std::fclose(f);
  }
  ModelConfig c = ModelConfig::from_json(cfg);
  at::manual_seed(11);
  std::vector<std::pair<std::string, at::Tensor>> ts;
  for (const auto& t : expected_tensors(c)) {
    bool norm = t.name.find("norm") != std::string::npos;
    at::Tensor x = norm ? 1.0 + 0.3 * at::randn(t.shape) : 0.08 * at::randn(t.shape);
    ts.push_back({t.name, x});
  }
  save_safetensors(dir + "/model.safetensors", ts);
  return dir;
}

// Sizes with no Hadamard matrix: hidden 46 = 2·23, head_dim 18 = 2·9, intermediate 92 = 4·23.
std::string write_odd_checkpoint() { return write_checkpoint("odd", 46, 18, 92); }

// The rotate stage's record after quantize_model (rotate+rtn, 4 bits per channel).
json rotate_record(const std::string& dir) {
  at::NoGradGuard ng;
  auto m = Model::load(dir);
  QuantRequest req;
  req.method = "rotate+rtn";
  req.plan.spec.bits = 4;
  req.plan.spec.group_size = -1;
  return quantize_model(*m, nullptr, req).to_json().at("params").at("rotate");
}

}  // namespace

TEST_CASE("rotation preserves llama, resident and streamed") {
  check_preserved(parity("llama"), Residency::Resident, kDefault, true);
  check_preserved(parity("llama"), Residency::Stream, kDefault, true);
}
TEST_CASE("rotation preserves llama3-rope (tied head), resident and streamed") {
  check_preserved(parity("llama3-rope"), Residency::Resident, kDefault, true);
  check_preserved(parity("llama3-rope"), Residency::Stream, kDefault, true);
}
TEST_CASE("rotation preserves qwen2 (q/k/v biases, tied), resident and streamed") {
  check_preserved(parity("qwen2"), Residency::Resident, kDefault, true);
  check_preserved(parity("qwen2"), Residency::Stream, kDefault, true);
}
TEST_CASE("rotation preserves mistral, resident and streamed") {
  check_preserved(parity("mistral"), Residency::Resident, kDefault, true);
  check_preserved(parity("mistral"), Residency::Stream, kDefault, true);
}
TEST_CASE("rotation preserves mixtral (router, experts), resident and streamed") {
  check_preserved(parity("mixtral"), Residency::Resident, kDefault, true);
  check_preserved(parity("mixtral"), Residency::Stream, kDefault, true);
}
TEST_CASE("rotation preserves qwen3 (q/k norms after the rotated q/k_proj, head_dim 32), resident and streamed") {
  check_preserved(parity("qwen3"), Residency::Resident, kDefault, true);
  check_preserved(parity("qwen3"), Residency::Stream, kDefault, true);
}
TEST_CASE("rotation preserves qwen3-moe and qwen2-moe (dense + MoE layers, shared expert and its gate) without online Hadamard") {
  const json no_online = {{"online_hadamard", false}};
  check_preserved(parity("qwen3-moe"), Residency::Resident, no_online, false);
  check_preserved(parity("qwen2-moe"), Residency::Resident, no_online, false);
  check_preserved(parity("qwen2-moe"), Residency::Stream, no_online, false);
}
TEST_CASE("rotation preserves austen-tiny (tied, 12·2^k intermediate), resident and streamed") {
  CHECK(hadamard_supported(384) && hadamard_supported(128));  // 12·32 and 2^7
  check_preserved(model_dir("austen-tiny"), Residency::Resident, kDefault, true);
  check_preserved(model_dir("austen-tiny"), Residency::Stream, kDefault, true);
}
TEST_CASE("rotation options: random orthogonal, no online Hadamard, defaults from an empty object") {
  check_preserved(model_dir("austen-tiny"), Residency::Resident, {{"rotation", "orthogonal"}, {"online_hadamard", true}}, true);
  check_preserved(model_dir("austen-tiny"), Residency::Stream, {{"rotation", "hadamard"}, {"online_hadamard", false}}, false);
  check_preserved(parity("mixtral"), Residency::Resident, json::object(), true);
}
TEST_CASE("rotation falls back cleanly when no Hadamard size fits (hidden 46, head_dim 18, MLP 92)") {
  std::string dir = write_odd_checkpoint();
  at::manual_seed(3);
  at::Tensor ids = at::randint(0, 512, {2, 24}, at::kLong);
  CHECK(!hadamard_supported(46) && !hadamard_supported(18) && !hadamard_supported(92));
  check_preserved(dir, Residency::Resident, kDefault, false, ids);
  check_preserved(dir, Residency::Stream, {{"rotation", "orthogonal"}, {"online_hadamard", true}}, false, ids);
  std::filesystem::remove_all(dir);
}
TEST_CASE("rotation record says what ran: no Hadamard step is claimed for sizes without one") {
  std::string dir = write_odd_checkpoint();
  const json r = rotate_record(dir);
  std::printf("      hidden 46, head_dim 18, MLP 92: %s\n", r.dump().c_str());
  CHECK(r.at("online_hadamard") == false && r.at("online_hadamard_K").is_null());
  CHECK(r.at("headwise_hadamard") == false && r.at("headwise_hadamard_K").is_null());
  CHECK(r.at("rotation") == "orthogonal" && r.at("rotation_K").is_null());
  const std::string why = r.at("not_run").dump();
  CHECK_MSG(r.at("not_run").size() == 3 && why.find("intermediate_size 92") != std::string::npos &&
                why.find("head_dim 18") != std::string::npos && why.find("hidden_size 46") != std::string::npos,
            why);
  std::filesystem::remove_all(dir);
  const json t = rotate_record(model_dir("austen-tiny"));  // hidden 128, head_dim 32, MLP 384 = 12·32
  CHECK(t.at("online_hadamard") == true && t.at("online_hadamard_K") == 12 && t.at("headwise_hadamard_K") == 1);
  CHECK(t.at("rotation") == "hadamard" && t.at("rotation_K") == 1 && t.at("not_run").empty());
}
TEST_CASE("rotation runs the online Hadamard at LLaMA-2-7B's MLP size 11008 = 172·64 and preserves the model") {
  std::string dir = write_checkpoint("llama2_mlp", 64, 16, 11008);
  at::manual_seed(4);
  at::Tensor ids = at::randint(0, 512, {2, 16}, at::kLong);
  CHECK(hadamard_base_order(11008) == 172);
  check_preserved(dir, Residency::Resident, kDefault, true, ids);
  check_preserved(dir, Residency::Stream, kDefault, true, ids);
  const json r = rotate_record(dir);
  CHECK(r.at("online_hadamard") == true && r.at("online_hadamard_K") == 172 && r.at("not_run").empty());
  std::filesystem::remove_all(dir);
}
TEST_CASE("rotation rejects an unknown rotation kind") {
  at::NoGradGuard ng;
  auto m = Model::load(parity("llama"));
  CHECK_THROWS_WITH(rotate_model(*m, {{"rotation", "givens"}}, 0, nullptr), "unknown rotation");
}
TEST_CASE("rotation is deterministic in the seed") {
  at::NoGradGuard ng;
  auto a = Model::load(parity("llama")), b = Model::load(parity("llama")), c = Model::load(parity("llama"));
  rotate_model(*a, kDefault, 5, nullptr);
  rotate_model(*b, kDefault, 5, nullptr);
  rotate_model(*c, kDefault, 6, nullptr);
  CHECK(a->embed_weight().equal(b->embed_weight()));
  CHECK(!a->embed_weight().equal(c->embed_weight()));
}
TEST_CASE("cancel stops rotation between blocks") {
  at::NoGradGuard ng;
  auto m = Model::load(model_dir("austen-tiny"));
  Feedback fb;
  fb.set_callback([&](const Progress& p) {
    if (p.stage == "rotate" && p.step >= 2) fb.cancel();
  });
  bool cancelled = false;
  try {
    rotate_model(*m, kDefault, 0, &fb);
  } catch (const Cancelled&) {
    cancelled = true;
  }
  CHECK(cancelled && fb.last().step == 2);
}

namespace {

double quantized_ppl(const std::string& method, int bits, const json& params = json::object()) {
  at::NoGradGuard ng;
  std::string dir = model_dir("austen-small");
  auto model = Model::load(dir);
  Tokenizer tok = Tokenizer::from_file(dir + "/tokenizer.json");
  QuantRequest req;
  req.method = method;
  req.plan.spec.bits = bits;
  req.plan.spec.group_size = -1;
  req.plan.spec.symmetric = false;
  req.params = params;
  auto t0 = std::chrono::steady_clock::now();
  if (bits > 0) quantize_model(*model, &tok, req);
  double qs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  auto ids = tok.encode(read_text_file(test::shared_dir() + "/corpus/austen-test.txt"));
  PplOptions o;
  o.seqlen = 512;
  o.batch = 8;
  o.max_windows = 24;
  double ppl = perplexity(*model, ids, o).ppl;
  std::printf("      austen-small %-10s w%d per-channel %s: test PPL %.3f (24 windows of 512; quantize %.1f s)\n",
              method.c_str(), bits, params.dump().c_str(), ppl, qs);
  return ppl;
}

}  // namespace

// Measured (first windows of 512, per-channel asymmetric): rotate+rtn / rtn at w4 1.0067 (16
// windows), 1.0008 (24), 0.9997 (40); at w3 0.9852, 0.9841, 0.9899. Rotation helps austen-small
// little (its weights have few outliers), and the w3 gain is within the window-to-window spread
// (paired z = 1.6 at 40 windows; at 8 windows rotation was 0.9% worse), so the test asserts what
// holds clearly, no worse than 1% at both widths, on 24 windows, and prints the ratios.
SLOW_TEST_CASE("austen-small: rotate+rtn per-channel within 1% of rtn at w4 and w3") {
  double rtn4 = quantized_ppl("rtn", 4), rot4 = quantized_ppl("rotate+rtn", 4);
  double rtn3 = quantized_ppl("rtn", 3), rot3 = quantized_ppl("rotate+rtn", 3);
  std::printf("      w4: rotate+rtn / rtn = %.4f; w3: rotate+rtn / rtn = %.4f\n", rot4 / rtn4, rot3 / rtn3);
  CHECK_MSG(rot4 <= 1.01 * rtn4, std::to_string(rot4) + " vs " + std::to_string(rtn4));
  CHECK_MSG(rot3 <= 1.01 * rtn3, std::to_string(rot3) + " vs " + std::to_string(rtn3));
}

TEST_MAIN()
