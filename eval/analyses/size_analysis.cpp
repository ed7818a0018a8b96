// size: metrics.size of the model as it is recorded (eval/metrics/model_size.h).
#include "core/model/model.h"
#include "eval/analyses/analysis_classes.h"
#include "eval/metrics/model_size.h"
#include "quant/pipeline/pipeline.h"

namespace ptq::analyses {

namespace {

class SizeAnalysis : public AnalysisSteps {
 public:
  void run(AnalysisStage, ExperimentRun& r) override {
    // From the tensors the model has now: a transform that untied the head adds it.
    r.metrics["size"] = model_size(model_tensors(*r.model), r.model->config(),
                                   r.quant ? r.quant->layers : std::vector<LayerRecord>{});
  }
};

}  // namespace

std::unique_ptr<AnalysisSteps> make_size() { return std::make_unique<SizeAnalysis>(); }

}  // namespace ptq::analyses
