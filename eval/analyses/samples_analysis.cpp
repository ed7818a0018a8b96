// The "samples" analysis: greedy continuations of the spec's sample prompts by the full-precision
// model (before quantization) and by the model as recorded (after quantization, with the run's
// KV cache), into record["samples"] (eval/generation/samples.h). For method "fp" the two sides
// differ only through a quantized KV cache (kv_bits), and are identical without one.
#include "core/runtime/errors.h"
#include "eval/analyses/analysis_classes.h"
#include "eval/experiment/experiment_spec.h"
#include "eval/generation/samples.h"

namespace ptq::analyses {

namespace {

class Samples : public AnalysisSteps {
 public:
  void run(AnalysisStage stage, ExperimentRun& run) override {
    const SamplesSpec& s = run.spec.samples;
    if (stage == AnalysisStage::Load) {
      if (!run.tok) throw Error("\"samples\" needs the model's tokenizer.json, and '" + run.spec.model_dir + "' has none");
      return;
    }
    SamplingParams p;
    p.max_new_tokens = s.max_new_tokens;
    if (stage == AnalysisStage::BeforeQuantization) {
      // The full-precision cache: the KV-cache quantizer is installed after quantization.
      fp_ = generate(*run.model, *run.tok, s.prompts, p, {}, run.fb);
      return;
    }
    std::vector<Continuation> q = generate(*run.model, *run.tok, s.prompts, p, {}, run.fb);
    run.samples = samples_json(fp_, q, p);
  }

 private:
  std::vector<Continuation> fp_;
};

}  // namespace

std::unique_ptr<AnalysisSteps> make_samples() { return std::make_unique<Samples>(); }

}  // namespace ptq::analyses
