#include "eval/experiment/sweep_runner.h"

#include "core/records/json_util.h"
#include "core/records/result_store.h"
#include "core/runtime/errors.h"

namespace ptq {

namespace {

// Runs spec `i` and writes its record; throws what the runner throws, or ptq::Error when the
// record is not the spec's.
std::string run_one(const ExperimentSpec& spec, const std::string& id, const std::string& dir,
                    const RecordRunner& runner, Feedback& fb, nlohmann::json* record) {
  *record = runner(spec, fb);
  const std::string got = record->is_object() ? record->value("run_id", std::string()) : std::string();
  if (got != id)
    throw Error("the runner returned a record with run_id '" + got + "' for the spec of run '" + id +
                "'; nothing was written");
  return write_record(dir, *record);
}

}  // namespace

nlohmann::json SweepSummary::to_json() const {
  nlohmann::json f = nlohmann::json::array();
  for (const auto& p : failed) f.push_back({{"run_id", p.first}, {"error", p.second}});
  return {{"runs", runs}, {"done", done}, {"skipped", skipped.size()}, {"skipped_runs", skipped},
          {"failed", f}, {"results", results_dir}};
}

RunOutcome run_sweep_entry(const ExperimentSpec& spec, size_t i, size_t total, const std::string& results_dir,
                           const RecordRunner& runner, const SweepOptions& options, Feedback& fb,
                           const std::function<void(const SweepEvent&)>& emit, int worker) {
  SweepEvent ev;
  ev.index = i;
  ev.total = total;
  ev.worker = worker;
  try {
    fb.check();
    fb.set_stage_range(0.0, 1.0);
    ev.run_id = spec.run_id();
    if (ev.run_id.empty()) throw Error("run " + std::to_string(i + 1) + " has an empty run id");
    ev.path = join_path(results_dir, ev.run_id + ".json");
    if (options.skip_complete && record_complete(results_dir, ev.run_id)) {
      ev.state = "skipped";
      emit(ev);
      return {RunOutcome::Skipped, ev.run_id, ""};
    }
    if (file_exists(ev.path) && !options.resume)
      throw Error("'" + ev.path + "' exists but is not a complete record; pass --resume to redo the run");
    ev.state = "started";
    emit(ev);
    nlohmann::json record;
    ev.path = run_one(spec, ev.run_id, results_dir, runner, fb, &record);
    ev.state = "done";
    ev.record = &record;
    emit(ev);
    return {RunOutcome::Done, ev.run_id, ""};
  } catch (const Cancelled&) {
    throw;
  } catch (const std::exception& e) {
    ev.error = e.what();
    if (ev.error.empty()) ev.error = "unknown error";
    ev.state = "failed";
    ev.record = nullptr;
    emit(ev);
    return {RunOutcome::Failed, ev.run_id, ev.error};
  }
}

void SweepSummary::add(const RunOutcome& o) {
  if (o.state == RunOutcome::Done) ++done;
  if (o.state == RunOutcome::Skipped) skipped.push_back(o.run_id);
  if (o.state == RunOutcome::Failed) failed.emplace_back(o.run_id, o.error);
}

SweepSummary run_sweep(const std::vector<ExperimentSpec>& runs, const std::string& results_dir,
                       const RecordRunner& runner, const SweepOptions& options, Feedback& fb,
                       const std::function<void(const SweepEvent&)>& on_event) {
  if (!runner) throw Error("run_sweep: no runner given");
  ensure_results_dir(results_dir);
  remove_stale_temp_files(results_dir);
  SweepSummary sum;
  sum.runs = runs.size();
  sum.results_dir = results_dir;
  auto emit = [&](const SweepEvent& e) {
    if (on_event) on_event(e);
  };
  for (size_t i = 0; i < runs.size(); ++i) {
    try {
      sum.add(run_sweep_entry(runs[i], i, runs.size(), results_dir, runner, options, fb, emit, -1));
    } catch (const Cancelled&) {
      if (options.rethrow_cancel) throw;
      sum.cancelled = true;
      break;
    }
  }
  return sum;
}

}  // namespace ptq
