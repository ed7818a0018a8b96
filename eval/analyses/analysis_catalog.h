#pragma once
// The one table of the measurements an experiment can make (as quant/strategy_registry.h is for
// strategies): id, what each needs, in which stages of a run it works, and what it writes into the
// result record. Torch-free: the spec validation and the GUI's forms read it. The engine binds each
// id to its steps in eval/analyses/analysis_steps.h; the driver (eval/experiment/experiment.cpp)
// runs the stages in order: load -> before quantization -> quantization -> after quantization ->
// record.
//
// Adding an analysis: one row here, its steps (a class in eval/analyses/) bound to the id in
// analysis_steps.cpp, and its view (views/analyses/).
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ptq {

enum class AnalysisStage {
  Load,                // after the model, tokenizer and texts are loaded: check inputs, fail fast
  BeforeQuantization,  // on the full-precision model (reference captures, fp kurtosis)
  DuringQuantization,  // inside the pipeline, on each block after its transforms, before its quantizer
  AfterQuantization,   // on the model as it will be recorded (quantized, or fp for a baseline)
};
const char* analysis_stage_name(AnalysisStage s);

// What an analysis needs; the spec validation refuses a spec that cannot provide it.
enum AnalysisNeed : unsigned {
  kNeedsEvalText = 1u << 0,         // eval.text, tokenized into the perplexity windows
  kNeedsCalibration = 1u << 1,      // the calibration windows the run draws (calibration.files)
  kNeedsCalibOrEvalText = 1u << 2,  // the calibration windows, else the eval windows
  kNeedsQuantized = 1u << 3,        // a method other than fp
  kNeedsFpReference = 1u << 4,      // captures from the full-precision model before quantization
  kNeedsTaskFiles = 1u << 5,        // "tasks" files
};

// When an analysis runs: named in the spec's "analyses", or implied by the spec.
// Samples: the spec's "samples" key (eval/generation/samples_spec.h).
enum class AnalysisTrigger { Listed, Always, EvalText, TaskFiles, Samples };

struct AnalysisStep {
  AnalysisStage stage;
  std::string seconds;  // metrics.seconds key its time adds to ("" = not timed)
  double progress = 0;  // share of the job's progress bar (relative weight)
};

struct AnalysisInfo {
  std::string id, label, description;
  AnalysisTrigger trigger = AnalysisTrigger::Listed;
  unsigned needs = 0;               // AnalysisNeed bits
  std::vector<AnalysisStep> steps;  // in stage order
  std::vector<std::string> writes;  // record paths it fills ("metrics.compare", "analyses.kurtosis")
  bool runs_in(AnalysisStage s) const;
  nlohmann::json to_json() const;
};

// Every analysis, in the order the driver runs them within a stage.
const std::vector<AnalysisInfo>& analysis_catalog();
// Throws ptq::Error listing the ids.
const AnalysisInfo& find_analysis(const std::string& id);
// The ids a spec may name in "analyses" (Listed and Always ones), in catalog order.
const std::vector<std::string>& experiment_analyses();

// What a spec offers an analysis; "" when its needs are met, else the problem ("needs an eval text").
struct AnalysisInputs {
  bool eval_text = false, calibration = false, quantized = false, task_files = false;
};
std::string unmet_needs(const AnalysisInfo& a, const AnalysisInputs& in);

}  // namespace ptq
