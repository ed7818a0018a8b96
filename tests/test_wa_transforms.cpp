// Transforms searched against W-A quantization, as LLMC: AWQ with --act-bits scores its scales with
// the scaled inputs quantized (Q_a(x / s) · Q(W·s)ᵀ), OS+ (channel-wise scaling of outliers, no
// shift on RMSNorm models) likewise. Their folds keep the full-precision function (logits within
// 1e-4), the searches leave no quantizer behind, they compose with GPTQ, and on austen-small they
// are measured against naive W4A8 / W6A6.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cstdio>

#include "core/io/safetensors.h"
#include "core/model/model.h"
#include "core/records/json_util.h"
#include "core/text/tokenizer.h"
#include "eval/metrics/perplexity.h"
#include "quant/pipeline/pipeline.h"
#include "tests/check.h"
#include "tests/fixture_paths.h"

using namespace ptq;

namespace {

std::string parity(const std::string& name) { return test::shared_dir() + "/parity/" + name; }

QuantRequest request(const std::string& method, int wbits, int64_t group, int abits) {
  QuantRequest q;
  q.method = method;
  q.plan.spec.bits = wbits;
  q.plan.spec.group_size = group;
  q.plan.act.bits = abits;
  q.calib.files = {test::corpus("austen-valid.txt")};
  q.calib.nsamples = 4;
  q.calib.seqlen = 32;
  return q;
}

std::map<std::string, std::string> notes(const QuantResult& r) {
  std::map<std::string, std::string> n;
  for (const auto& l : r.layers) n[l.name] = l.note;
  return n;
}

int leftover_quantizers(Model& m) {
  int n = 0;
  for (int i = 0; i < m.num_blocks(); ++i)
    for (const auto& l : m.block(i).linears()) n += bool(l.input_quantizer) + bool(l.output_quantizer);
  return n;
}

// Transform-only run of `method` on parity llama: the fp logits must not move (why 1e-4: each fold
// is one float32 multiply of a weight column and one divide of a norm weight, relative error
// ~1e-7 per element on logits of magnitude ~1, far below 1e-4; a wrong fold moves them by >1e-2).
QuantResult transform_only(const std::string& method, int abits, const nlohmann::json& params = nlohmann::json::object()) {
  at::NoGradGuard ng;
  auto m = Model::load(parity("llama"));
  Tokenizer tok = Tokenizer::from_file(parity("llama") + "/tokenizer.json");
  at::Tensor ids = SafetensorsFile(parity("llama") + "/reference.safetensors").load("input_ids");
  const at::Tensor want = m->forward(ids);
  QuantRequest q = request(method, 3, 16, abits);
  q.params = params;
  q.transform_only = true;
  QuantResult r = quantize_model(*m, &tok, q);
  CHECK(leftover_quantizers(*m) == 0);  // the searches' scoped quantizers are gone
  const double d = (m->forward(ids) - want).abs().max().item<double>();
  std::printf("      %s a%d transform only: max |logits - fp| = %.2e\n", method.c_str(), abits, d);
  CHECK_MSG(d < 1e-4, method + ": " + std::to_string(d));
  return r;
}

// "awq alpha=0.35 (searched with a2 activations); ..." -> "0.35".
std::string alpha_of(const std::string& note) {
  const auto at = note.find("awq alpha=");
  if (at == std::string::npos) return "";
  const auto from = at + 10;
  return note.substr(from, note.find_first_of(" ;", from) - from);
}

}  // namespace

// a2: the harshest setting (on the parity model an a4 quantizer leaves the q/gate argmin of the
// 20-point grid where it was; a2 moves all four).
TEST_CASE("awq --act-bits: the scale search scores quantized activations; folds keep fp logits") {
  const nlohmann::json p = {{"clip", false}};
  const auto wa = notes(transform_only("awq", 2, p)), w = notes(transform_only("awq", 0, p));
  int differ = 0;
  for (const auto& [name, note] : wa) {
    if (name.find("q_proj") == std::string::npos && name.find("gate_proj") == std::string::npos &&
        name.find("down_proj") == std::string::npos)
      continue;
    CHECK_MSG(note.find("(searched with a2 activations)") != std::string::npos, name + ": " + note);
    CHECK_MSG(w.at(name).find("searched with") == std::string::npos, w.at(name));
    // q/k/v and gate/up are scored on the attention / MLP probe either way, so a changed alpha there
    // comes from Q_a alone (up -> down also changes from the Gram shortcut to the probe).
    if (name.find("down_proj") == std::string::npos) differ += alpha_of(note) != alpha_of(w.at(name));
  }
  std::printf("      q/gate layers whose awq alpha changed under a2: %d\n", differ);
  CHECK(differ > 0);  // the activation quantizer changed what the search chose
}

