// SmoothQuant (quant/methods/smoothing): its folds leave the full-precision function unchanged on
// every parity architecture the engine runs (Gemma's (1+w) norms and pre-feed-forward norm, Phi3's
// fused layers, MoE routers with their experts and shared experts), architectures it cannot fold
// into are refused by name, and the block transform records its alpha and the groups it skipped.
#include <cmath>
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cstdio>
#include <tuple>

#include "core/io/safetensors.h"
#include "core/records/json_util.h"
#include "core/model/model.h"
#include "core/model/transform_support.h"
#include "core/text/tokenizer.h"
#include "eval/metrics/kurtosis.h"
#include "eval/metrics/perplexity.h"
#include "quant/pipeline/block_stage.h"
#include "quant/pipeline/pipeline.h"
#include "tests/check.h"
#include "tests/fixture_paths.h"

using namespace ptq;
using nlohmann::json;

namespace ptq {
// quant/methods/smoothing/smoothquant.cpp, for tests.
int smoothquant_fold_random_scales(DecoderBlock& b, const ModelConfig& c, uint64_t seed, double range,
                                   bool linear_groups);
}  // namespace ptq

namespace {

double max_abs(const at::Tensor& a, const at::Tensor& b) { return (a - b).abs().max().item<double>(); }

// Folds random scales exp(U(-1, 1)) (a factor e either way: larger than SmoothQuant's typical
// scales at α=0.5 on these random models) into every group of every block; the logits must stay
// within 1e-4. Why 1e-4: every fold is one float32 multiply of a weight column and one divide of
// the norm (or preceding linear row), each exact to 2^-24 relative, so the products the block
// computes change by a few ulp (~1e-7 relative); through 2 blocks and the head the parity logits
// (|logit| < ~3) move by ~1e-6. 1e-4 is the tolerance the parity tests hold against transformers,
// and a wrong fold (a missed layer, a (1+w) norm divided as w) moves them by >1e-2.
void check_fold(const std::string& name) {
  at::NoGradGuard ng;
  const std::string dir = test::shared_dir() + "/parity/" + name;
  at::Tensor ids = SafetensorsFile(dir + "/reference.safetensors").load("input_ids");
  auto m = Model::load(dir);
  at::Tensor want = m->forward(ids);
  at::Tensor norm0 = as_decoder(m->acquire(0)).input_norm.clone();
  int folded = 0;
  for (int i = 0; i < m->num_blocks(); ++i) {
    folded += smoothquant_fold_random_scales(as_decoder(m->acquire(i)), m->config(), 7 + uint64_t(i), 1.0, true);
    m->release(i);
  }
  CHECK_MSG(max_abs(norm0, as_decoder(m->acquire(0)).input_norm) > 1e-2, name + ": input_layernorm was not scaled");
  const double d = max_abs(m->forward(ids), want);
  std::printf("      %s: %d groups folded, max |logits - unfolded| = %.2e\n", name.c_str(), folded, d);
  CHECK(folded >= 2 * m->num_blocks());  // both norm groups of every block at least
  CHECK_MSG(d < 1e-4, name + ": logits differ by " + std::to_string(d));
}

}  // namespace

TEST_CASE("smoothquant folds keep the logits on every parity architecture") {
  for (const char* a : {"llama", "llama3-rope", "qwen2", "mistral", "mixtral", "qwen3", "qwen3-moe", "qwen2-moe",
                        "gemma2", "gemma3", "phi3"})
    check_fold(a);
}

TEST_CASE("smoothquant refuses DeepSeek-V3 and Mamba by name, runs on Gemma") {
  ModelConfig c;
  c.architecture = "DeepseekV3ForCausalLM";
  CHECK(transform_refusal(c, "smoothquant").find("multi-head latent attention") != std::string::npos);
  c.architecture = "MambaForCausalLM";
  CHECK(transform_refusal(c, "smoothquant").find("Mamba") != std::string::npos);
  c.architecture = "Gemma2ForCausalLM";
  c.sandwich_norms = c.norm_plus_one = true;
  CHECK(transform_refusal(c, "smoothquant").empty());
  CHECK(!transform_refusal(c, "awq").empty());
}

TEST_CASE("pipeline smoothquant+rtn records alpha and the unsmoothed inputs (gemma2, phi3)") {
  at::NoGradGuard ng;
  // Gemma2: q,k,v,gate,up and down (up -> down) of 2 blocks smoothed, o skipped (GQA: no v -> o);
  // Phi3: qkv_proj and gate_up_proj smoothed, o and down skipped (slices of fused layers).
  for (auto [name, want_smoothed, want_skipped] : {std::tuple{"gemma2", 12, 2}, std::tuple{"phi3", 4, 4}}) {
    const std::string dir = test::shared_dir() + "/parity/" + name;
    auto m = Model::load(dir);
    Tokenizer tok = Tokenizer::from_file(dir + "/tokenizer.json");
    QuantRequest req;
    req.method = "smoothquant+rtn";
    req.plan.spec.bits = 8;
    req.plan.spec.group_size = -1;
    req.calib.files = {test::corpus("austen-train.txt")};
    req.calib.nsamples = 2;
    req.calib.seqlen = 32;
    req.params = {{"smoothquant.search", true}, {"smoothquant.grid", 4}, {"smoothquant.linear_groups", true}};
    QuantResult r = quantize_model(*m, &tok, req);
    int smoothed = 0, skipped = 0;
    for (const auto& l : r.layers) {
      smoothed += l.note.find("alpha=") != std::string::npos;
      skipped += l.note.find("not smoothed") != std::string::npos;
    }
    std::printf("      %s: %d layers smoothed, %d with a skipped group\n", name, smoothed, skipped);
    CHECK(smoothed == want_smoothed);
    CHECK(skipped == want_skipped);
    at::Tensor ids = SafetensorsFile(dir + "/reference.safetensors").load("input_ids");
    CHECK(at::isfinite(m->forward(ids)).all().item<bool>());
  }
}

