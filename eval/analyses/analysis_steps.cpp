#include "eval/analyses/analysis_steps.h"

#include <algorithm>
#include <map>

#include "core/runtime/errors.h"
#include "eval/analyses/analysis_classes.h"
#include "eval/experiment/experiment.h"

namespace ptq {

using Factory = std::unique_ptr<AnalysisSteps> (*)();

namespace {

const std::map<std::string, Factory>& factories() {
  static const std::map<std::string, Factory> f = {
      {"size", analyses::make_size},         {"compare", analyses::make_compare},
      {"kurtosis", analyses::make_kurtosis}, {"perplexity", analyses::make_perplexity},
      {"tasks", analyses::make_tasks},       {"lastword", analyses::make_lastword},
      {"token_kl", analyses::make_token_kl}, {"samples", analyses::make_samples},
      {"outliers", analyses::make_outliers}, {"quant_grid", analyses::make_quant_grid},
      {"column_error", analyses::make_column_error}, {"divergence", analyses::make_divergence},
  };
  return f;
}

}  // namespace

std::unique_ptr<AnalysisSteps> make_analysis_steps(const std::string& id) {
  auto it = factories().find(id);
  if (it == factories().end()) throw Error("analysis '" + id + "' is in the catalog but has no steps");
  return it->second();
}

bool analysis_enabled(const AnalysisInfo& a, const ExperimentSpec& spec) {
  switch (a.trigger) {
    case AnalysisTrigger::Always: return true;
    case AnalysisTrigger::EvalText: return !spec.eval_text.empty();
    case AnalysisTrigger::TaskFiles: return !spec.task_files.empty();
    case AnalysisTrigger::Samples: return spec.samples.enabled();
    default: return std::find(spec.analyses.begin(), spec.analyses.end(), a.id) != spec.analyses.end();
  }
}

}  // namespace ptq
