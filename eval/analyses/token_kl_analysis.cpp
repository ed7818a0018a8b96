// token_kl: the token distribution of the calibration windows the run drew (nsamples windows of
// seqlen tokens under its seed and sampling) against the eval text's; the whole calibration files'
// figure beside it as "whole_files".
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
    const at::Tensor w = r.calib_windows.contiguous();
    const std::vector<int64_t> drawn(w.data_ptr<int64_t>(), w.data_ptr<int64_t>() + w.numel());
    nlohmann::json k = token_kl_ids(*r.tok, drawn, r.eval_ids, {}, "calibration windows of " + calib_names, s.eval_text);
    const nlohmann::json whole = token_kl(*r.tok, calib_text, read_text_file(s.eval_text), {}, calib_names, s.eval_text);
    k["whole_files"] = {{"calib_tokens", whole["calib_tokens"]}, {"kl", whole["kl"]},
                        {"kl_calib_test", whole["kl_calib_test"]}, {"js", whole["js"]}};
    k["calib_draw"] = {{"nsamples", s.calib.nsamples}, {"seqlen", s.calib.seqlen}, {"seed", s.calib.seed},
                       {"sampling", s.calib.sampling}};
    k["tokenizer"] = r.model->checkpoint().tokenizer_path();
    k["calib"] = calib_names;
    k["test"] = s.eval_text;
    r.analyses["token_kl"] = k;
  }
};

}  // namespace

std::unique_ptr<AnalysisSteps> make_token_kl() { return std::make_unique<TokenKlAnalysis>(); }

}  // namespace ptq::analyses
