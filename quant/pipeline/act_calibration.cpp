#include "quant/pipeline/act_calibration.h"

#include <cmath>

#include "core/runtime/errors.h"
#include "quant/formats/activation_quant.h"
#include "quant/pipeline/calib_staging.h"

namespace ptq {

namespace {

constexpr int kMseCandidates = 21;  // r = 1 - 0.04 k, k = 0..20

struct LayerStats {
  ActQuantSpec spec;
  at::Tensor amax;    // [U]
  at::Tensor pct_sum; // [U], percentile only
  int64_t batches = 0;
  at::Tensor err;     // [kMseCandidates, U], mse only (second pass)
};

class StaticObserver : public LinearObserver {
 public:
  StaticObserver(const Block& b, const QuantPlan& plan) {
    for (const auto& l : b.linears()) {
      auto s = plan.act_spec_for(linear_full_name(b.index(), l.name()), l.spec.type);
      if (s && s->is_static()) stats_[l.name()].spec = *s;
    }
  }
  bool empty() const { return stats_.empty(); }
  bool error_pass = false;

  void on_linear(int, const Linear& l, const at::Tensor& in, const at::Tensor&) override {
    auto it = stats_.find(l.name());
    if (it == stats_.end() || in.size(0) == 0) return;
    LayerStats& st = it->second;
    if (error_pass) return accumulate_errors(st, in);
    at::Tensor u = act_units(in, st.spec);
    at::Tensor m = u.amax(1);
    st.amax = st.amax.defined() ? at::maximum(st.amax, m) : m;
    if (st.spec.calibration == ActCalibration::Percentile) {
      const int64_t n = u.size(1);
      const int64_t k = std::max<int64_t>(1, std::min<int64_t>(n, int64_t(std::ceil(st.spec.percentile / 100.0 * n))));
      at::Tensor p = std::get<0>(u.kthvalue(k, 1));
      st.pct_sum = st.pct_sum.defined() ? st.pct_sum + p : p;
    }
    ++st.batches;
  }

  std::map<std::string, at::Tensor> scales(int block) const {
    std::map<std::string, at::Tensor> out;
    for (const auto& kv : stats_) {
      const LayerStats& st = kv.second;
      at::Tensor clip = st.amax;
      if (st.spec.calibration == ActCalibration::Percentile) clip = st.pct_sum / double(st.batches);
      if (st.spec.calibration == ActCalibration::Mse) {
        at::Tensor best = std::get<1>(st.err.min(0));  // [U], index of the best candidate
        clip = st.amax * (1.0 - 0.04 * best.to(at::kFloat));
      }
      out[linear_full_name(block, kv.first)] = act_scale_from_amax(clip, st.spec).to(at::kCPU);
    }
    return out;
  }

  bool needs_error_pass() const {
    for (const auto& kv : stats_)
      if (kv.second.spec.calibration == ActCalibration::Mse) return true;
    return false;
  }

 private:
  std::map<std::string, LayerStats> stats_;

  // Squared error of every candidate clip, per unit, added over the batches.
  void accumulate_errors(LayerStats& st, const at::Tensor& in) {
    if (st.spec.calibration != ActCalibration::Mse) return;
    const bool group = st.spec.granularity == ActGranularity::Group;
    at::Tensor x = in.to(at::kFloat);
    if (group) x = x.reshape({x.size(0), x.size(1) / st.spec.group_size, st.spec.group_size});
    std::vector<at::Tensor> rows;
    for (int k = 0; k < kMseCandidates; ++k) {
      at::Tensor scale = act_scale_from_amax(st.amax * (1.0 - 0.04 * k), st.spec);
      if (group) scale = scale.reshape({1, -1, 1});
      at::Tensor d = (fake_quantize_with_scale(x, scale, st.spec) - x).pow(2);
      rows.push_back(group ? d.sum(at::IntArrayRef{0, 2}) : d.sum().reshape({1}));
    }
    at::Tensor e = at::stack(rows);
    st.err = st.err.defined() ? st.err + e : e;
  }
};

}  // namespace

at::Tensor act_units(const at::Tensor& x, const ActQuantSpec& s) {
  at::Tensor a = x.to(at::kFloat).abs().reshape({-1, x.size(-1)});
  if (s.granularity != ActGranularity::Group) return a.reshape({1, -1});
  const int64_t g = s.group_size, W = a.size(1);
  return a.reshape({a.size(0), W / g, g}).permute({1, 0, 2}).reshape({W / g, -1});
}

std::map<std::string, at::Tensor> calibrate_static_act_scales(const Block& block, const BlockContext& ctx,
                                                              const std::vector<at::Tensor>& inputs,
                                                              const QuantPlan& plan) {
  StaticObserver obs(block, plan);
  if (obs.empty()) return {};
  if (inputs.empty()) throw Error("static activation scales need calibration data (--calib FILE)");
  BlockContext c = ctx;
  c.observer = &obs;
  const at::Device dev = block.linears().front().weight.device();
  for (const auto& x : inputs) block.forward(on_device(x, dev), c);
  if (obs.needs_error_pass()) {
    obs.error_pass = true;
    for (const auto& x : inputs) block.forward(on_device(x, dev), c);
  }
  return obs.scales(block.index());
}

}  // namespace ptq
