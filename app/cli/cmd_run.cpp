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
int cmd_run(const std::vector<std::string>& argv) {
  Args a(argv, {"results"}, {"force"});
  if (a.positional().size() != 1) throw Error("usage: ptq run SPEC.json [--results DIR] [--force]");
  const std::string spec_path = a.positional()[0];
  ExperimentSpec spec;
  try {
    spec = ExperimentSpec::from_json(read_json_file(spec_path));
  } catch (const Error& e) {
    throw Error("'" + spec_path + "': " + e.what());
  }
  spec.resolve_paths(parent_dir(spec_path));
  const std::string results = a.get("results", "");
  if (!results.empty()) {
    ensure_results_dir(results);
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
  if (!results.empty()) std::cerr << "record: " << write_record(results, record) << std::endl;
  std::cout << record.dump() << std::endl;
  return 0;
}

}  // namespace ptq::cli
