#include "app/cli/cmd_sweep_slurm.h"

#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <iomanip>
#include <iostream>

#include "core/records/json_util.h"
#include "core/records/result_store.h"
#include "core/runtime/errors.h"
#include "eval/experiment/json_fields.h"
#include "eval/experiment/slurm_backend.h"
#include "eval/experiment/sweep.h"
#include "eval/experiment/sweep_validation.h"

namespace ptq::cli {

namespace {

std::string real_path(const std::string& p, const std::string& what) {
  char buf[PATH_MAX];
  if (!::realpath(p.c_str(), buf)) throw Error(what + " '" + p + "' does not exist");
  return buf;
}

// This very executable: the tasks run the same build (the cluster shares the filesystem).
std::string own_executable() {
  char buf[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) throw Error("cannot find the ptq executable's path (/proc/self/exe) for the Slurm tasks");
  return std::string(buf, size_t(n));
}

SlurmOptions slurm_options(const Args& a) {
  SlurmOptions o;
  o.partition = a.get("partition", "");
  o.account = a.get("account", "");
  o.time = a.get("time", "");
  o.gpus_per_run = int(a.get_int("gpus-per-run", -1, 0, 64));
  o.cpus_per_run = int(a.get_int("cpus-per-run", 0, 1, 4096));
  o.array_limit = int(a.get_int("array-limit", 0, 1, 1000000));
  o.sbatch_args = a.all("sbatch-arg");
  o.resume = a.flag("resume");
  o.ptq = own_executable();
  return o;
}

void print_status(const SlurmStatus& st) {
  std::cerr << "sweep " << st.sweep_id << " (" << st.runs.size() << " runs; jobs";
  for (const auto& j : st.job_ids) std::cerr << " " << j;
  std::cerr << (st.job_ids.empty() ? " none" : "") << ")\n";
  for (const auto& r : st.runs) {
    std::cerr << "  " << std::left << std::setw(14) << r.state << std::setw(12) << (r.job.empty() ? "-" : r.job) << r.run_id;
    if (!r.detail.empty()) std::cerr << "  [" << r.detail << "]";
    if (r.state != "complete" && !r.log.empty()) std::cerr << "  log: " << r.log;
    std::cerr << "\n";
  }
  if (!st.notes.empty()) std::cerr << "  note: " << st.notes << "\n";
  std::cerr << std::flush;
}

int submit(const Args& a, const std::vector<ExperimentSpec>& runs, const std::string& results,
           const std::string& spec_path) {
  const SlurmOptions o = slurm_options(a);
  const SlurmPlan plan = plan_slurm(runs, results, o);
  json out = plan.to_json();
  if (plan.runs.empty()) {
    std::cerr << "nothing to submit: " << plan.complete.size() << " run(s) complete, " << plan.queued.size()
              << " still queued" << std::endl;
    out["submitted"] = false;
    std::cout << out.dump() << std::endl;
    return 0;
  }
  try {
    check_runs(plan.runs);
  } catch (const Error& e) {
    throw Error("'" + spec_path + "': " + e.what());
  }
  if (a.flag("dry-run")) {
    write_slurm_files(plan);
    std::cerr << "# " << plan.script_path << "\n" << plan.script << "# " << plan.list_path << "\n";
    for (const auto& r : plan.runs) std::cerr << r.to_json().dump() << "\n";
    std::cerr << "# not submitted (--dry-run): " << join_words(plan.sbatch_argv, " ") << std::endl;
    out["submitted"] = false;
    out["dry_run"] = true;
    out["script_text"] = plan.script;
    std::cout << out.dump() << std::endl;
    return 0;
  }
  const SlurmSubmission sub = submit_slurm(plan);
  std::cerr << "submitted job " << sub.job_id << ": " << sub.run_ids.size() << " run(s) as array tasks 0-"
            << sub.run_ids.size() - 1 << " (" << plan.complete.size() << " complete, " << plan.queued.size()
            << " still queued, skipped); logs in " << join_path(plan.dir, "logs") << std::endl;
  out["submitted"] = true;
  out["job_id"] = sub.job_id;
  std::cout << out.dump() << std::endl;
  return 0;
}

}  // namespace

bool wants_slurm(const Args& a) { return a.flag("slurm") || a.flag("status") || a.flag("cancel"); }

// ptq sweep SPEC --results DIR --slurm [--partition P] [--gpus-per-run G] [--cpus-per-run C]
// [--time T] [--array-limit K] [--account A] [--sbatch-arg OPT]... [--resume] [--dry-run];
// ptq sweep SPEC --results DIR --status | --cancel.
int sweep_on_slurm(const Args& a, const std::string& spec_path) {
  if (int(a.flag("slurm")) + int(a.flag("status")) + int(a.flag("cancel")) != 1)
    throw Error("ptq sweep: give one of --slurm, --status and --cancel");
  if (!a.flag("slurm"))
    for (const char* k : {"partition", "gpus-per-run", "cpus-per-run", "time", "array-limit", "account", "sbatch-arg"})
      if (a.has(k)) throw Error(std::string("--") + k + " goes with --slurm");
  SweepSpec sweep;
  const std::string abs_spec = real_path(spec_path, "sweep spec");
  try {
    sweep = SweepSpec::load(abs_spec);
  } catch (const Error& e) {
    throw Error("'" + spec_path + "': " + e.what());
  }
  const std::vector<ExperimentSpec> runs = sweep.expand();
  const std::string given = a.required("results");
  if (a.flag("slurm")) {
    ensure_results_dir(given);
    return submit(a, runs, real_path(given, "results directory"), spec_path);
  }
  const std::string results = real_path(given, "results directory");
  if (a.flag("cancel")) {
    const auto jobs = slurm_cancel(runs, results);
    std::cerr << (jobs.empty() ? "nothing to cancel: no task of the sweep is queued" : "scancel " + join_words(jobs, " "))
              << std::endl;
    std::cout << json{{"sweep_id", slurm_sweep_id(runs)}, {"cancelled_jobs", jobs}}.dump() << std::endl;
    return 0;
  }
  const SlurmStatus st = slurm_status(runs, results);
  print_status(st);
  std::cout << st.to_json().dump() << std::endl;
  return 0;
}

}  // namespace ptq::cli
