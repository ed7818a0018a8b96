// tasks (the spec's task files: multiple choice, LAMBADA) and lastword (the last-word task built from the eval text).
#include "eval/analyses/analysis_classes.h"
#include "eval/experiment/experiment.h"
#include "eval/tasks/tasks.h"

namespace ptq::analyses {

namespace {

void merge_tasks(ExperimentRun& r, const nlohmann::json& scores) {
  for (auto it = scores.begin(); it != scores.end(); ++it) r.metrics["tasks"][it.key()] = it.value();
}

class TasksAnalysis : public AnalysisSteps {
  static TaskOptions options(const ExperimentRun& r) {
    TaskOptions o;
    o.task_files = r.spec.task_files;
    o.num_fewshot = r.spec.fewshot.num;
    o.fewshot_files = r.spec.fewshot.files;
    return o;
  }

 public:
  void run(AnalysisStage stage, ExperimentRun& r) override {
    if (stage == AnalysisStage::Load) {
      check_task_files(options(r));  // fails now on a bad file, not after quantizing
      return;
    }
    TaskOptions o = options(r);
    merge_tasks(r, evaluate_tasks(*r.model, *r.tok, o, r.fb));
  }
};

class LastwordAnalysis : public AnalysisSteps {
  static TaskOptions options(const ExperimentRun& r) {
    TaskOptions o;
    o.lastword_text = r.spec.eval_text;
    return o;
  }

 public:
  void run(AnalysisStage stage, ExperimentRun& r) override {
    if (stage == AnalysisStage::Load) {
      check_task_files(options(r));
      return;
    }
    TaskOptions o = options(r);
    merge_tasks(r, evaluate_tasks(*r.model, *r.tok, o, r.fb));
  }
};

}  // namespace

std::unique_ptr<AnalysisSteps> make_tasks() { return std::make_unique<TasksAnalysis>(); }
std::unique_ptr<AnalysisSteps> make_lastword() { return std::make_unique<LastwordAnalysis>(); }

}  // namespace ptq::analyses
