#include <iostream>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "app/cli/progress_line.h"
#include "core/runtime/errors.h"
#include "core/records/json_util.h"
#include "eval/experiment/engine_runner.h"
#include "eval/experiment/sweep.h"
#include "eval/experiment/sweep_runner.h"

namespace ptq::cli {

// ptq sweep SPEC.json --results DIR [--resume] [--dry-run]: runs every experiment of the sweep
// (skipping those with a complete record in DIR), prints the summary; exit 2 when a run failed.
int cmd_sweep(const std::vector<std::string>& argv) {
  Args a(argv, {"results"}, {"resume", "dry-run"});
  if (a.positional().size() != 1) throw Error("usage: ptq sweep SPEC.json --results DIR [--resume] [--dry-run]");
  const std::string spec_path = a.positional()[0];
  SweepSpec sweep;
  try {
    sweep = SweepSpec::load(spec_path);
  } catch (const Error& e) {
    throw Error("'" + spec_path + "': " + e.what());
  }
  std::vector<ExperimentSpec> runs = sweep.expand();
  if (a.flag("dry-run")) {
    json list = json::array();
    for (const auto& r : runs) list.push_back({{"run_id", r.run_id()}, {"spec", r.to_json()}});
    std::cout << json{{"runs", list}}.dump() << std::endl;
    return 0;
  }
  const std::string results = a.required("results");
  Feedback fb;
  ProgressLine line(fb);
  SweepOptions options;
  options.resume = a.flag("resume");
  SweepSummary sum = run_sweep(runs, results, engine_runner(), options, fb, [](const SweepEvent& e) {
    std::string what = e.state == "failed" ? "failed: " + e.error : e.state;
    if (e.state == "skipped") what += " (complete record exists)";
    std::cerr << "\r[" << e.index + 1 << "/" << e.total << "] " << e.run_id << ": " << what << std::endl;
  });
  std::cout << sum.to_json().dump() << std::endl;
  return sum.failed.empty() ? 0 : 2;
}

}  // namespace ptq::cli
