#include "eval/analyses/analysis_catalog.h"

#include "core/runtime/errors.h"

namespace ptq {

namespace {

using S = AnalysisStage;

std::vector<AnalysisInfo> make_catalog() {
  return {
      {"size", "Model size", "Bytes of the model in a packed layout (codes at their bit width, fp16 scales, packed "
       "zeros; every other tensor the model has at 16 bits), from the tensors the recorded model actually has.",
       AnalysisTrigger::Always, 0, {{S::AfterQuantization, "", 0}}, {"metrics.size"}},
      {"compare", "Output comparison", "Full precision vs quantized on the eval windows (llama.cpp's --kl-divergence): "
       "per-token KL, top-1 agreement, change of the correct token's probability, both perplexities.",
       AnalysisTrigger::Listed, kNeedsEvalText | kNeedsQuantized | kNeedsFpReference,
       {{S::BeforeQuantization, "compare_reference", 2}, {S::AfterQuantization, "eval", 2}},
       {"metrics.compare", "metrics.ppl", "metrics.eval"}},
      {"kurtosis", "Kurtosis", "Kurtosis of every linear layer's weights and input activations, on the full-precision "
       "model and, for methods with a transform, after the transforms.",
       AnalysisTrigger::Listed, kNeedsCalibOrEvalText | kNeedsFpReference,
       {{S::BeforeQuantization, "kurtosis", 1}, {S::DuringQuantization, "", 0}},
       {"analyses.kurtosis"}},
      {"perplexity", "Perplexity", "Perplexity on the eval text's windows (skipped when compare measured it).",
       AnalysisTrigger::EvalText, kNeedsEvalText, {{S::AfterQuantization, "eval", 2}}, {"metrics.ppl", "metrics.eval"}},
      {"tasks", "Accuracy tasks", "The spec's task files: lm-eval multiple-choice JSONL, and LAMBADA passages "
       "(JSONL lines {\"text\": ...}; recorded as \"lambada\").",
       AnalysisTrigger::TaskFiles, kNeedsTaskFiles, {{S::Load, "", 0}, {S::AfterQuantization, "tasks", 2}},
       {"metrics.tasks"}},
      {"lastword", "Last-word task", "A LAMBADA-style last-word task built from the eval text (not LAMBADA): "
       "recorded as \"lastword:<text>\".",
       AnalysisTrigger::Listed, kNeedsEvalText, {{S::Load, "", 0}, {S::AfterQuantization, "tasks", 1}},
       {"metrics.tasks.lastword:<text>"}},
      {"token_kl", "Token-distribution KL", "KL and JS divergence between the token distribution of the calibration "
       "windows the run drew (so nsamples and seed change it) and the eval text's; the whole calibration files' "
       "figure beside it (whole_files).",
       AnalysisTrigger::Listed, kNeedsCalibration | kNeedsEvalText, {{S::AfterQuantization, "", 0}},
       {"analyses.token_kl"}},
      {"outliers", "Activation outliers", "Per-channel max |x| of every distinct linear-layer input (q/k/v share "
       "one, gate/up one), on the full-precision model and, for methods with a transform (SmoothQuant, AWQ, OS+, "
       "rotation), after the transforms: the channels they move.",
       AnalysisTrigger::Listed, kNeedsCalibOrEvalText | kNeedsFpReference,
       {{S::BeforeQuantization, "outliers", 1}, {S::DuringQuantization, "", 0}}, {"analyses.outliers"}},
      {"quant_grid", "Histograms and grid", "Histograms of every quantized layer's weights (as its quantizer saw "
       "them) and input activations, the dequantized grid levels of the group holding its largest |w|, and how "
       "many weights took each code.",
       AnalysisTrigger::Listed, kNeedsQuantized,
       {{S::DuringQuantization, "", 0}, {S::AfterQuantization, "", 0}}, {"analyses.quant_grid"}},
      {"samples", "Samples", "Greedy continuations of the spec's \"samples\" prompts by the full-precision model and "
       "by the model as recorded (quantized, with its KV cache), token by token with the probability of each "
       "chosen token and the first diverging token.",
       AnalysisTrigger::Samples, 0, {{S::Load, "", 0}, {S::BeforeQuantization, "samples", 1}, {S::AfterQuantization, "samples", 1}},
       {"samples"}},
      {"column_error", "Column-wise weight error", "For every quantized layer the relative error of each input "
       "column, ||W[:,j] - Q(W)[:,j]|| / ||W[:,j]||, of the weight the quantizer saw (after the method's transforms), "
       "in column order (LLMC Fig. 5: GPTQ's grows toward the last columns, rotation flattens it); float16, base64.",
       AnalysisTrigger::Listed, kNeedsQuantized, {{S::DuringQuantization, "", 0}}, {"analyses.column_error"}},
      {"divergence", "Per-token divergence", "Where the quantized model diverges: per-token KL(p_fp || p_q) of the "
       "next-token distributions along the first divergence_tokens predicted tokens of the eval windows, with the "
       "tokens and the change of the correct token's probability.",
       AnalysisTrigger::Listed, kNeedsEvalText | kNeedsQuantized | kNeedsFpReference,
       {{S::BeforeQuantization, "divergence", 0.5}, {S::AfterQuantization, "divergence", 0.5}},
       {"analyses.divergence"}},
  };
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
  return s;
}

}  // namespace

const char* analysis_stage_name(AnalysisStage s) {
  switch (s) {
    case S::Load: return "load";
    case S::BeforeQuantization: return "before-quantization";
    case S::DuringQuantization: return "during-quantization";
    default: return "after-quantization";
  }
}

bool AnalysisInfo::runs_in(AnalysisStage s) const {
  for (const auto& st : steps)
    if (st.stage == s) return true;
  return false;
}

nlohmann::json AnalysisInfo::to_json() const {
  nlohmann::json st = nlohmann::json::array();
  for (const auto& s : steps) st.push_back(analysis_stage_name(s.stage));
  const char* t = trigger == AnalysisTrigger::Listed     ? "listed"
                  : trigger == AnalysisTrigger::Always   ? "always"
                  : trigger == AnalysisTrigger::EvalText ? "eval-text"
                  : trigger == AnalysisTrigger::Samples  ? "samples"
                                                         : "task-files";
  return {{"id", id}, {"label", label}, {"description", description}, {"trigger", t}, {"stages", st}, {"writes", writes}};
}

const std::vector<AnalysisInfo>& analysis_catalog() {
  static const std::vector<AnalysisInfo> c = make_catalog();
  return c;
}

const AnalysisInfo& find_analysis(const std::string& id) {
  std::vector<std::string> ids;
  for (const auto& a : analysis_catalog()) {
    if (a.id == id) return a;
    ids.push_back(a.id);
  }
  throw Error("unknown analysis '" + id + "' (known: " + join(ids) + ")");
}

const std::vector<std::string>& experiment_analyses() {
  static const std::vector<std::string> ids = [] {
    std::vector<std::string> v;
    for (const auto& a : analysis_catalog())
      if (a.trigger == AnalysisTrigger::Listed || a.trigger == AnalysisTrigger::Always) v.push_back(a.id);
    return v;
  }();
  return ids;
}

std::string unmet_needs(const AnalysisInfo& a, const AnalysisInputs& in) {
  const unsigned n = a.needs;
  if ((n & kNeedsQuantized) && !in.quantized) return "needs a quantized model (a method other than fp)";
  const bool eval = n & kNeedsEvalText, calib = n & kNeedsCalibration;
  if (eval && calib && (!in.eval_text || !in.calibration)) return "needs calibration files and an eval text";
  if (eval && !in.eval_text) return "needs an eval text";
  if (calib && !in.calibration) return "needs calibration files";
  if ((n & kNeedsCalibOrEvalText) && !in.calibration && !in.eval_text) return "needs calibration files (or an eval text)";
  if ((n & kNeedsTaskFiles) && !in.task_files) return "needs task files";
  return "";
}

}  // namespace ptq
