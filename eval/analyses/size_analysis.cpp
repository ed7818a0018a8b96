// size: metrics.size of the model as it is recorded (eval/metrics/model_size.h).
#include "core/model/model.h"
#include "eval/analyses/analysis_classes.h"
#include "eval/experiment/experiment_spec.h"
#include "eval/metrics/model_size.h"
#include "quant/kvcache/kv_cache_spec.h"
#include "quant/pipeline/pipeline.h"

namespace ptq::analyses {

namespace {

// The KV cache's bytes (K and V of every layer) per token and at the eval context length, quantized
// as the run's kv setting says (fp16 when off), next to the fp16 cache's.
nlohmann::json kv_cache_size(const KvCacheSpec& kv, const ModelConfig& c, int64_t context) {
  return {{"bytes_per_token", kv.bytes_per_token(c)}, {"fp16_bytes_per_token", fp16_kv_bytes_per_token(c)},
          {"context_length", context}, {"bytes_at_context", kv.bytes_at_context(c, context)},
          {"fp16_bytes_at_context", fp16_kv_bytes_per_token(c) * double(context)},
          {"setting", kv.enabled() ? kv.label() : std::string("fp16")}};
}

class SizeAnalysis : public AnalysisSteps {
 public:
  void run(AnalysisStage, ExperimentRun& r) override {
    // From the tensors the model has now: a transform that untied the head adds it.
    r.metrics["size"] = model_size(model_tensors(*r.model), r.model->config(),
                                   r.quant ? r.quant->layers : std::vector<LayerRecord>{});
    r.metrics["size"]["kv_cache"] = kv_cache_size(r.spec.kv, r.model->config(), r.spec.eval_seqlen);
  }
};

}  // namespace

std::unique_ptr<AnalysisSteps> make_size() { return std::make_unique<SizeAnalysis>(); }

}  // namespace ptq::analyses
