#include <iostream>

#include "app/cli/args.h"
#include "app/cli/cancel_signals.h"
#include "app/cli/commands.h"
#include "app/cli/progress_line.h"
#include "core/runtime/errors.h"
#include "core/records/json_util.h"
#include "core/records/result_store.h"
#include "eval/experiment/experiment.h"
#include "eval/experiment/json_fields.h"
#include "eval/experiment/sweep_validation.h"

namespace ptq::cli {

// ptq run SPEC.json [--results DIR]: one experiment from a JSON ExperimentSpec (relative paths in
// it are relative to the spec's folder); prints the record and writes it to DIR when given.
// --skip-complete (a Slurm array task, eval/experiment/slurm_backend.h): when DIR already holds
// the run's complete record, or another process completes it meanwhile, nothing is run or
// rewritten: it prints {"run_id", "skipped": true, "record"} and exits 0.
int cmd_run(const std::vector<std::string>& argv) {
  Args a(argv, {"results"}, {"force", "skip-complete"});
  if (a.positional().size() != 1)
    throw Error("usage: ptq run SPEC.json [--results DIR] [--force | --skip-complete]");
  const std::string spec_path = a.positional()[0];
  ExperimentSpec spec;
  try {
    spec = ExperimentSpec::from_json(read_json_file(spec_path));
  } catch (const Error& e) {
    throw Error("'" + spec_path + "': " + e.what());
  }
  spec.resolve_paths(parent_dir(spec_path));
  const std::string results = a.get("results", "");
  const bool skip_complete = a.flag("skip-complete");
  if (skip_complete && (results.empty() || a.flag("force")))
    throw Error("--skip-complete needs --results DIR and cannot go with --force");
  auto skipped = [&] {
    const std::string path = join_path(results, spec.run_id() + ".json");
    std::cerr << "complete record exists, nothing to do: " << path << std::endl;
    std::cout << json{{"run_id", spec.run_id()}, {"skipped", true}, {"record", path}}.dump() << std::endl;
    return 0;
  };
  if (!results.empty()) {
    ensure_results_dir(results);
    if (skip_complete && record_complete(results, spec.run_id())) return skipped();
    if (record_complete(results, spec.run_id()) && !a.flag("force"))
      throw Error("'" + join_path(results, spec.run_id() + ".json") +
                  "' already holds this run's complete record (pass --force to redo it)");
  }
  try {
    check_runs({spec});
  } catch (const Error& e) {
    throw Error("'" + spec_path + "': " + e.what());
  }
  Feedback fb;
  ProgressLine line(fb);
  CancelOnSignal on_signal(fb);
  json record;
  try {
    record = run_experiment(spec, &fb);
  } catch (const Cancelled&) {  // abandoned: no record written
    std::cout << json{{"cancelled", true}, {"signal", cancel_signal_name()}, {"run_id", spec.run_id()},
                      {"complete", false}, {"record", nullptr}}.dump()
              << std::endl;
    throw;
  }
  if (skip_complete && record_complete(results, spec.run_id())) return skipped();  // finished elsewhere meanwhile
  if (!results.empty()) std::cerr << "record: " << write_record(results, record) << std::endl;
  std::cout << record.dump() << std::endl;
  return 0;
}

}  // namespace ptq::cli
