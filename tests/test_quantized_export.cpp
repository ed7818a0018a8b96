// Quantized-model artifacts: saving after quantize_model and loading them onto the base checkpoint
// reproduces the quantized model's logits exactly (rotation's head untying, folded norms, the online
// Hadamard, AWQ-scaled routers and skipped layers included); the transform-only hook.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cmath>
#include <cstdlib>
#include <unistd.h>

#include "core/runtime/errors.h"
#include "core/records/json_util.h"
#include "core/model/model.h"
#include "core/io/safetensors.h"
#include "core/text/tokenizer.h"
#include "quant/pipeline/block_stage.h"
#include "quant/pipeline/pipeline.h"
#include "quant/pipeline/quantized_export.h"
#include "tests/check.h"

using namespace ptq;

namespace {

std::string shared(const std::string& p) { return test::shared_dir() + "/" + p; }

std::string temp_dir() {
  char tmpl[] = "/tmp/ptq_export_XXXXXX";
  return ::mkdtemp(tmpl);
}

QuantRequest request(const std::string& method) {
  QuantRequest q;
  q.method = method;
  q.plan.spec.bits = 3;
  q.plan.spec.group_size = 32;
  q.plan.overrides.push_back(parse_override("layers.0.self_attn.o_proj=skip"));
  q.calib.files = {shared("corpus/austen-valid.txt")};
  q.calib.nsamples = 4;
  q.calib.seqlen = 32;
  return q;
}

void round_trip(const std::string& arch, const std::string& method) {
  at::NoGradGuard ng;
  const std::string dir = shared("parity/" + arch);
  auto model = Model::load(dir);
  Tokenizer tok = Tokenizer::from_file(dir + "/tokenizer.json");
  QuantResult r = quantize_model(*model, &tok, request(method));
  at::Tensor ids = SafetensorsFile(dir + "/reference.safetensors").load("input_ids");
  at::Tensor want = model->forward(ids);
  const std::string out = temp_dir();
  save_quantized_artifacts(*model, r, out);
  CHECK(has_quantized_artifacts(out));
  for (auto res : {Residency::Resident, Residency::Stream}) {
    LoadOptions lo;
    lo.residency = res;
    auto back = load_quantized_model(out, lo);
    const double diff = (back->forward(ids) - want).abs().max().item<double>();
    std::printf("      %s %s (%s): max |logits diff| = %.3g\n", arch.c_str(), method.c_str(),
                residency_name(res).c_str(), diff);
    CHECK_MSG(diff == 0, arch + " " + method + ": " + std::to_string(diff));
  }
  auto fp = Model::load(dir);
  CHECK((fp->forward(ids) - want).abs().max().item<double>() > 1e-4);  // quantization did change it
  std::system(("rm -rf " + out).c_str());
}

}  // namespace

TEST_CASE("round trip: llama rtn") { round_trip("llama", "rtn"); }
TEST_CASE("round trip: llama rotate+gptq (untied head, online Hadamard)") { round_trip("llama", "rotate+gptq"); }
TEST_CASE("round trip: qwen2 awq+rtn (folded norms, biases)") { round_trip("qwen2", "awq+rtn"); }
TEST_CASE("round trip: mixtral awq+gptq (scaled router)") { round_trip("mixtral", "awq+gptq"); }

// Streaming moves blocks on a worker thread: the next block read while one runs, each quantized
// block copied back to host memory in the background. The streamed run must be the resident run:
// the same records, and the same logits from the quantized model, evaluated twice (the second
// pass reads the host copies back, which are current and not written again).
TEST_CASE("a streamed quantization equals the resident one, and its model evaluates the same twice") {
  at::NoGradGuard ng;
  const std::string dir = shared("parity/llama");
  Tokenizer tok = Tokenizer::from_file(dir + "/tokenizer.json");
  at::Tensor ids = SafetensorsFile(dir + "/reference.safetensors").load("input_ids");
  auto resident = Model::load(dir);
  QuantResult want = quantize_model(*resident, &tok, request("gptq"));
  const at::Tensor want_logits = resident->forward(ids);
  LoadOptions lo;
  lo.residency = Residency::Stream;
  auto streamed = Model::load(dir, lo);
  CHECK(streamed->streaming());
  QuantResult got = quantize_model(*streamed, &tok, request("gptq"));
  CHECK(got.layers.size() == want.layers.size());
  int measured = 0;
  for (size_t k = 0; k < want.layers.size(); ++k) {
    CHECK_MSG(test::same_record_value(got.layers[k].out_rel_mse, want.layers[k].out_rel_mse), want.layers[k].name);
    CHECK_MSG(test::same_record_value(got.layers[k].method_loss, want.layers[k].method_loss), want.layers[k].name);
    measured += std::isfinite(want.layers[k].out_rel_mse) ? 1 : 0;
  }
  CHECK(measured > 0);
  for (int pass = 0; pass < 2; ++pass) {
    const double diff = (streamed->forward(ids) - want_logits).abs().max().item<double>();
    CHECK_MSG(diff == 0, "pass " + std::to_string(pass) + ": max |logits diff| " + std::to_string(diff));
  }
  for (int i = 0; i < streamed->num_blocks(); ++i) CHECK(!streamed->block(i).loaded());  // nothing left on the device
}

