#pragma once
// A sweep: the cross product of models × methods × bits × groups × formats × sym × calibration
// sets, each an ExperimentSpec, run one after another into a results directory (one record per
// run, written atomically as it finishes). `ptq sweep` and the GUI's sweep builder use this code.
//
// Expansion rules: "fp" runs once per model (not per bits/group/calibration; with the first
// calibration set attached only when kurtosis or token_kl asks for calibration text); methods
// that need no calibration (rtn, rotate) run once, without calibration, per quantization setting;
// codebook formats (nf4, fp4, fp8_*) ignore bits and sym, so they run once per group. "compare"
// is dropped for fp runs and token_kl for runs without calibration. Duplicates (same run_id) run once.
// `params` go to the runs whose method has them ("awq.grid" to methods with awq, a plain "percdamp"
// to methods with a stage that has it); a key no method uses is an error.
//
// Spec keys (docs/results-schema.md, "Sweep spec"); relative paths are resolved against the
// folder of the spec file.
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/runtime/feedback.h"
#include "eval/experiment/experiment.h"

namespace ptq {

struct SweepCalibration {
  std::string name;  // shown in labels; defaults to the first file's stem
  std::vector<std::string> files;
  int64_t nsamples = 128;
  int64_t seqlen = 2048;
  std::string sampling = "random";
  uint64_t seed = 0;
  int64_t batch = 8;
};

struct SweepSpec {
  std::vector<std::string> models;
  std::vector<std::string> methods;  // strategy ids / compositions, or "fp"
  std::vector<int> bits = {4};
  std::vector<int64_t> groups = {128};
  std::vector<std::string> formats = {"int"};
  std::vector<bool> sym = {false};
  std::vector<SweepCalibration> calibrations;
  std::string eval_text;
  int64_t eval_seqlen = 2048, eval_max_windows = 0, eval_batch = 4;
  std::vector<std::string> analyses;
  std::vector<std::string> task_files;
  nlohmann::json params = nlohmann::json::object();
  nlohmann::json overrides = nlohmann::json::array();  // as in the experiment spec
  std::string device = "cpu", dtype = "float32", residency = "auto";
  uint64_t seed = 0;

  // Throws ptq::Error naming an unknown key (listing the allowed ones) or a bad value (listing the
  // allowed values). Relative paths are resolved against base_dir ("" keeps them as written).
  static SweepSpec from_json(const nlohmann::json& j, const std::string& base_dir = "");
  static SweepSpec load(const std::string& path);
  // Every run, validated (ExperimentSpec::validate), in a stable order.
  std::vector<ExperimentSpec> expand() const;
};

struct SweepEvent {
  size_t index = 0, total = 0;  // run index in the expanded list
  std::string run_id;
  std::string state;  // "skipped" (complete record exists), "started", "done", "failed"
  std::string error;  // for "failed"
  std::string path;   // the record's path for "done" and "skipped"
  const nlohmann::json* record = nullptr;  // for "done"
};

struct SweepSummary {
  size_t runs = 0, done = 0;
  std::vector<std::string> skipped;                           // run ids with a complete record already
  std::vector<std::pair<std::string, std::string>> failed;    // run id, error
  std::string results_dir;
  // {"runs", "done", "skipped", "skipped_runs", "failed": [{"run_id", "error"}], "results"}
  nlohmann::json to_json() const;
};

// Runs every spec whose complete record is not yet in results_dir, writing each record as it
// finishes; a failed run is reported and the sweep goes on (ptq::Cancelled stops it). A run whose
// <run_id>.json exists but is not a complete record fails ("pass --resume") unless `resume`, which
// redoes it. Complete records are never rewritten. `fb` reports the progress of the current run.
SweepSummary run_sweep(const std::vector<ExperimentSpec>& runs, const std::string& results_dir, bool resume,
                       Feedback* fb = nullptr, const std::function<void(const SweepEvent&)>& on_event = {});

}  // namespace ptq
