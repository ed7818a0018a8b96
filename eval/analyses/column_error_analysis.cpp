// column_error: the column-wise relative weight error of every quantized layer (LLMC Fig. 5),
// measured by the pipeline (QuantRequest::column_errors, quant/pipeline/column_error.h) and
// written as analyses.column_error (docs/results-schema.md).
#include <algorithm>

#include "eval/analyses/analysis_classes.h"
#include "eval/experiment/experiment.h"
#include "quant/pipeline/column_error.h"
#include "quant/pipeline/pipeline.h"

namespace ptq::analyses {

namespace {

// Mean of v[begin, end).
double mean_of(const std::vector<float>& v, size_t begin, size_t end) {
  double s = 0;
  for (size_t i = begin; i < end; ++i) s += v[i];
  return end > begin ? s / double(end - begin) : 0.0;
}

// Whether any stage of the run processed columns out of order (GPTQ's act_order).
bool act_order(const nlohmann::json& params) {
  if (!params.is_object()) return false;
  for (const auto& stage : params)
    if (stage.is_object() && stage.value("act_order", false)) return true;
  return false;
}

nlohmann::json layer_entry(const LayerRecord& l) {
  const std::vector<float>& e = l.column_rel_error;
  const size_t n = e.size(), q = std::max<size_t>(1, n / 4);
  return {{"columns", int64_t(n)},
          {"mean", mean_of(e, 0, n)},
          {"max", n ? double(*std::max_element(e.begin(), e.end())) : 0.0},
          {"first_quarter_mean", mean_of(e, 0, std::min(q, n))},
          {"last_quarter_mean", mean_of(e, n - std::min(q, n), n)},
          {"values", encode_float16_base64(e)}};
}

class ColumnErrorAnalysis : public AnalysisSteps {
 public:
  void prepare_quantization(ExperimentRun&, QuantRequest& req) override { req.column_errors = true; }

  void run(AnalysisStage, ExperimentRun& r) override {
    nlohmann::json layers = nlohmann::json::object();
    for (const auto& l : r.quant->layers)
      if (l.quantized && !l.column_rel_error.empty()) layers[l.name] = layer_entry(l);
    r.analyses["column_error"] = {
        {"definition", "e_j = ||W[:,j] - Q(W)[:,j]|| / ||W[:,j]|| for every input column j of the weight the quantizer "
                       "saw (after the method's transforms), in the weight's column order"},
        {"encoding", "float16 little-endian, base64"},
        {"act_order", act_order(r.quant->params)},
        {"order_note", act_order(r.quant->params)
                           ? "act_order: GPTQ quantized the columns by descending Hessian diagonal, not left to right"
                           : "columns were quantized left to right (GPTQ's order)"},
        {"layers", layers}};
  }
};

}  // namespace

std::unique_ptr<AnalysisSteps> make_column_error() { return std::make_unique<ColumnErrorAnalysis>(); }

}  // namespace ptq::analyses