TEST_CASE("missing or foreign artifacts are clear errors") {
  CHECK_THROWS_WITH(load_quantized_model("/nonexistent/dir", LoadOptions{}), "artifacts.json missing");
  at::NoGradGuard ng;
  const std::string dir = shared("parity/llama");
  auto model = Model::load(dir);
  Tokenizer tok = Tokenizer::from_file(dir + "/tokenizer.json");
  const std::string out = temp_dir();
  save_quantized_artifacts(*model, quantize_model(*model, &tok, request("rtn")), out);
  const json meta = read_json_file(out + "/artifacts.json");
  CHECK(load_quantized_model(out, LoadOptions{})->num_blocks() == 2);  // the folder as written loads
  // Foreign: another program's JSON under the name, or a record of this one.
  write_json_atomic(out + "/artifacts.json", json{{"format", "safetensors-index"}, {"weight_map", json::object()}});
  CHECK_THROWS_WITH(load_quantized_model(out, LoadOptions{}), "is not a ptq-workbench quantized-model description");
  write_json_atomic(out + "/artifacts.json", json{{"schema", "ptq-workbench.result"}, {"run_id", "x"}});
  CHECK_THROWS_WITH(load_quantized_model(out, LoadOptions{}), out + "/artifacts.json");
  // Ours, but the base checkpoint it names is gone.
  json moved = meta;
  moved["base_model"] = "/nonexistent/base-model";
  write_json_atomic(out + "/artifacts.json", moved);
  CHECK_THROWS_WITH(load_quantized_model(out, LoadOptions{}), "the base checkpoint '/nonexistent/base-model'");
  // A layer the base model does not have would silently stay in full precision.
  json extra = meta;
  const std::string first = extra["layers"].begin().key();  // model.layers.0.<...>
  const std::string ghost = "model.layers.7" + first.substr(std::string("model.layers.0").size());
  extra["layers"][ghost] = extra["layers"][first];
  write_json_atomic(out + "/artifacts.json", extra);
  CHECK_THROWS_WITH(load_quantized_model(out, LoadOptions{}), "names tensors the base model does not have: " + ghost);
  // Artifacts of this model loaded onto another one with the same layer names but other shapes.
  json other = meta;
  other["base_model"] = shared("parity/qwen3");
  write_json_atomic(out + "/artifacts.json", other);
  CHECK_THROWS_WITH(load_quantized_model(out, LoadOptions{}), "but the base model's is");
  std::system(("rm -rf " + out).c_str());
}

TEST_CASE("transform-only with the after_transform hook: rotation keeps the function") {
  at::NoGradGuard ng;
  const std::string dir = shared("parity/llama");
  auto model = Model::load(dir);
  Tokenizer tok = Tokenizer::from_file(dir + "/tokenizer.json");
  QuantRequest q = request("rotate");
  q.transform_only = true;
  int blocks = 0;
  bool hadamard = false;
  q.after_transform = [&](BlockWork& w) {
    ++blocks;
    CHECK(!w.inputs.empty());
    hadamard |= bool(w.block.linear("mlp.down_proj").input_transform);
  };
  QuantResult r = quantize_model(*model, &tok, q);
  CHECK(blocks == model->num_blocks());
  CHECK(hadamard);
  CHECK(r.quantized.empty());
  at::Tensor ids = SafetensorsFile(dir + "/reference.safetensors").load("input_ids");
  auto fp = Model::load(dir);
  const at::Tensor want = fp->forward(ids);
  const double diff = (want - model->forward(ids)).abs().max().item<double>();
  CHECK_MSG(diff < 1e-5 * want.abs().max().item<double>(), std::to_string(diff));  // as in test_rotation
}

TEST_MAIN()
