// The quantization pipeline end to end on CPU: the RTN reference table, GPTQ against RTN,
// every strategy on every architecture, records, and bad input.
#include <ATen/ATen.h>
#include <cmath>
#include <ATen/core/grad_mode.h>

#include "core/runtime/errors.h"
#include "core/records/json_util.h"
#include "core/model/model.h"
#include "core/model/transform_support.h"
#include "core/text/tokenizer.h"
#include "eval/metrics/perplexity.h"
#include "quant/pipeline/pipeline.h"
#include "quant/strategy_registry.h"
#include "tests/check.h"

using namespace ptq;

namespace {

std::string shared(const std::string& p) { return test::shared_dir() + "/" + p; }

struct Run {
  QuantResult result;
  double ppl;
};

Run quantize_and_eval(const std::string& model_dir, QuantRequest req, int64_t max_windows) {
  at::NoGradGuard ng;
  auto model = Model::load(model_dir);
  Tokenizer tok = Tokenizer::from_file(model_dir + "/tokenizer.json");
  QuantResult r = quantize_model(*model, &tok, req);
  auto ids = tok.encode(read_text_file(shared("corpus/austen-test.txt")));
  PplOptions po;
  po.seqlen = 512;
  po.batch = 8;
  po.max_windows = max_windows;
  return {std::move(r), perplexity(*model, ids, po).ppl};
}

QuantRequest request(const std::string& method, int bits, int64_t group, bool sym = false) {
  QuantRequest q;
  q.method = method;
  q.plan.spec.bits = bits;
  q.plan.spec.group_size = group;
  q.plan.spec.symmetric = sym;
  return q;
}

QuantRequest calibrated(const std::string& method, int bits, int64_t group, int64_t nsamples = 32) {
  QuantRequest q = request(method, bits, group);
  q.calib.files = {shared("corpus/austen-train.txt")};
  q.calib.nsamples = nsamples;
  q.calib.seqlen = 512;
  return q;
}

const std::string kSmall = "models/austen-small";

}  // namespace

// The RTN reference on the first 24 windows of 512 (12,288 of the test set's 124,416 tokens, a
// tenth of the full table's cost): tests/reference/rtn_checkpoint.py quantizes austen-small in
// pure Python by the shared README's formulas (float32 arithmetic, true division) and writes the
// dequantized weights as a float32 checkpoint, whose PPL `ptq ppl --seqlen 512 --batch 8
// --max-windows 24` computes through the plain full-precision forward (the parity tests hold it to
// transformers at 1e-4). On the full test set the same script gives 78.304 / 82.481 / 86.331: the
// README's CPU (true-division) figures 78.304 and 82.481 exactly, and its GPU figure 86.24 within
// 0.11%. The engine's quantizer uses the same float32 true division, so its weights are bit for
// bit the script's: the PPLs agree exactly (measured relative difference 0). 1e-6 allows for
// summation order only; the README's last-bit scale difference (0.6% of codes flipped) moves the
// full-set PPL by 1.8e-4, so a change of arithmetic fails here.
SLOW_TEST_CASE("RTN reproduces the reference table on austen-small (24 windows, independent reference)") {
  struct Row { int bits; int64_t group; bool sym; double ppl; };
  for (Row row : {Row{4, 128, false, 101.55488074366323}, Row{3, 128, false, 106.02051060813528},
                  Row{3, -1, true, 110.44067756029382}}) {
    Run r = quantize_and_eval(shared(kSmall), request("rtn", row.bits, row.group, row.sym), 24);
    std::printf("      w%d g%lld %s: PPL %.10g, reference %.10g, relative difference %.2e\n", row.bits,
                (long long)row.group, row.sym ? "sym" : "asym", r.ppl, row.ppl, std::fabs(r.ppl / row.ppl - 1));
    CHECK_REL(r.ppl, row.ppl, 1e-6);
    // 6 blocks x 7 linear layers, all quantized, weight error recorded
    CHECK(r.result.layers.size() == 42);
    for (const auto& l : r.result.layers) CHECK(l.quantized && l.weight_rel_error > 0 && l.storage_bytes > 0);
  }
}