TEST_CASE("osplus: scaling folds keep fp logits (parity llama), no shift, layers noted") {
  const auto n = notes(transform_only("osplus", 8));
  int scaled = 0;
  for (const auto& [name, note] : n) {
    if (name.find("q_proj") != std::string::npos || name.find("gate_proj") != std::string::npos) {
      CHECK_MSG(note.find("osplus ") != std::string::npos && note.find("with a8 activations") != std::string::npos, note);
      const auto at = note.find("scaled_channels=");
      scaled += std::stoi(note.substr(at + 16));
    }
    if (name.find("o_proj") != std::string::npos || name.find("down_proj") != std::string::npos)
      CHECK_MSG(note.find("osplus: input not scaled") != std::string::npos, note);
  }
  std::printf("      osplus a8: %d channels scaled over the q/gate groups\n", scaled);
  CHECK(scaled > 0);
}

TEST_CASE("awq+gptq and osplus+gptq with --act-bits 8: act quantizers installed after the transforms") {
  at::NoGradGuard ng;
  for (const char* method : {"awq+gptq", "osplus+gptq"}) {
    auto m = Model::load(parity("llama"));
    Tokenizer tok = Tokenizer::from_file(parity("llama") + "/tokenizer.json");
    QuantResult r = quantize_model(*m, &tok, request(method, 4, 16, 8));
    CHECK(r.activations["quantized_inputs"].get<int>() == 7 * m->num_blocks());
    CHECK(leftover_quantizers(*m) == 7 * m->num_blocks());
    CHECK(r.quantized.size() == size_t(7 * m->num_blocks()));
  }
}

SLOW_TEST_CASE("austen-small: awq / osplus before W-A quantization vs naive W4A8 g128 and W6A6") {
  at::NoGradGuard ng;
  const std::string dir = test::shared_dir() + "/models/austen-small";
  Tokenizer tok = Tokenizer::from_file(dir + "/tokenizer.json");
  const auto ids = tok.encode(read_text_file(test::corpus("austen-test.txt")));
  PplOptions po;
  po.seqlen = 256;
  po.batch = 8;
  po.max_windows = 8;
  auto ppl_of = [&](const std::string& method, int wbits, int64_t group, int abits) {
    QuantRequest q = request(method, wbits, group, abits);
    q.plan.spec.symmetric = abits == 6;  // LLMC's w6a6: symmetric per-channel weights
    q.calib.nsamples = 8;  // 8 x 128 tokens: OS+ scores >= 100 thresholds per group on them
    q.calib.seqlen = 128;
    auto model = Model::load(dir);
    if (method != "fp") quantize_model(*model, &tok, q);
    return perplexity(*model, ids, po).ppl;
  };
  const double fp = ppl_of("fp", 0, 0, 0);
  const double n48 = ppl_of("rtn", 4, 128, 8), a48 = ppl_of("awq+rtn", 4, 128, 8), ag48 = ppl_of("awq+gptq", 4, 128, 8);
  const double n66 = ppl_of("rtn", 6, -1, 6), a66 = ppl_of("awq+rtn", 6, -1, 6), o66 = ppl_of("osplus+rtn", 6, -1, 6);
  std::printf("      fp %.4f | w4a8g128: rtn %.4f awq+rtn %.4f awq+gptq %.4f | w6a6: rtn %.4f awq+rtn %.4f osplus+rtn %.4f\n",
              fp, n48, a48, ag48, n66, a66, o66);
  CHECK(a48 < n48);  // AWQ's scales help W4A8 as they help W4A16
  CHECK(ag48 < n48);
}
