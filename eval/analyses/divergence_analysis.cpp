// divergence: where the quantized model diverges from full precision along the eval text. The
// first ceil(divergence_tokens / (seqlen − 1)) eval windows go through the full-precision model
// before quantization (its reference, as compare's: eval/metrics/output_compare.h) and through the
// recorded model after; for every predicted token the record keeps KL(p_fp ‖ p_q) over the whole
// vocabulary and Δp = p_q(correct) − p_fp(correct), aligned with the window's tokens (a window's
// first token is context only: null). Written as analyses.divergence (docs/results-schema.md).
#include <algorithm>

#include "core/model/model.h"
#include "core/text/tokenizer.h"
#include "eval/analyses/analysis_classes.h"
#include "eval/experiment/experiment.h"
#include "eval/metrics/output_compare.h"

namespace ptq::analyses {

namespace {

class DivergenceAnalysis : public AnalysisSteps {
 public:
  void run(AnalysisStage stage, ExperimentRun& r) override {
    const int64_t T = r.eval_windows.size(1), per_window = T - 1;
    const int64_t want = std::min(r.spec.divergence_tokens, r.eval_windows.size(0) * per_window);
    const int64_t k = (want + per_window - 1) / per_window;
    const at::Tensor windows = r.eval_windows.narrow(0, 0, k);
    if (stage == AnalysisStage::BeforeQuantization) {
      reference_ = capture_reference(*r.model, windows, r.spec.eval_batch, r.fb);
      return;
    }
    const OutputComparer cmp = compare_windows(*r.model, reference_, windows, r.spec.eval_batch, r.fb);
    reference_ = FpReference();
    r.analyses["divergence"] = record(r, windows.contiguous(), cmp, want);
  }

 private:
  // The tokens of the windows up to the `want`-th predicted one, each with its KL and Δp.
  static nlohmann::json record(const ExperimentRun& r, const at::Tensor& windows, const OutputComparer& cmp, int64_t want) {
    const int64_t T = windows.size(1), per_window = T - 1;
    const int64_t* ids = windows.data_ptr<int64_t>();
    nlohmann::json id_list = nlohmann::json::array(), pieces = nlohmann::json::array();
    nlohmann::json kl = nlohmann::json::array(), dp = nlohmann::json::array();
    double kl_sum = 0, kl_max = 0;
    for (int64_t n = 0; n < want; ++n) {
      const int64_t w = n / per_window, t = n % per_window;  // predicts token t + 1 of window w
      if (t == 0) {  // the window's first token: context only
        id_list.push_back(ids[w * T]);
        if (r.tok) pieces.push_back(r.tok->decode({ids[w * T]}));
        kl.push_back(nullptr);
        dp.push_back(nullptr);
      }
      const int64_t id = ids[w * T + t + 1];
      id_list.push_back(id);
      if (r.tok) pieces.push_back(r.tok->decode({id}));
      const double v = cmp.token_kl()[size_t(n)];
      kl.push_back(v);
      dp.push_back(cmp.token_dp()[size_t(n)]);
      kl_sum += v;
      kl_max = std::max(kl_max, v);
    }
    nlohmann::json j = {{"definition", "per predicted token: KL(p_fp || p_q) of the next-token distributions over the "
                                       "vocabulary (nats) and dp = p_q(correct) - p_fp(correct); entries aligned with "
                                       "ids, null for a window's first token (context only)"},
                        {"text", r.spec.eval_text}, {"seqlen", T}, {"windows", windows.size(0)},
                        {"tokens", want}, {"requested", r.spec.divergence_tokens},
                        {"kl_mean", want ? kl_sum / double(want) : 0.0}, {"kl_max", kl_max},
                        {"ids", id_list}, {"kl", kl}, {"dp", dp}};
    if (r.tok) j["pieces"] = pieces;
    return j;
  }

  FpReference reference_;
};

}  // namespace

std::unique_ptr<AnalysisSteps> make_divergence() { return std::make_unique<DivergenceAnalysis>(); }

}  // namespace ptq::analyses
