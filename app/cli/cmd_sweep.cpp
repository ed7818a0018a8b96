#include <algorithm>
#include <iostream>

#include "app/cli/args.h"
#include "app/cli/cancel_signals.h"
#include "app/cli/cmd_sweep_slurm.h"
#include "app/cli/commands.h"
#include "app/cli/progress_line.h"
#include "core/records/json_util.h"
#include "core/records/result_store.h"
#include "core/runtime/errors.h"
#include "eval/experiment/engine_runner.h"
#include "eval/experiment/sweep.h"
#include "eval/experiment/sweep_devices.h"
#include "eval/experiment/sweep_runner.h"
#include "eval/experiment/sweep_validation.h"

namespace ptq::cli {

namespace {

// What the sweep's events said, for the summary of a sweep cancelled by a signal.
struct SweepLog {
  std::vector<std::string> done, skipped, failed;
  std::vector<std::string> running;  // started, neither done nor failed (one per device)

  void note(const SweepEvent& e) {
    if (e.state == "started") running.push_back(e.run_id);
    if (e.state == "done") done.push_back(e.run_id);
    if (e.state == "skipped") skipped.push_back(e.run_id);
    if (e.state == "failed") failed.push_back(e.run_id);
    if (e.state != "started") running.erase(std::remove(running.begin(), running.end(), e.run_id), running.end());
  }

  json cancelled_summary(const std::vector<ExperimentSpec>& runs, const std::string& results) const {
    json not_run = json::array();
    for (const auto& r : runs) {
      const std::string id = r.run_id();
      auto in = [&](const std::vector<std::string>& v) { return std::find(v.begin(), v.end(), id) != v.end(); };
      if (!in(done) && !in(skipped) && !in(failed) && !in(running)) not_run.push_back(id);
    }
    json abandoned = running.empty() ? json(nullptr) : running.size() == 1 ? json(running[0]) : json(running);
    return {{"runs", runs.size()}, {"done", done.size()}, {"done_runs", done}, {"skipped", skipped.size()},
            {"skipped_runs", skipped}, {"failed_runs", failed}, {"results", results}, {"cancelled", true},
            {"signal", cancel_signal_name()}, {"abandoned", abandoned},
            {"not_run", not_run}};
  }
};

// The devices the runs go on, one run per device at a time: --devices LIST | all, else every
// visible GPU for runs on CUDA and one worker for runs on the CPU.
std::vector<std::string> sweep_devices(const Args& a, const std::vector<ExperimentSpec>& runs) {
  if (runs.empty()) return {};
  std::string kind = resolve_device(runs.front().device);
  for (const auto& r : runs)
    if ((resolve_device(r.device).rfind("cuda", 0) == 0) != (kind.rfind("cuda", 0) == 0))
      throw Error("the sweep's runs ask for CPU and CUDA devices at once; run them as two sweeps");
  const std::string list = a.get("devices", "");
  if (list == "all" || (list.empty() && kind.rfind("cuda", 0) == 0)) {
    if (kind == "cpu") throw Error("--devices all: the runs are on the CPU; name CPU workers ('cpu,cpu')");
    std::vector<std::string> all = visible_cuda_devices();
    if (all.empty()) throw Error("--devices all: this process sees no CUDA device");
    return all;
  }
  if (list.empty()) return {kind};
  return parse_device_list(list, kind);
}

}  // namespace

// ptq sweep SPEC.json --results DIR [--devices LIST|all] [--resume] [--dry-run]: checks every run that has no complete
// record yet (sweep_validation.h), runs them, prints the summary; exit 2 when a run failed.
// SIGINT / SIGTERM: the current run is abandoned (no record), the summary says what completed and
// what did not, exit 130 / 143 (cancel_signals.h); --resume goes on from there.
int cmd_sweep(const std::vector<std::string>& argv) {
  Args a(argv, {"results", "devices", "partition", "gpus-per-run", "cpus-per-run", "time", "array-limit", "account", "sbatch-arg"},
         {"resume", "dry-run", "slurm", "status", "cancel"}, {"sbatch-arg"});
  if (a.positional().size() != 1)
    throw Error("usage: ptq sweep SPEC.json --results DIR [--devices LIST|all] [--resume] [--dry-run] [--slurm [slurm options] | --status | --cancel]");
  const std::string spec_path = a.positional()[0];
  if (wants_slurm(a)) return sweep_on_slurm(a, spec_path);
  for (const char* k : {"partition", "gpus-per-run", "cpus-per-run", "time", "array-limit", "account", "sbatch-arg"})
    if (a.has(k)) throw Error(std::string("--") + k + " goes with --slurm");
  SweepSpec sweep;
  try {
    sweep = SweepSpec::load(spec_path);
  } catch (const Error& e) {
    throw Error("'" + spec_path + "': " + e.what());
  }
  std::vector<ExperimentSpec> runs = sweep.expand();
  const std::vector<std::string> devices = sweep_devices(a, runs);
  if (a.flag("dry-run")) {
    json list = json::array();
    for (const auto& r : runs) list.push_back({{"run_id", r.run_id()}, {"spec", r.to_json()}});
    std::cout << json{{"runs", list}}.dump() << std::endl;
    return 0;
  }
  const std::string results = a.required("results");
  std::vector<ExperimentSpec> pending;
  for (const auto& r : runs)
    if (!record_complete(results, r.run_id())) pending.push_back(r);
  try {
    check_runs(pending);
  } catch (const Error& e) {
    throw Error("'" + spec_path + "': " + e.what());
  }
  Feedback fb;
  ProgressLine line(fb);
  CancelOnSignal on_signal(fb);
  SweepLog log;
  SweepSummary sum;
  SweepOptions options;
  options.resume = a.flag("resume");
  options.rethrow_cancel = true;  // the summary below, then exit 130 / 143
  try {
    auto on_event = [&](const SweepEvent& e) {
      log.note(e);
      std::string what = e.state == "failed" ? "failed: " + e.error : e.state;
      if (e.state == "skipped") what += " (complete record exists)";
      if (e.worker >= 0 && e.state == "started") what += " on " + devices[size_t(e.worker)];
      std::cerr << "\r[" << e.index + 1 << "/" << e.total << "] " << e.run_id << ": " << what << std::endl;
    };
    if (devices.size() <= 1) {
      sum = run_sweep(runs, results, engine_runner(a.has("devices") ? devices.front() : ""), options, fb, on_event);
    } else {
      std::vector<DeviceWorker> workers;
      for (const auto& d : devices) workers.push_back({d, engine_runner(d)});
      sum = run_sweep_on_devices(runs, results, workers, options, fb, on_event);
    }
  } catch (const Cancelled&) {
    const json s = log.cancelled_summary(runs, results);
    std::cerr << "\rcancelled: " << s["done"] << " run(s) completed, " << s["skipped"] << " skipped, "
              << log.running.size() << " abandoned (no record), "
              << s["not_run"].size() << " not run; `--resume` goes on from here" << std::endl;
    std::cout << s.dump() << std::endl;
    throw;
  }
  std::cout << sum.to_json().dump() << std::endl;
  return sum.failed.empty() ? 0 : 2;
}

}  // namespace ptq::cli
