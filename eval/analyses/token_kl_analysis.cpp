// token_kl: the token distribution of the calibration text against the eval text's.
#include "core/model/model.h"
#include "core/records/json_util.h"
#include "eval/analyses/analysis_classes.h"
#include "eval/experiment/experiment.h"
#include "eval/metrics/token_kl.h"

namespace ptq::analyses {

namespace {

class TokenKlAnalysis : public AnalysisSteps {
 public:
  void run(AnalysisStage, ExperimentRun& r) override {
    const ExperimentSpec& s = r.spec;
    std::string calib_names, calib_text;
    for (const auto& f : s.calib.files) {
      calib_names += (calib_names.empty() ? "" : ", ") + f;
      calib_text += read_text_file(f) + "\n";
    }
    nlohmann::json k = token_kl(*r.tok, calib_text, read_text_file(s.eval_text), {}, calib_names, s.eval_text);
    k["tokenizer"] = r.model->checkpoint().tokenizer_path();
    k["calib"] = calib_names;
    k["test"] = s.eval_text;
    r.analyses["token_kl"] = k;
  }
};

}  // namespace

std::unique_ptr<AnalysisSteps> make_token_kl() { return std::make_unique<TokenKlAnalysis>(); }

}  // namespace ptq::analyses
