// tasks (the spec's task files) and lastword (the last-word task built from the eval text).
#include "core/records/json_util.h"
#include "core/runtime/errors.h"
#include "eval/analyses/analysis_classes.h"
#include "eval/experiment/experiment.h"
#include "eval/tasks/mc_tasks.h"
#include "eval/tasks/tasks.h"

namespace ptq::analyses {

namespace {

void merge_tasks(ExperimentRun& r, const nlohmann::json& scores) {
  for (auto it = scores.begin(); it != scores.end(); ++it) r.metrics["tasks"][it.key()] = it.value();
}

class TasksAnalysis : public AnalysisSteps {
 public:
  void run(AnalysisStage stage, ExperimentRun& r) override {
    if (stage == AnalysisStage::Load) {
      for (const auto& f : r.spec.task_files) load_mc_task(f);  // fails now on a bad file, not after quantizing
      return;
    }
    TaskOptions o;
    o.task_files = r.spec.task_files;
    merge_tasks(r, evaluate_tasks(*r.model, *r.tok, o, r.fb));
  }
};

class LastwordAnalysis : public AnalysisSteps {
 public:
  void run(AnalysisStage stage, ExperimentRun& r) override {
    if (stage == AnalysisStage::Load) {
      try {
        make_lambada_items(read_text_file(r.spec.eval_text));
      } catch (const Error& e) {
        throw Error("last-word task from '" + r.spec.eval_text + "': " + e.what());
      }
      return;
    }
    TaskOptions o;
    o.lambada_text = r.spec.eval_text;
    merge_tasks(r, evaluate_tasks(*r.model, *r.tok, o, r.fb));
  }
};

}  // namespace

std::unique_ptr<AnalysisSteps> make_tasks() { return std::make_unique<TasksAnalysis>(); }
std::unique_ptr<AnalysisSteps> make_lastword() { return std::make_unique<LastwordAnalysis>(); }

}  // namespace ptq::analyses
