#pragma once
// One experiment = one result record: load a checkpoint, optionally quantize it with a strategy
// pipeline, then measure (perplexity, model size, accuracy tasks, full-precision-vs-quantized
// output comparison, kurtosis). The CLI (`ptq run`, `ptq sweep`) and the GUI's job queue both call
// run_experiment, so they write identical records (schema: docs/results-schema.md).
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/runtime/feedback.h"
#include "eval/analyses/analysis_catalog.h"  // experiment_analyses(): the ids "analyses" may name
#include "quant/pipeline/calibration.h"
#include "quant/pipeline/quant_plan.h"

namespace ptq {

struct ExperimentSpec {
  std::string model_dir;
  std::string method = "fp";         // "fp" (no quantization) or a strategy id / composition ("awq+gptq")
  QuantPlan plan;                    // bits, group, format, sym, clip ratio, per-layer overrides
  nlohmann::json params = nlohmann::json::object();  // strategy parameters ("gptq.percdamp": 0.01)
  CalibSpec calib;                   // files empty: no calibration (rtn, rotate, fp)
  int64_t calib_batch = 8;
  std::string eval_text;             // perplexity text ("" = none)
  int64_t eval_seqlen = 2048;
  int64_t eval_max_windows = 0;      // 0 = all windows
  int64_t eval_batch = 4;            // windows per forward pass (not part of the run's identity)
  // Extra measurements (eval/analyses/analysis_catalog.h): "compare" (fp vs quantized outputs on
  // eval_text), "kurtosis" (on the calibration text), "lastword" (last-word task built from
  // eval_text), "token_kl". Size is always measured; perplexity whenever there is an eval text.
  std::vector<std::string> analyses;
  std::vector<std::string> task_files;  // lm-eval-style multiple-choice JSONL files
  std::string device = "cpu";
  std::string dtype = "float32";
  std::string residency = "auto";
  std::string label;                 // free text shown in tables ("calib=austen")
  uint64_t seed = 0;                 // the strategy's own randomness (rotation); calib.seed draws windows

  // Deterministic, file-name-safe identity of the run: model, method, bits, group, format,
  // calibration and a short hash of every other setting. Two specs with the same run_id are the
  // same experiment (sweep --resume relies on it).
  std::string run_id() const;
  nlohmann::json to_json() const;
  // Throws ptq::Error naming an unknown key or a bad value. JSON keys: docs/results-schema.md
  // ("The experiment spec").
  static ExperimentSpec from_json(const nlohmann::json& j);
  // Checks values and combinations (method, format, bits, analyses that need an eval text or
  // calibration); from_json calls it. Throws ptq::Error naming the key.
  void validate() const;
  // Makes relative paths (model, calibration files, eval text, task files) absolute against
  // base_dir (itself taken against the working directory when relative).
  void resolve_paths(const std::string& base_dir);
};

class Model;
struct QuantResult;

// Optional hooks into a run. on_quantized: after quantization and every measurement, with the
// quantized model and its result (cmd_quantize saves the artifacts there).
struct ExperimentHooks {
  std::function<void(Model&, const QuantResult&)> on_quantized;
};

// Runs the experiment and returns its complete record (not written: see result_store.h).
// Throws ptq::Error / ptq::Cancelled; nothing is written on failure.
nlohmann::json run_experiment(const ExperimentSpec& spec, Feedback* fb = nullptr, const ExperimentHooks* hooks = nullptr);

}  // namespace ptq
