// quant_grid: for every quantized layer, the histogram of its weights as the quantizer saw them
// (after the run's transforms, before rounding), the histogram of its input activations on the
// calibration windows (same point of the pipeline), and the quantization grid: the dequantized
// levels of the group holding the layer's largest |w| (the widest grid; every other group's grid
// is the same codes at its own scale and zero), and how many weights took each code over the whole
// layer (the grid in units of the scale, comparable across groups). 64 bins per histogram and one
// level per code: a few hundred numbers per layer.
#include <ATen/core/grad_mode.h>

#include "core/model/model_layout.h"
#include "eval/analyses/analysis_classes.h"
#include "eval/experiment/experiment.h"
#include "eval/metrics/channel_stats.h"
#include "eval/metrics/kurtosis.h"
#include "quant/pipeline/block_stage.h"
#include "quant/pipeline/pipeline.h"

namespace ptq::analyses {

namespace {

constexpr int64_t kBins = 64;

struct PendingLayer {
  std::string name, type;
  int block = 0;
  int64_t in = 0;
  int64_t max_row = 0, max_col = 0;  // where the largest |w| is
  ValueHistogram weights, activations;
  int64_t act_tokens = 0;
};

// The quantized form has codes × (scale, zero) per group, so a group's grid is the codes' levels.
std::string grid_problem(const QuantizedWeight& q) {
  if (q.values.defined()) return "binarized planes, no code grid";
  if (!q.codes.defined() || !q.scales.defined()) return "no integer form";
  if (!q.incoherence.empty()) return "QuIP: the codes quantize the incoherence-processed weight";
  if (q.axis0_out > 0) return "HQQ axis 0: groups run along the output dimension";
  if (q.kept_columns.defined()) return "OWQ: kept fp16 columns change the grouping";
  return "";
}

int64_t level_count(const QuantSpec& s) {
  return s.format == WeightFormat::Int ? (int64_t(1) << s.bits) : format_grid(s.format).numel();
}

// The dequantized levels of group `group` of row `row`: dequantize_codes of every code under that
// group's scale and zero, so they are the values the quantizer can produce there, bit for bit.
std::vector<double> group_grid_levels(const QuantizedWeight& q, int64_t row, int64_t group) {
  const int64_t n = level_count(q.spec);
  const at::Tensor codes = at::arange(n, at::kLong).to(at::kByte).reshape({1, n});
  QuantParams p{q.scales[row][group].reshape({1, 1}).to(at::kFloat).cpu(),
                q.zeros.defined() ? q.zeros[row][group].reshape({1, 1}).to(at::kFloat).cpu() : at::Tensor()};
  const at::Tensor v = dequantize_codes(codes, p, q.spec).to(at::kDouble).reshape(-1).contiguous();
  return std::vector<double>(v.data_ptr<double>(), v.data_ptr<double>() + v.numel());
}

int64_t group_of_column(const QuantizedWeight& q, int64_t col, int64_t in) {
  if (q.g_idx.defined()) return q.g_idx.to(at::kLong).cpu().data_ptr<int64_t>()[col];
  return col / q.spec.effective_group(in);
}

nlohmann::json grid_json(const PendingLayer& p, const QuantizedWeight& q) {
  const std::string problem = grid_problem(q);
  if (!problem.empty()) return {{"levels", nullptr}, {"note", problem}};
  const int64_t g = group_of_column(q, p.max_col, p.in);
  const int64_t n = level_count(q.spec);
  const at::Tensor used = at::bincount(q.codes.to(at::kLong).reshape(-1).cpu(), {}, n).to(at::kLong).contiguous();
  return {{"row", p.max_row}, {"group", g}, {"groups", q.scales.size(1)}, {"format", format_name(q.spec.format)},
          {"bits", q.spec.element_bits()}, {"levels", group_grid_levels(q, p.max_row, g)},
          {"code_counts", std::vector<int64_t>(used.data_ptr<int64_t>(), used.data_ptr<int64_t>() + used.numel())}};
}

class QuantGridAnalysis : public AnalysisSteps {
 public:
  bool observes_every_block() const override { return true; }
  void on_transformed_block(ExperimentRun&, BlockWork& w) override {
    at::NoGradGuard ng;
    InputRangeObserver range;
    if (!w.inputs.empty()) w.run(&range);
    InputHistogramObserver hist(range.range, kBins);
    if (!w.inputs.empty()) w.run(&hist);
    for (const Linear& l : w.block.linears()) {
      if (!w.spec_for(l)) continue;
      PendingLayer p;
      p.name = linear_full_name(w.block.index(), l.name());
      p.type = kurtosis_type(l.spec);
      p.block = w.block.index();
      p.in = l.weight.size(1);
      const int64_t flat = l.weight.abs().argmax().item<int64_t>();
      p.max_row = flat / p.in;
      p.max_col = flat % p.in;
      p.weights = histogram_of(l.weight, kBins);
      if (auto it = hist.hist.find(p.name); it != hist.hist.end()) {
        p.activations = it->second;
        p.act_tokens = hist.tokens[p.name];
      }
      pending_.push_back(std::move(p));
    }
  }
  void run(AnalysisStage stage, ExperimentRun& r) override {
    if (stage != AnalysisStage::AfterQuantization || !r.quant) return;
    nlohmann::json layers = nlohmann::json::array();
    for (const PendingLayer& p : pending_) {
      nlohmann::json row = {{"name", p.name}, {"type", p.type}, {"block", p.block}, {"weights", p.weights.to_json()},
                            {"activations", nullptr}, {"grid", nullptr}};
      if (!p.activations.counts.empty()) {
        row["activations"] = p.activations.to_json();
        row["activations"]["tokens"] = p.act_tokens;
      }
      auto q = r.quant->quantized.find(p.name);
      row["grid"] = q == r.quant->quantized.end() ? nlohmann::json{{"levels", nullptr}, {"note", "kept in full precision"}}
                                                  : grid_json(p, q->second);
      layers.push_back(row);
    }
    r.analyses["quant_grid"] = {{"bins", kBins},
                                {"definition", "weights as the quantizer saw them (after the run's transforms); "
                                               "input activations on the calibration windows at the same point; grid: "
                                               "the dequantized levels of the group holding the layer's largest |w|"},
                                {"layers", layers}};
  }

 private:
  std::vector<PendingLayer> pending_;
};

}  // namespace

std::unique_ptr<AnalysisSteps> make_quant_grid() { return std::make_unique<QuantGridAnalysis>(); }

}  // namespace ptq::analyses
