#pragma once
// The one skip/run/write loop over expanded experiment specs (torch-free: ptq_spec). `ptq sweep`
// and the GUI's job worker both run their specs through run_sweep; what runs one spec (the engine:
// eval/experiment/engine_runner.h, or a stand-in in tests) is passed in.
//
// Rules: a run whose complete record (<run_id>.json of the current schema) is in results_dir is
// skipped (unless skip_complete is off); a <run_id>.json that exists but is not complete fails
// the run ("pass --resume") unless `resume`, which redoes it; a record is written atomically when
// its run finishes and must carry the spec's run_id; a failed run is reported and the loop goes
// on; ptq::Cancelled stops it with nothing half written. Complete records are never rewritten.
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/runtime/feedback.h"
#include "eval/experiment/experiment_spec.h"

namespace ptq {

// Runs one spec and returns its complete record. Throws ptq::Error / ptq::Cancelled.
using RecordRunner = std::function<nlohmann::json(const ExperimentSpec& spec, Feedback& fb)>;

struct SweepEvent {
  size_t index = 0, total = 0;  // run index in the expanded list
  std::string run_id;
  std::string state;  // "skipped" (complete record exists), "started", "done", "failed"
  std::string error;  // for "failed"
  std::string path;   // the record's path for "done" and "skipped"
  int worker = -1;    // the device pool's worker that ran it (sweep_devices.h); -1 in run_sweep
  const nlohmann::json* record = nullptr;  // for "done"
};

// What became of one run of a sweep.
struct RunOutcome {
  enum State { Done, Skipped, Failed } state = Done;
  std::string run_id, error;
};

struct SweepSummary {
  size_t runs = 0, done = 0;
  std::vector<std::string> skipped;                           // run ids with a complete record already
  std::vector<std::pair<std::string, std::string>> failed;    // run id, error
  std::string results_dir;
  bool cancelled = false;  // stopped by ptq::Cancelled (only with SweepOptions::rethrow_cancel off)
  // {"runs", "done", "skipped", "skipped_runs", "failed": [{"run_id", "error"}], "results"}
  nlohmann::json to_json() const;
  void add(const RunOutcome& o);
};

struct SweepOptions {
  bool skip_complete = true;   // reuse complete records
  bool resume = false;         // redo runs whose <run_id>.json exists but is incomplete
  bool rethrow_cancel = true;  // false: a cancel ends the loop and sets SweepSummary::cancelled
};

// One run of a sweep under the rules above: skip, refuse, or run it and write its record; events go
// to `emit`. A failed run is returned as Failed; ptq::Cancelled propagates. run_sweep and the
// device pool (sweep_devices.h) share it.
RunOutcome run_sweep_entry(const ExperimentSpec& spec, size_t index, size_t total, const std::string& results_dir,
                           const RecordRunner& runner, const SweepOptions& options, Feedback& fb,
                           const std::function<void(const SweepEvent&)>& emit, int worker);

// `fb` reports the progress of the current run and carries the cancel request.
SweepSummary run_sweep(const std::vector<ExperimentSpec>& runs, const std::string& results_dir,
                       const RecordRunner& runner, const SweepOptions& options, Feedback& fb,
                       const std::function<void(const SweepEvent&)>& on_event = {});

}  // namespace ptq