// Measured on the first windows of 512 with 32 calibration windows (austen-small): GPTQ / RTN test
// PPL at w3g128 0.957 (8 windows), 0.953 (16), 0.959 (40); at w2g64 0.684, 0.686, 0.683; GPTQ was
// better on every single window. As run here, 16 windows and 16 calibration windows: 0.952 and
// 0.693 against the thresholds 0.99 and 0.85, for 92 instead of 191 CPU-seconds.
SLOW_TEST_CASE("GPTQ beats RTN clearly at w3g128 and w2g64; records carry activation errors") {
  const int64_t windows = 16, nsamples = 16;
  for (auto cfg : {std::pair<int, int64_t>{3, 128}, std::pair<int, int64_t>{2, 64}}) {
    double rtn = quantize_and_eval(shared(kSmall), request("rtn", cfg.first, cfg.second), windows).ppl;
    Run g = quantize_and_eval(shared(kSmall), calibrated("gptq", cfg.first, cfg.second, nsamples), windows);
    std::printf("      w%d g%lld (%lld windows): rtn %.3f gptq %.3f, gptq / rtn = %.4f\n", cfg.first,
                (long long)cfg.second, (long long)windows, rtn, g.ppl, g.ppl / rtn);
    CHECK_MSG(g.ppl < rtn * (cfg.first == 2 ? 0.85 : 0.99),
              "w" + std::to_string(cfg.first) + ": gptq " + std::to_string(g.ppl) + " vs rtn " + std::to_string(rtn));
    for (const auto& l : g.result.layers) {
      CHECK(l.out_rel_mse >= 0 && l.out_cosine > 0.5 && l.out_cosine <= 1.0001 && l.method_loss >= 0);
      CHECK(l.calib_tokens == nsamples * 512);
    }
    CHECK(g.result.blocks.size() == 6 && g.result.blocks[5].out_rel_mse > 0);
  }
}

TEST_CASE("every strategy runs on every parity architecture, MoE included") {
  at::NoGradGuard ng;
  for (const char* arch : {"llama", "llama3-rope", "qwen2", "mistral", "mixtral"}) {
    for (const char* method : {"rtn", "gptq", "awq", "rotate", "omniquant", "hqq", "owq", "rotate+gptq", "awq+gptq"}) {
      std::string dir = shared(std::string("parity/") + arch);
      auto model = Model::load(dir);
      Tokenizer tok = Tokenizer::from_file(dir + "/tokenizer.json");
      QuantRequest q = request(method, 4, 32);
      q.calib.files = {shared("corpus/austen-valid.txt")};
      q.calib.nsamples = 4;
      q.calib.seqlen = 32;
      q.params = {{"omniquant.epochs", 1}};
      if (std::string(method).find("omniquant") == std::string::npos) q.params = json::object();
      QuantResult r = quantize_model(*model, &tok, q);
      at::Tensor logits = model->forward(at::randint(0, 8192, {1, 16}, at::kLong));
      CHECK_MSG(at::isfinite(logits).all().item<bool>(), std::string(arch) + " " + method + ": non-finite logits");
      int quantized = 0;
      for (const auto& l : r.layers) {
        quantized += l.quantized;
        if (l.type == "router") CHECK(!l.quantized);
      }
      CHECK(quantized > 0);
    }
  }
}

// Captures after the attention resume from its output (BlockResume) and the error pass runs only the
// feed-forward half: the same operations on the same values as full forwards, so every record, code
// and block error must be equal, not close. Gemma 2 (sandwich norms) and Mixtral (experts, router) too;
// every stage that captures through capture_hessians (GPTQ, OWQ, PB-LLM, BiLLM, QuIP). GPTQ alone also
// takes its first group's Hessians from the full-precision forward (PTQ_NO_BLOCK_RESUME turns that off
// too): the same inputs in the same order.
TEST_CASE("quantizer captures resumed after the attention give the full forwards' records exactly") {
  at::NoGradGuard ng;
  for (const char* arch : {"llama", "gemma2", "mixtral"})
    for (const char* method : {"gptq", "owq", "awq+gptq", "pbllm", "billm", "quip"}) {
      if (std::string(arch) == "gemma2" && std::string(method) == "awq+gptq") continue;  // AWQ refuses Gemma 2
      if (std::string(arch) != "llama" && std::string(method).find("llm") != std::string::npos) continue;  // binarizers: llama only
      const std::string dir = shared(std::string("parity/") + arch), what = std::string(arch) + " " + method;
      QuantRequest q = request(method, 3, 32);
      q.calib.files = {shared("corpus/austen-valid.txt")};
      q.calib.nsamples = 4;
      q.calib.seqlen = 32;
      q.calib_batch = 2;
      auto run = [&](bool resume) {
        if (resume)
          ::unsetenv("PTQ_NO_BLOCK_RESUME");
        else
          ::setenv("PTQ_NO_BLOCK_RESUME", "1", 1);
        auto model = Model::load(dir);
        Tokenizer tok = Tokenizer::from_file(dir + "/tokenizer.json");
        QuantResult r = quantize_model(*model, &tok, q);
        ::unsetenv("PTQ_NO_BLOCK_RESUME");
        return r;
      };
      const QuantResult a = run(true), b = run(false);
      CHECK_MSG(a.layers.size() == b.layers.size() && a.blocks.size() == b.blocks.size(), what);
      for (size_t i = 0; i < a.layers.size() && i < b.layers.size(); ++i) {
        const auto &x = a.layers[i], &y = b.layers[i];
        CHECK_MSG(test::same_record_value(x.out_rel_mse, y.out_rel_mse) && test::same_record_value(x.out_cosine, y.out_cosine) &&
                      test::same_record_value(x.method_loss, y.method_loss) &&
                      x.calib_tokens == y.calib_tokens,
                  what + " " + x.name + ": " + std::to_string(x.out_rel_mse) + " vs " + std::to_string(y.out_rel_mse));
        if (!x.quantized) continue;
        const QuantizedWeight &qa = a.quantized.at(x.name), &qb = b.quantized.at(x.name);
        for (auto [ta, tb] : {std::pair{qa.codes, qb.codes}, {qa.values, qb.values}, {qa.scales, qb.scales}})
          CHECK_MSG(ta.defined() == tb.defined() && (!ta.defined() || at::equal(ta, tb)), what + " " + x.name);
      }
      for (size_t k = 0; k < a.blocks.size() && k < b.blocks.size(); ++k)
        CHECK_MSG(a.blocks[k].out_rel_mse == b.blocks[k].out_rel_mse, what + " block " + std::to_string(k));
    }
}

