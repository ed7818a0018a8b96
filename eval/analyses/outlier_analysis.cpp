// outliers: per-channel max |x| of every distinct linear-layer input, on the full-precision model
// (before quantization, on the calibration windows, else the eval windows) and, for methods with a
// transform (SmoothQuant / AWQ / OS+ scales, rotation), of each block after its transforms through
// the pipeline's after_transform hook: the channels the transform moves. Layers that read the same
// input (q/k/v, gate/up) share one entry ("readers"); the vector is kept whole, each value to 4
// significant digits (hidden + intermediate numbers per block and stage; the kurtosis analysis
// keeps only the top 8 channels per layer).
#include <ATen/core/grad_mode.h>

#include "core/model/model.h"
#include "core/model/model_layout.h"
#include "eval/analyses/analysis_classes.h"
#include "eval/experiment/experiment.h"
#include "eval/metrics/channel_stats.h"
#include "eval/metrics/kurtosis.h"
#include "eval/metrics/perplexity.h"
#include "quant/pipeline/block_stage.h"

namespace ptq::analyses {

namespace {

const char* const kDefinition =
    "max over the observed tokens of |x| per input channel of the layer (the input the weight multiplies, "
    "after any online transform); layers reading the same input share one entry";

nlohmann::json input_entry(const std::string& name, const std::string& type, int block, const at::Tensor& m,
                           int64_t tokens) {
  const at::Tensor d = m.to(at::kDouble);
  nlohmann::json values = nlohmann::json::array();
  const float* p = m.data_ptr<float>();
  for (int64_t i = 0; i < m.numel(); ++i) values.push_back(round_significant(p[i]));
  return {{"layer", name}, {"readers", nlohmann::json::array({name})}, {"type", type}, {"block", block}, {"tokens", tokens},
          {"channels", m.numel()}, {"max", d.max().item<double>()}, {"mean", d.mean().item<double>()},
          {"median", d.median().item<double>()}, {"absmax", values}};
}

// Appends the block's distinct inputs to `out`: a layer whose vector equals an earlier layer's of
// the block is one more reader of that input.
void add_block_inputs(nlohmann::json& out, const Block& block, const ChannelAbsmaxObserver& obs) {
  std::vector<std::pair<const at::Tensor*, size_t>> seen;  // (vector, index in out)
  for (const Linear& l : block.linears()) {
    const std::string name = linear_full_name(block.index(), l.name());
    const at::Tensor* m = obs.find(name);
    if (!m) continue;
    bool shared = false;
    for (const auto& [prev, idx] : seen)
      if (prev->sizes() == m->sizes() && at::equal(*prev, *m)) {
        out[idx]["readers"].push_back(name);
        shared = true;
        break;
      }
    if (shared) continue;
    seen.push_back({m, out.size()});
    out.push_back(input_entry(name, kurtosis_type(l.spec), block.index(), *m, obs.tokens(name)));
  }
}

class OutlierAnalysis : public AnalysisSteps {
 public:
  void run(AnalysisStage stage, ExperimentRun& r) override {
    nlohmann::json& a = r.analyses["outliers"];
    if (stage == AnalysisStage::BeforeQuantization) {
      const at::Tensor& windows = r.calib_windows.defined() ? r.calib_windows : r.eval_windows;
      a["definition"] = kDefinition;
      a["calib_tokens"] = windows.numel();
      a["fp"] = {{"inputs", measure_fp(*r.model, windows, r.spec.calib_batch, r.fb)}};
    } else if (stage == AnalysisStage::DuringQuantization && r.transforms) {
      a["transformed"] = {{"inputs", transformed_}};
    }
  }
  void on_transformed_block(ExperimentRun&, BlockWork& w) override {
    ChannelAbsmaxObserver obs;
    w.run(&obs);
    add_block_inputs(transformed_, w.block, obs);
  }

 private:
  static nlohmann::json measure_fp(Model& model, const at::Tensor& windows, int64_t batch, Feedback* fb) {
    at::NoGradGuard ng;
    ChannelAbsmaxObserver obs;
    run_windows(model, windows.to(model.device()), batch, fb, [](int64_t, const at::Tensor&) {}, &obs);
    nlohmann::json inputs = nlohmann::json::array();
    for (int i = 0; i < model.num_blocks(); ++i) {
      check_cancel(fb);
      Block& b = model.acquire(i);
      model.prefetch(i + 1);
      add_block_inputs(inputs, b, obs);
      model.release(i);
    }
    return inputs;
  }
  nlohmann::json transformed_ = nlohmann::json::array();
};

}  // namespace

std::unique_ptr<AnalysisSteps> make_outliers() { return std::make_unique<OutlierAnalysis>(); }

}  // namespace ptq::analyses
