// Quantized-model artifacts of weight-activation runs: the activation quantizers (dynamic and
// static, q/k/v outputs included) and the KV-cache quantizer come back with the weights, so a
// loaded W-A run computes exactly the logits (hence the PPL) of the run itself; what cannot be
// restored is refused by name.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cstdlib>
#include <unistd.h>

#include "core/io/safetensors.h"
#include "core/model/model.h"
#include "core/records/json_util.h"
#include "core/runtime/errors.h"
#include "core/text/tokenizer.h"
#include "quant/kvcache/kv_cache_quantizer.h"
#include "quant/pipeline/act_install.h"
#include "quant/pipeline/pipeline.h"
#include "quant/pipeline/quantized_export.h"
#include "tests/check.h"

using namespace ptq;
using nlohmann::json;

namespace {

std::string shared(const std::string& p) { return test::shared_dir() + "/" + p; }

std::string temp_dir() {
  char tmpl[] = "/tmp/ptq_export_act_XXXXXX";
  return ::mkdtemp(tmpl);
}

QuantRequest wa_request(const std::string& method, int act_bits, const std::string& act_static) {
  QuantRequest q;
  q.method = method;
  q.plan.spec.bits = 4;
  q.plan.spec.group_size = 32;
  q.plan.act.bits = act_bits;
  q.plan.act.qkv_out = true;
  parse_act_static(act_static, q.plan.act);
  if (q.plan.act.is_static()) q.plan.act.granularity = ActGranularity::Tensor;
  q.plan.overrides.push_back(parse_override("layers.0.self_attn.o_proj=skip"));  // its input stays fp
  q.calib.files = {shared("corpus/austen-valid.txt")};
  q.calib.nsamples = 4;
  q.calib.seqlen = 32;
  return q;
}

KvCacheSpec kv4_channel() {
  KvCacheSpec kv;
  kv.bits = 4;
  kv.granularity = "channel";
  kv.group = 4;
  return kv;
}

struct SavedRun {
  std::string dir;
  at::Tensor ids, logits, weight_only_logits;
};

// Quantizes the llama parity model, installs `kv`, saves the artifacts; `logits` are the run's,
// `weight_only_logits` the same weights without activation and KV quantizers.
SavedRun save_run(const QuantRequest& q, const KvCacheSpec& kv) {
  const std::string dir = shared("parity/llama");
  auto model = Model::load(dir);
  Tokenizer tok = Tokenizer::from_file(dir + "/tokenizer.json");
  QuantResult r = quantize_model(*model, &tok, q);
  if (kv.enabled()) model->set_kv_cache(make_kv_cache_quantizer(kv, model->config()));
  SavedRun s;
  s.ids = SafetensorsFile(dir + "/reference.safetensors").load("input_ids");
  s.logits = model->forward(s.ids);
  s.dir = temp_dir();
  save_quantized_artifacts(*model, r, s.dir, kv);
  remove_activation_quantizers(*model);
  model->set_kv_cache(nullptr);
  s.weight_only_logits = model->forward(s.ids);
  return s;
}

void check_round_trip(const SavedRun& s, const std::string& what) {
  for (auto res : {Residency::Resident, Residency::Stream}) {
    LoadOptions lo;
    lo.residency = res;
    auto back = load_quantized_model(s.dir, lo);
    const double diff = (back->forward(s.ids) - s.logits).abs().max().item<double>();
    std::printf("      %s (%s): max |logits diff| = %.3g\n", what.c_str(), residency_name(res).c_str(), diff);
    CHECK_MSG(diff == 0, what + ": " + std::to_string(diff));  // the same arithmetic on the same tensors
  }
  // The activation / KV quantizers matter: without them the logits differ (the test can fail).
  CHECK((s.weight_only_logits - s.logits).abs().max().item<double>() > 1e-4);
}

}  // namespace

TEST_CASE("round trip W-A: rtn w4a8 dynamic per token, q/k/v outputs, KV 4-bit per channel") {
  at::NoGradGuard ng;
  SavedRun s = save_run(wa_request("rtn", 8, "dynamic"), kv4_channel());
  const json meta = read_json_file(s.dir + "/artifacts.json");
  CHECK(meta["version"] == 2);
  CHECK(meta["activations"]["setting"]["act_bits"] == 8);
  CHECK(meta["kv_cache"]["granularity"] == "channel");
  // The skipped o_proj of block 0 keeps a full-precision input, as in the run.
  bool skipped_listed = false;
  for (const auto& n : meta["activations"]["layers"]) skipped_listed |= n == "layers.0.self_attn.o_proj";
  CHECK(!skipped_listed);
  check_round_trip(s, "rtn w4a8 kv4");
  std::system(("rm -rf " + s.dir).c_str());
}

TEST_CASE("round trip W-A: rotate+gptq w4a4 with static absmax scales") {
  at::NoGradGuard ng;
  SavedRun s = save_run(wa_request("rotate+gptq", 4, "absmax"), KvCacheSpec{});
  const json meta = read_json_file(s.dir + "/artifacts.json");
  CHECK(meta["kv_cache"].is_null());
  CHECK(meta["bytes"]["by_part"]["act_scale"].get<int64_t>() > 0);
  SafetensorsFile f(s.dir + "/quantized.safetensors");
  CHECK(f.contains("layers.1.mlp.down_proj.act_scale"));
  check_round_trip(s, "rotate+gptq w4a4 static");
  std::system(("rm -rf " + s.dir).c_str());
}

TEST_CASE("W-A artifacts: what cannot be restored is refused") {
  at::NoGradGuard ng;
  SavedRun s = save_run(wa_request("rtn", 8, "dynamic"), kv4_channel());
  const std::string path = s.dir + "/artifacts.json";
  const json meta = read_json_file(path);
  json newer = meta;
  newer["version"] = 3;
  write_json_atomic(path, newer);
  CHECK_THROWS_WITH(load_quantized_model(s.dir, LoadOptions{}), "has version 3; this build reads versions 1 to 2");
  json no_scales = meta;  // static scales named but never stored
  no_scales["activations"]["setting"]["act_static"] = "absmax";
  no_scales["activations"]["setting"]["act_granularity"] = "tensor";
  write_json_atomic(path, no_scales);
  CHECK_THROWS_WITH(load_quantized_model(s.dir, LoadOptions{}), ".act_scale");
  json bad_act = meta;
  bad_act["activations"]["setting"]["act_bits"] = 12;
  write_json_atomic(path, bad_act);
  CHECK_THROWS_WITH(load_quantized_model(s.dir, LoadOptions{}), "the activation quantizers cannot be restored");
  json bad_kv = meta;
  bad_kv["kv_cache"]["granularity"] = "head";
  write_json_atomic(path, bad_kv);
  CHECK_THROWS_WITH(load_quantized_model(s.dir, LoadOptions{}), "the KV-cache setting cannot be restored");
  json ghost = meta;
  ghost["activations"]["layers"].push_back("layers.9.mlp.down_proj");
  write_json_atomic(path, ghost);
  CHECK_THROWS_WITH(load_quantized_model(s.dir, LoadOptions{}), "layers.9.mlp.down_proj (activation quantizer)");
  json v1 = meta;  // a version 1 folder: weight-only, full-precision cache
  v1["version"] = 1;
  v1.erase("activations");
  v1.erase("kv_cache");
  write_json_atomic(path, v1);
  auto back = load_quantized_model(s.dir, LoadOptions{});
  CHECK((back->forward(s.ids) - s.weight_only_logits).abs().max().item<double>() == 0);
  std::system(("rm -rf " + s.dir).c_str());
}