// The later families: every strategy either runs (finite logits, every linear but the routers and
// Qwen2-MoE's shared_expert_gate quantized, fused qkv_proj / gate_up_proj included) or refuses
// before any work with the reason transform_refusal gives.
TEST_CASE("second-wave architectures: each strategy runs or refuses with its reason") {
  at::NoGradGuard ng;
  int ran = 0, refused = 0;
  for (const char* arch : {"qwen3", "qwen3-moe", "qwen2-moe", "gemma2", "gemma3", "phi3"}) {
    for (const char* method : {"rtn", "gptq", "awq", "rotate", "omniquant", "hqq", "owq", "rotate+gptq", "awq+gptq"}) {
      const std::string dir = shared(std::string("parity/") + arch), what = std::string(arch) + " " + method;
      auto model = Model::load(dir);
      Tokenizer tok = Tokenizer::from_file(dir + "/tokenizer.json");
      QuantRequest q = request(method, 4, 16);
      q.calib.files = {shared("corpus/austen-valid.txt")};
      q.calib.nsamples = 4;
      q.calib.seqlen = 32;
      q.params = std::string(method) == "omniquant" ? json{{"omniquant.epochs", 1}} : json::object();
      std::string why;
      for (const std::string stage : {"awq", "rotate"})
        if (why.empty() && std::string(method).find(stage) != std::string::npos) why = transform_refusal(model->config(), stage);
      if (!why.empty()) {
        CHECK_THROWS_WITH(quantize_model(*model, &tok, q), why);
        ++refused;
        continue;
      }
      QuantResult r = quantize_model(*model, &tok, q);
      ++ran;
      at::Tensor logits = model->forward(at::randint(0, 8192, {1, 16}, at::kLong));
      CHECK_MSG(at::isfinite(logits).all().item<bool>(), what + ": non-finite logits");
      int fused = 0;
      for (const auto& l : r.layers) {
        const bool gate = l.type == "router";
        CHECK_MSG(l.quantized != gate, what + ": " + l.name + (gate ? " quantized" : " not quantized"));
        fused += (l.type == "qkv" || l.type == "gate_up") && l.quantized;
      }
      if (std::string(arch) == "phi3") CHECK_MSG(fused == 4, what + ": fused layers quantized: " + std::to_string(fused));
    }
  }
  CHECK(ran > 0 && refused > 0);
}

TEST_CASE("refusals name the architecture and the obstacle") {
  auto cfg = [](const char* a) { return Checkpoint::open(shared(std::string("parity/") + a))->config(); };
  CHECK(transform_refusal(cfg("phi3"), "awq").find("fused qkv_proj") != std::string::npos);
  CHECK(transform_refusal(cfg("phi3"), "rotate").find("Phi3ForCausalLM") != std::string::npos);
  CHECK(transform_refusal(cfg("gemma2"), "rotate").find("post_feedforward_layernorm") != std::string::npos);
  CHECK(transform_refusal(cfg("gemma3"), "awq").find("pre_feedforward_layernorm") != std::string::npos);
  CHECK(transform_refusal(cfg("qwen2-moe"), "awq").find("shared_expert") != std::string::npos);
  CHECK(transform_refusal(cfg("qwen3-moe"), "rotate").find("moe_intermediate_size") == std::string::npos);
  CHECK(transform_refusal(cfg("qwen3-moe"), "rotate").find("online_hadamard=false") != std::string::npos);
  CHECK(transform_refusal(cfg("qwen3-moe"), "rotate", {{"online_hadamard", false}}).empty());
  CHECK(transform_refusal(cfg("qwen3"), "awq").empty() && transform_refusal(cfg("qwen3"), "rotate").empty());
  CHECK(transform_refusal(cfg("llama"), "awq").empty() && transform_refusal(cfg("mixtral"), "rotate").empty());
}

