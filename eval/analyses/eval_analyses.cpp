// compare and perplexity: the eval text's windows through the recorded model.
#include "core/model/model.h"
#include "eval/analyses/analysis_classes.h"
#include "eval/experiment/experiment.h"
#include "eval/metrics/output_compare.h"
#include "eval/metrics/perplexity.h"

namespace ptq::analyses {

namespace {

// Before quantization: the full-precision reference; after: the comparison, whose ppl_q is the
// record's perplexity (the perplexity analysis then only describes the windows).
class CompareAnalysis : public AnalysisSteps {
 public:
  void run(AnalysisStage stage, ExperimentRun& r) override {
    if (stage == AnalysisStage::BeforeQuantization) {
      reference_ = capture_reference(*r.model, r.eval_windows, r.spec.eval_batch, r.fb);
      return;
    }
    nlohmann::json c = compare_with_reference(*r.model, reference_, r.eval_windows, r.spec.eval_batch, r.fb);
    reference_ = FpReference();
    r.metrics["ppl"] = c["ppl_q"];
    r.metrics["compare"] = c;
  }

 private:
  FpReference reference_;
};

class PerplexityAnalysis : public AnalysisSteps {
 public:
  void run(AnalysisStage, ExperimentRun& r) override {
    const ExperimentSpec& s = r.spec;
    if (!r.metrics.contains("ppl")) {
      PplOptions po;
      po.seqlen = s.eval_seqlen;
      po.max_windows = s.eval_max_windows;
      po.batch = s.eval_batch;
      r.metrics["ppl"] = perplexity(*r.model, r.eval_ids, po, r.fb).ppl;
    }
    r.metrics["eval"] = {{"text", s.eval_text}, {"seqlen", s.eval_seqlen}, {"windows", r.eval_windows.size(0)},
                         {"tokens", r.eval_windows.numel()}};
  }
};

}  // namespace

std::unique_ptr<AnalysisSteps> make_compare() { return std::make_unique<CompareAnalysis>(); }
std::unique_ptr<AnalysisSteps> make_perplexity() { return std::make_unique<PerplexityAnalysis>(); }

}  // namespace ptq::analyses
