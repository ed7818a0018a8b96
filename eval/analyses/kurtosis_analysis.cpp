// kurtosis: of the full-precision model before quantization, and of each block after the
// method's transforms (AWQ scales, rotation) through the pipeline's after_transform hook.
#include "core/model/model.h"
#include "eval/analyses/analysis_classes.h"
#include "eval/experiment/experiment.h"
#include "eval/metrics/kurtosis.h"
#include "quant/pipeline/block_stage.h"

namespace ptq::analyses {

namespace {

class KurtosisAnalysis : public AnalysisSteps {
 public:
  void run(AnalysisStage stage, ExperimentRun& r) override {
    if (stage == AnalysisStage::BeforeQuantization) {
      // On the calibration windows, or on the eval windows when the run has no calibration text.
      const at::Tensor& w = r.calib_windows.defined() ? r.calib_windows : r.eval_windows;
      r.analyses["kurtosis"]["fp"] = measure_kurtosis(*r.model, w, r.spec.calib_batch, r.fb);
    } else if (stage == AnalysisStage::DuringQuantization && r.transforms) {
      transformed_.calib_tokens = r.spec.calib.files.empty() ? 0 : r.spec.calib.nsamples * r.spec.calib.seqlen;
      r.analyses["kurtosis"]["transformed"] = transformed_.to_json();
    }
  }
  void on_transformed_block(ExperimentRun&, BlockWork& w) override {
    KurtosisObserver obs;
    w.run(&obs);
    add_block_kurtosis(transformed_, w.block, &obs);
  }

 private:
  KurtosisTable transformed_;
};

}  // namespace

std::unique_ptr<AnalysisSteps> make_kurtosis() { return std::make_unique<KurtosisAnalysis>(); }

}  // namespace ptq::analyses
