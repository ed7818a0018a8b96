#include <climits>
#include <iostream>

#include "app/cli/args.h"
#include "eval/experiment/spec_limits.h"
#include "app/cli/cancel_signals.h"
#include "app/cli/commands.h"
#include "app/cli/progress_line.h"
#include "core/runtime/errors.h"
#include "core/runtime/omp_wait.h"
#include "core/records/json_util.h"
#include "core/records/result_store.h"
#include "eval/experiment/experiment.h"
#include "eval/experiment/sweep_validation.h"
#include "quant/pipeline/pipeline.h"
#include "quant/export/hf_export.h"
#include "quant/pipeline/quantized_export.h"
#include "quant/strategy_registry.h"

namespace ptq::cli {

namespace {

// The experiment spec of `ptq quantize`'s options.
ExperimentSpec spec_of_options(const Args& a) {
  ExperimentSpec spec;
  spec.model_dir = a.required("model");
  spec.method = a.get("method", "rtn");
  spec.plan.spec.bits = int(a.get_int("bits", 4, limits::kMinBits, limits::kMaxBits));
  spec.plan.spec.group_size = a.get_int("group", 128, -1, limits::kMaxGroup);
  spec.plan.spec.symmetric = a.flag("sym");
  spec.plan.spec.format = parse_format(a.get("format", "int"));
  const int64_t block = format_block_size(spec.plan.spec.format);  // mxfp4 / mxfp8 / nvfp4: the group is the block
  if (block > 0 && !a.has("group")) spec.plan.spec.group_size = block;
  spec.plan.spec.clip_ratio = a.get_double("clip-ratio", 1.0, 1e-6, 1.0);
  const std::string sym_style = a.get("sym-style", "gptq");
  if (sym_style != "gptq" && sym_style != "absmax")
    throw Error("--sym-style has unknown value '" + sym_style + "' (allowed: gptq, absmax)");
  spec.plan.spec.absmax_sym = sym_style == "absmax";
  if (spec.plan.spec.absmax_sym && !spec.plan.spec.symmetric) throw Error("--sym-style absmax needs --sym");
  spec.plan.act.bits = int(a.get_int("act-bits", 0, 0, limits::kMaxBits));
  spec.plan.act.format = parse_format(a.get("act-format", "int"));
  spec.plan.act.granularity = parse_act_granularity(a.get("act-granularity", "token"));
  spec.plan.act.group_size = a.get_int("act-group", 128, 1, limits::kMaxGroup);
  parse_act_static(a.get("act-static", "dynamic"), spec.plan.act);
  spec.plan.act.qkv_out = a.flag("act-qkv-out");
  for (const auto& o : a.all("override")) spec.plan.overrides.push_back(parse_override(o));
  for (const auto& p : a.all("param")) parse_param_assignment(p, spec.params);
  spec.calib.files = a.all("calib");
  spec.calib.nsamples = a.get_int("nsamples", 128, 1, limits::kMaxNsamples);
  spec.calib.seqlen = a.get_int("calib-seqlen", 2048, 2, limits::kMaxSeqlen);
  spec.calib.seed = uint64_t(a.get_int("seed", 0, 0, limits::kMaxSeed));
  spec.calib.sampling = a.get("sampling", default_calib_sampling(spec.method));
  spec.calib_batch = a.get_int("calib-batch", 8, 1, limits::kMaxBatch);
  spec.seed = spec.calib.seed;
  spec.eval_text = a.get("eval-text", "");
  spec.eval_seqlen = a.get_int("eval-seqlen", 2048, 2, limits::kMaxSeqlen);
  spec.eval_max_windows = a.get_int("eval-max-windows", 0, 0, limits::kMaxWindows);
  spec.eval_batch = a.get_int("eval-batch", 4, 1, limits::kMaxBatch);
  spec.analyses = a.all("analysis");
  spec.divergence_tokens = a.get_int("divergence-tokens", kDefaultDivergenceTokens, 1, limits::kMaxDivergenceTokens);
  spec.task_files = a.all("task");
  spec.device = a.get("device", "cpu");
  spec.dtype = a.get("dtype", "float32");
  spec.residency = a.get("residency", "auto");
  spec.label = a.get("label", "");
  spec.kv.bits = int(a.get_int("kv-bits", 0, 0, 8));
  spec.kv.format = a.get("kv-format", "int");
  spec.kv.granularity = a.get("kv-granularity", "token");
  spec.kv.group = a.get_int("kv-group", 0, 0, limits::kMaxSeqlen);
  spec.kv.residual = a.get_int("kv-residual", 0, 0, limits::kMaxSeqlen);
  return spec;
}

}  // namespace

int cmd_quantize(const std::vector<std::string>& argv) {
  Args a(argv,
         {"model", "method", "bits", "group", "format", "clip-ratio", "calib", "nsamples", "calib-seqlen", "seed",
          "sampling", "calib-batch", "eval-text", "eval-seqlen", "eval-max-windows", "eval-batch", "device", "dtype",
          "residency", "out", "results", "param", "override", "analysis", "task", "label", "kv-bits", "kv-format",
          "kv-granularity", "kv-group", "kv-residual", "sym-style", "act-bits", "act-format", "act-granularity",
          "act-group", "act-static", "export", "export-format", "export-shard-bytes", "divergence-tokens"},
         {"sym", "act-qkv-out", "force"}, {"param", "override", "calib", "analysis", "task"});
  ExperimentSpec spec = spec_of_options(a);
  spec.resolve_paths(".");  // the record's spec re-runs from any folder
  if (spec.method == "fp") throw Error("--method fp does not quantize; use `ptq run` or `ptq ppl` for a baseline");
  spec.validate();
  const std::string out_dir = a.get("out", ""), results = a.get("results", "");
  if (!out_dir.empty()) ensure_results_dir(out_dir);  // fail before the long work
  if (!results.empty()) ensure_results_dir(results);
  HfExportOptions exp;
  exp.dir = a.get("export", "");
  if (!exp.dir.empty()) {  // refuse a bad target or format before the long work
    exp.format = parse_hf_export_format(a.required("export-format"));
    exp.force = a.flag("force");
    exp.max_shard_bytes = uint64_t(a.get_int("export-shard-bytes", 5000000000LL, 1, INT64_MAX));
    check_export_target(exp.dir, exp.force);
  } else if (a.has("export-format")) {
    throw Error("--export-format needs --export DIR");
  }
  check_runs({spec});

  Feedback fb;
  ProgressLine line(fb);
  CancelOnSignal on_signal(fb);
  json out;
  ExperimentHooks hooks;
  hooks.on_quantized = [&](Model& model, const QuantResult& r) {
    out = r.to_json();
    if (!out_dir.empty()) save_quantized_artifacts(model, r, out_dir, spec.kv);
    if (!exp.dir.empty()) out["export"] = export_hf_checkpoint(hf_export_input(model, r, spec.kv.bits), exp);
  };
  json record;
  try {
    record = run_experiment(spec, &fb, &hooks);
  } catch (const Cancelled&) {  // abandoned: no artifacts, no record
    std::cout << json{{"cancelled", true}, {"signal", cancel_signal_name()}, {"run_id", spec.run_id()},
                      {"complete", false}, {"record", nullptr}}.dump()
              << std::endl;
    throw;
  }
  // The long-standing `ptq quantize` keys (QuantResult's), plus the record's measurements.
  const json& m = record["metrics"];
  const json& prov = record["provenance"];
  if (m.contains("ppl")) out["ppl"] = m["ppl"];
  if (m.contains("eval")) out["eval"] = m["eval"];
  for (const char* k : {"size", "tasks", "compare"})
    if (m.contains(k)) out[k] = m[k];
  if (!record["analyses"].empty()) out["analyses"] = record["analyses"];
  out["seconds"] = m["seconds"]["total"];
  out["peak_gpu_bytes"] = m["peak_gpu_bytes"];
  out["model"] = a.get("model", "");
  out["device"] = prov["device"];
  out["dtype"] = prov["dtype"];
  out["torch"] = prov["libtorch"];
  out["omp_wait_policy"] = omp_wait_policy_name();
  out["cuda"] = prov["cuda"];
  out["commit"] = prov["git_commit"];
  out["run_id"] = record["run_id"];
  if (!out_dir.empty()) write_json_atomic(join_path(out_dir, "result.json"), record);
  if (!results.empty()) out["record"] = write_record(results, record);
  std::cout << out.dump() << std::endl;
  return 0;
}

}  // namespace ptq::cli