TEST_CASE("mixed precision: overrides by pattern and skipped layers") {
  at::NoGradGuard ng;
  auto model = Model::load(shared("parity/llama"));
  QuantRequest q = request("rtn", 3, 32);
  q.plan.overrides = {parse_override("*.down_proj=bits:8"), parse_override("layers.0.self_attn.q_proj=skip")};
  QuantResult r = quantize_model(*model, nullptr, q);
  for (const auto& l : r.layers) {
    if (l.name == "layers.0.self_attn.q_proj") CHECK(!l.quantized);
    else if (l.type == "down") CHECK(l.bits == 8);
    else CHECK(l.bits == 3 && l.quantized);
  }
}

TEST_CASE("bad input: bits, groups, method, parameters, calibration, NaN weights") {
  at::NoGradGuard ng;
  const std::string dir = shared("parity/llama");
  auto model = Model::load(dir);
  Tokenizer tok = Tokenizer::from_file(dir + "/tokenizer.json");
  CHECK_THROWS_WITH(quantize_model(*model, &tok, request("rtn", 9, 32)), "bits must be in 2..8, got 9");
  CHECK_THROWS_WITH(quantize_model(*model, &tok, request("rtn", 4, 48)), "does not divide");
  CHECK_THROWS_WITH(quantize_model(*model, &tok, request("spqr", 4, 32)), "unknown method 'spqr'");
  CHECK_THROWS_WITH(quantize_model(*model, &tok, request("gptq+awq", 4, 32)), "must come last");
  QuantRequest p = calibrated("gptq", 4, 32, 2);
  p.params = {{"percdamp", 5.0}};
  CHECK_THROWS_WITH(quantize_model(*model, &tok, p), "gptq.percdamp = 5.0 is out of range");
  p.params = {{"alpha", 1}};
  CHECK_THROWS_WITH(quantize_model(*model, &tok, p), "unknown parameter 'alpha'");
  CHECK_THROWS_WITH(quantize_model(*model, &tok, request("gptq", 4, 32)), "needs calibration text");
  QuantRequest o = request("rtn", 4, 32);  // parity/llama has 2 blocks: layers.5 names nothing
  o.plan.overrides = {parse_override("layers.5.*=skip")};
  CHECK_THROWS_WITH(quantize_model(*model, &tok, o), "override pattern 'layers.5.*' matches no linear layer");
  QuantRequest c = calibrated("gptq", 4, 32, 2);
  c.calib.seqlen = 4096;
  c.calib.files = {shared("parity/llama/config.json")};
  CHECK_THROWS_WITH(quantize_model(*model, &tok, c), "too few for windows of 4096");
  QuantRequest h = calibrated("gptq", 4, 32, 2);  // pinned host staging is for CUDA runs
  h.calib_staging = CalibStaging::Host;
  CHECK_THROWS_WITH(quantize_model(*model, &tok, h), "calibration staging 'host' needs a CUDA device");
  CHECK_THROWS_WITH(parse_calib_staging("disk"), "unknown calibration staging 'disk' (choose auto, device or host)");
  CHECK(resolve_calib_staging(CalibStaging::Auto, at::Device("cpu"), true) == CalibStaging::Device);
  CHECK(resolve_calib_staging(CalibStaging::Auto, at::Device("cuda:0"), true) == CalibStaging::Host);
  CHECK(resolve_calib_staging(CalibStaging::Auto, at::Device("cuda:0"), false) == CalibStaging::Device);
  model->acquire(1).linear("mlp.up_proj").weight[0][0] = std::nan("");
  CHECK_THROWS_WITH(quantize_model(*model, &tok, request("rtn", 4, 32)), "layers.1.mlp.up_proj contains NaN");
}

TEST_CASE("registry: every strategy has a schema; compositions resolve") {
  CHECK(strategy_registry().size() == 12);  // ... hqq, owq, osplus, pbllm, billm, quip
  auto sq = parse_method("smoothquant+gptq");
  CHECK(sq.size() == 2 && sq[0]->id == "smoothquant" && sq[0]->kind == StageKind::BlockTransform);
  auto st = parse_method("rotate+gptq");
  CHECK(st.size() == 2 && st[0]->id == "rotate" && st[1]->id == "gptq");
  CHECK(parse_method("awq").back()->id == "rtn");
  json p = resolve_params(parse_method("awq+gptq"), {{"gptq.act_order", true}, {"grid", 10}});
  CHECK(p["gptq"]["act_order"] == true && p["awq"]["grid"] == 10 && p["gptq"]["percdamp"] == 0.01);
}

TEST_MAIN()