TEST_CASE("smoothquant flattens the outlier channels of q/gate inputs (kurtosis channel_absmax)") {
  // austen-tiny block 0 on real text: max|x| / median over channels of the q_proj and gate_proj
  // inputs before and after the fold at alpha 0.5 (s = sqrt(max|X| / max|W|) divides each channel).
  at::NoGradGuard ng;
  auto m = Model::load(test::tiny());
  Tokenizer tok = Tokenizer::from_file(test::tiny() + "/tokenizer.json");
  std::vector<int64_t> ids = tok.encode(read_text_file(test::corpus("austen-test.txt")).substr(0, 20000));
  at::Tensor x = at::tensor(std::vector<int64_t>(ids.begin(), ids.begin() + 4 * 128), at::kLong).reshape({4, 128});
  DecoderBlock& b = as_decoder(m->acquire(0));
  BlockContext ctx = m->context(128);
  std::vector<at::Tensor> inputs = {m->embed(x)}, fp = {b.forward(inputs[0], ctx)};
  QuantPlan plan;
  plan.spec.bits = 8;
  std::map<std::string, LayerRecord> recs;
  std::map<std::string, QuantizedWeight> qw;
  const json params = {{"alpha", 0.5}};
  BlockWork w{*m, b, ctx, inputs, fp, plan, params, recs, qw, nullptr};
  auto ratio = [&](const char* layer) {
    KurtosisObserver obs;
    w.run(&obs);
    ChannelAbsmax c = summarize_channel_absmax(*obs.channel_absmax(std::string("layers.0.") + layer));
    return c.max / c.median;
  };
  const double q0 = ratio("self_attn.q_proj"), g0 = ratio("mlp.gate_proj");
  smoothquant_transform_block(w);
  const double q1 = ratio("self_attn.q_proj"), g1 = ratio("mlp.gate_proj");
  std::printf("      max/median channel max|x|: q input %.2f -> %.2f, gate input %.2f -> %.2f\n", q0, q1, g0, g1);
  CHECK(q1 < q0 && g1 < g0);
  CHECK(max_abs(w.run()[0], fp[0]) < 1e-4);  // the fold keeps the block's function (float32)
  CHECK_MSG(recs.at("self_attn.q_proj").note.find("alpha=0.5") != std::string::npos, recs.at("self_attn.q_proj").note);
  CHECK(recs.at("self_attn.o_proj").note.find("not smoothed") != std::string::npos);
}

// SmoothQuant against naive W-A quantization on austen-small (issue 12): per-channel absmax weights
// (SmoothQuant's W8A8 convention) and per-tensor dynamic activations, where outlier channels cost
// the most. The same calibration windows (16 x 256 of austen-valid, the gptq sampler) and evaluation
// windows (8 x 256 of austen-test) for every run, so the comparison is of the methods alone.
SLOW_TEST_CASE("SmoothQuant beats naive W6A6 and matches naive W8A8 with per-tensor activations on austen-small") {
  at::NoGradGuard ng;
  const std::string dir = test::shared_dir() + "/models/austen-small";
  Tokenizer tok = Tokenizer::from_file(dir + "/tokenizer.json");
  const auto ids = tok.encode(read_text_file(test::corpus("austen-test.txt")));
  PplOptions po;
  po.seqlen = 256;
  po.batch = 8;
  po.max_windows = 8;
  auto ppl_of = [&](const std::string& method, int bits) {
    QuantRequest q;
    q.method = method;
    q.plan.spec.bits = bits;
    q.plan.spec.group_size = -1;
    q.plan.spec.symmetric = true;
    q.plan.spec.absmax_sym = true;
    q.plan.act.bits = bits;
    q.plan.act.granularity = ActGranularity::Tensor;
    q.calib.files = {test::corpus("austen-valid.txt")};
    q.calib.nsamples = 16;
    q.calib.seqlen = 256;
    auto model = Model::load(dir);
    quantize_model(*model, &tok, q);
    return perplexity(*model, ids, po).ppl;
  };
  const double naive8 = ppl_of("rtn", 8), sq8 = ppl_of("smoothquant+rtn", 8);
  const double naive6 = ppl_of("rtn", 6), sq6 = ppl_of("smoothquant+rtn", 6);
  std::printf("      w8a8 per-tensor: naive %.4f, smoothquant %.4f | w6a6 per-tensor: naive %.4f, smoothquant %.4f\n",
              naive8, sq8, naive6, sq6);
  // At W8A8 per-tensor this outlier-free 12M model loses 0.3% of its PPL to the activations (fp 132.44), so
  // SmoothQuant has nothing to gain, and which of the two comes out ahead follows the float32 summation
  // order: naive 132.85 / SmoothQuant 132.92 on one machine, 132.86 / 132.74 on an AVX2 one with the matmul
  // attention and 132.70 / 133.04 on the same machine with the tiled CPU attention (the same arithmetic in
  // another order): each method's PPL moves by up to 0.23% with the order, their difference by up to 0.35%.
  // The claim is W6A6's gain (137.45 -> 136.63, 0.6%); at W8A8 the two stay within 0.5% of each other.
  CHECK(std::abs(sq8 - naive8) < 0.005 * naive8);
  CHECK(sq6 < naive6);
}
