// The experiment driver and its registered analyses: the catalog, and the numbers issue 10 found
// wrong (size after rotation, sentinels in layer records, the artifact folder's bytes).
#include <unistd.h>

#include "core/io/checkpoint.h"
#include "core/io/safetensors.h"
#include "core/records/json_util.h"
#include "core/runtime/errors.h"
#include "eval/analyses/analysis_steps.h"
#include "eval/experiment/experiment.h"
#include "quant/pipeline/pipeline.h"
#include "quant/pipeline/quantized_export.h"
#include "tests/check.h"
#include "tests/fixture_paths.h"

using namespace ptq;

namespace {

using test::corpus;
using test::tiny;

std::string temp_dir() { return test::temp_dir("pipeline"); }

ExperimentSpec gptq_spec() {
  ExperimentSpec s;
  s.model_dir = tiny();
  s.method = "gptq";
  s.plan.spec.bits = 3;
  s.plan.spec.group_size = 128;
  s.calib.files = {corpus("austen-valid.txt")};
  s.calib.nsamples = 16;
  s.calib.seqlen = 128;
  return s;
}

// The size of a model whose tensors are listed in the checkpoint (+ an untied head), counted here
// from the packed layout's definition: 4-bit asymmetric INT, group 128: codes at 4 bits, one fp16
// scale and one 4-bit zero per group; every other tensor at 16 bits.
int64_t packed_w4g128_bytes(const std::string& model_dir, bool untied_head) {
  auto ck = Checkpoint::open(model_dir);
  int64_t bytes = 0;
  for (const auto& name : ck->tensor_names()) {
    const TensorInfo& t = ck->info(name);
    const bool linear = name.find("model.layers.") == 0 && name.find("_proj.weight") != std::string::npos;
    if (!linear) {
      bytes += 2 * t.numel();
      continue;
    }
    const int64_t out = t.shape[0], in = t.shape[1], groups = out * (in / 128);
    bytes += out * in / 2 + 2 * groups + (groups * 4 + 7) / 8;
  }
  if (untied_head) bytes += 2 * ck->config().vocab_size * ck->config().hidden_size;
  return bytes;
}

}  // namespace

TEST_CASE("run_experiment: a rotated tied model's size is the bytes of the tensors it has (its untied head too)") {
  ExperimentSpec rot;
  rot.model_dir = tiny();
  rot.method = "rotate";
  rot.plan.spec.bits = 4;
  ExperimentSpec rtn = rot;
  rtn.method = "rtn";
  const json rs = run_experiment(rot)["metrics"]["size"], ns = run_experiment(rtn)["metrics"]["size"];
  CHECK(rs["total_bytes"].get<int64_t>() == packed_w4g128_bytes(tiny(), true));
  CHECK(ns["total_bytes"].get<int64_t>() == packed_w4g128_bytes(tiny(), false));
  CHECK(rs["total_bytes"].get<int64_t>() - ns["total_bytes"].get<int64_t>() == 2 * 8192 * 128);  // the fp16 head
  CHECK(rs["fp16_bytes"] == ns["fp16_bytes"]);  // both against the same fp16 checkpoint
  CHECK(rs["other_params"].get<int64_t>() == ns["other_params"].get<int64_t>() + 8192 * 128);
  CHECK(rs["layout"].get<std::string>().find("packed") == 0);
}

TEST_CASE("layer records: what was not measured is null; RTN measures output error on calibration text") {
  ExperimentSpec s;
  s.model_dir = tiny();
  s.method = "rtn";
  s.plan.spec.bits = 4;
  LayerOverride skip;
  skip.pattern = "*.mlp.down_proj";
  skip.skip = true;
  s.plan.overrides = {skip};
  const json plain = run_experiment(s);
  for (const auto& l : plain["layers"]) {
    CHECK(l["out_rel_mse"].is_null() && l["out_cosine"].is_null() && l["method_loss"].is_null());
    CHECK(l["quantized"] == (l["type"] != "down"));
    CHECK(l["quantized"] ? l["weight_rel_error"].get<double>() > 0 : l["weight_rel_error"].is_null());
  }
  s.calib.files = {corpus("austen-valid.txt")};
  s.calib.nsamples = 2;
  s.calib.seqlen = 64;
  const json calibrated = run_experiment(s);
  for (const auto& l : calibrated["layers"]) {
    if (l["type"] == "down") {
      CHECK(l["out_cosine"].is_null() && l["weight_rel_error"].is_null());
      continue;
    }
    CHECK(l["out_rel_mse"].get<double>() > 0 && l["out_cosine"].get<double>() > 0.5 && l["out_cosine"].get<double>() <= 1 + 1e-6);
    CHECK(l["calib_tokens"] == 2 * 64);
  }
  for (const auto& b : calibrated["blocks"]) CHECK(b["out_rel_mse"].get<double>() > 0);
  for (const auto& b : plain["blocks"]) CHECK(b["out_rel_mse"].is_null());
  // Records written before null: the -1 sentinels and the 0 weight error of a skipped layer read as not measured.
  json old = {{"name", "layers.0.mlp.down_proj"}, {"quantized", false}, {"weight_rel_error", 0.0}, {"out_rel_mse", -1.0},
              {"out_cosine", -1.0}, {"method_loss", -1.0}, {"calib_tokens", 0}};
  LayerRecord r = LayerRecord::from_json(old);
  CHECK(!measured(r.weight_rel_error) && !measured(r.out_rel_mse) && !measured(r.out_cosine) && !measured(r.method_loss));
  CHECK(r.to_json()["out_cosine"].is_null());
}

