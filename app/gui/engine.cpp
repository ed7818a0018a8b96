#include "app/gui/engine.h"

#include "core/model/model_summary.h"
#include "eval/experiment/engine_runner.h"
#include "eval/experiment/experiment.h"
#include "eval/experiment/sweep_validation.h"
#include "quant/export/hf_export.h"

namespace ptq::gui {

namespace {

// The run's record as the engine writes it, and on the way (after quantization and the run's
// measurements) its model exported as a checkpoint folder; the format is parsed and the target
// checked when the job is created, so a bad choice fails before any work.
ptq::RecordRunner export_runner(const std::string& dir, const std::string& format) {
  ptq::HfExportOptions opts;
  opts.dir = dir;
  opts.format = ptq::parse_hf_export_format(format);
  ptq::check_export_target(dir, false);
  return [opts](const ptq::ExperimentSpec& spec, ptq::Feedback& fb) {
    ptq::check_export_target(opts.dir, false);  // again: something may have been written there since
    ptq::ExperimentHooks hooks;
    hooks.on_quantized = [&](ptq::Model& m, const ptq::QuantResult& r) {
      ptq::export_hf_checkpoint(ptq::hf_export_input(m, r, spec.kv.enabled() ? spec.kv.bits : 0), opts);
    };
    return ptq::run_experiment(spec, &fb, &hooks);
  };
}

}  // namespace

views::JobEngine engineForJobs() {
  return {ptq::engine_runner(), ptq::resolve_device, export_runner, ptq::visible_cuda_devices()};
}

views::ModelLibraryPanel::CheckpointReader checkpointReader() { return ptq::summarize_checkpoint; }

QString runProblems(const std::vector<nlohmann::json>& specs) {
  std::vector<ptq::ExperimentSpec> runs;
  for (const auto& s : specs) runs.push_back(ptq::ExperimentSpec::from_json(s));
  QStringList lines;
  for (const auto& p : ptq::run_problems(runs)) {
    QString line = QString::fromStdString(p.problem);
    if (runs.size() > 1 && !p.run_ids.empty())
      line += QObject::tr(" (%n run(s), first %1)", "", int(p.run_ids.size())).arg(QString::fromStdString(p.run_ids.front()));
    lines << line;
  }
  return lines.join('\n');
}

}  // namespace ptq::gui