TEST_CASE("quantized artifacts: the manifest says what the folder stores and its actual bytes") {
  ExperimentSpec s;
  s.model_dir = tiny();
  s.method = "rtn";
  s.plan.spec.bits = 4;
  const std::string dir = temp_dir();
  ExperimentHooks hooks;
  hooks.on_quantized = [&](Model& m, const QuantResult& r) { save_quantized_artifacts(m, r, dir); };
  const json rec = run_experiment(s, nullptr, &hooks);
  const json meta = read_json_file(dir + "/artifacts.json");
  SafetensorsFile f(dir + "/quantized.safetensors");
  int64_t data = 0, codes = 0, packed = 0;
  for (const auto& kv : f.tensors()) {
    data += int64_t(kv.second.end - kv.second.begin);
    if (kv.first.size() > 6 && kv.first.compare(kv.first.size() - 6, 6, ".codes") == 0) {
      CHECK(kv.second.dtype == "U8");
      codes += kv.second.numel();
    }
  }
  for (const auto& l : rec["layers"]) packed += l["storage_bytes"].get<int64_t>();
  CHECK(meta["bytes"]["file"].get<uint64_t>() == f.file_size());
  CHECK(meta["bytes"]["tensors"].get<int64_t>() == data);
  CHECK(meta["bytes"]["by_part"]["codes"].get<int64_t>() == codes);  // one byte per code
  CHECK(meta["bytes"]["quantized_layers_packed"].get<int64_t>() == packed);
  CHECK(meta["bytes"]["tensors"].get<int64_t>() > packed);  // the working form is not the packed layout
  CHECK(meta["stores"]["codes"].get<std::string>().find("uint8") == 0);
  ::unlink((dir + "/artifacts.json").c_str());
  ::unlink((dir + "/quantized.safetensors").c_str());
  ::rmdir(dir.c_str());
}

TEST_CASE("analysis catalog: every row has steps, the spec's checks come from its needs") {
  for (const auto& a : analysis_catalog()) {
    CHECK_MSG(make_analysis_steps(a.id) != nullptr, a.id);
    CHECK_MSG(!a.steps.empty() && !a.writes.empty(), a.id);
  }
  CHECK(experiment_analyses() == std::vector<std::string>({"size", "compare", "kurtosis", "lastword", "token_kl", "outliers",
                                                         "quant_grid", "column_error", "divergence"}));
  CHECK_THROWS_WITH(find_analysis("outlier"), "unknown analysis 'outlier' (known: size, compare");
  CHECK(find_analysis("quant_grid").needs & kNeedsQuantized);
  CHECK(find_analysis("compare").runs_in(AnalysisStage::BeforeQuantization));
  json j = gptq_spec().to_json();
  j["eval"] = nullptr;
  j["analyses"] = {"lastword"};
  CHECK_THROWS_WITH(ExperimentSpec::from_json(j), "'lastword' needs an eval text");
  j["analyses"] = {"lambada"};
  CHECK_THROWS_WITH(ExperimentSpec::from_json(j), "the last-word task built from the eval text is 'lastword'");
  ExperimentSpec fp;
  fp.model_dir = tiny();
  CHECK(analysis_enabled(find_analysis("size"), fp) && !analysis_enabled(find_analysis("perplexity"), fp));
  fp.eval_text = corpus("austen-test.txt");
  CHECK(analysis_enabled(find_analysis("perplexity"), fp) && !analysis_enabled(find_analysis("lastword"), fp));
}

TEST_MAIN()
