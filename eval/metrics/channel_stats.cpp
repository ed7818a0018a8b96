#include "eval/metrics/channel_stats.h"

#include <ATen/core/grad_mode.h>

#include <cmath>

#include "core/model/model_layout.h"

namespace ptq {

namespace {

// The bins' span: [min, max], widened by ±0.5 for a constant input so histc has a width.
std::pair<double, double> span(double lo, double hi) {
  if (!(hi > lo)) return {lo - 0.5, hi + 0.5};
  return {lo, hi};
}

}  // namespace

void ChannelAbsmaxObserver::on_linear(int block, const Linear& layer, const at::Tensor& input, const at::Tensor&) {
  if (input.size(0) == 0) return;
  at::NoGradGuard ng;
  const std::string name = linear_full_name(block, layer.name());
  at::Tensor m = std::get<0>(input.detach().abs().max(0)).to(at::kFloat).cpu();
  auto it = absmax_.find(name);
  if (it == absmax_.end())
    absmax_[name] = m;
  else
    it->second = at::max(it->second, m);
  tokens_[name] += input.size(0);
}

const at::Tensor* ChannelAbsmaxObserver::find(const std::string& full_name) const {
  auto it = absmax_.find(full_name);
  return it == absmax_.end() ? nullptr : &it->second;
}

int64_t ChannelAbsmaxObserver::tokens(const std::string& full_name) const {
  auto it = tokens_.find(full_name);
  return it == tokens_.end() ? 0 : it->second;
}

int64_t ValueHistogram::total() const {
  int64_t s = 0;
  for (int64_t c : counts) s += c;
  return s;
}

nlohmann::json ValueHistogram::to_json() const { return {{"lo", lo}, {"hi", hi}, {"counts", counts}}; }

ValueHistogram histogram_of(const at::Tensor& x, int64_t bins) {
  ValueHistogram h;
  if (x.numel() == 0) return h;
  at::NoGradGuard ng;
  const at::Tensor f = x.detach().reshape(-1).to(at::kFloat);
  const auto [lo, hi] = span(f.min().item<double>(), f.max().item<double>());
  h.lo = lo;
  h.hi = hi;
  // histc's last bin includes its right edge, so every element is counted once.
  const at::Tensor c = at::histc(f, bins, lo, hi).to(at::kCPU).to(at::kLong);
  h.counts.assign(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
  return h;
}

void InputRangeObserver::on_linear(int block, const Linear& layer, const at::Tensor& input, const at::Tensor&) {
  if (input.numel() == 0) return;
  const std::string name = linear_full_name(block, layer.name());
  const double lo = input.min().item<double>(), hi = input.max().item<double>();
  auto it = range.find(name);
  if (it == range.end())
    range[name] = {lo, hi};
  else
    it->second = {std::min(it->second.first, lo), std::max(it->second.second, hi)};
}

InputHistogramObserver::InputHistogramObserver(const std::map<std::string, std::pair<double, double>>& range,
                                               int64_t bins)
    : range_(range), bins_(bins) {}

void InputHistogramObserver::on_linear(int block, const Linear& layer, const at::Tensor& input, const at::Tensor&) {
  if (input.numel() == 0) return;
  at::NoGradGuard ng;
  const std::string name = linear_full_name(block, layer.name());
  auto r = range_.find(name);
  if (r == range_.end()) return;
  const auto [lo, hi] = span(r->second.first, r->second.second);
  const at::Tensor c = at::histc(input.detach().reshape(-1).to(at::kFloat), bins_, lo, hi).to(at::kCPU).to(at::kLong);
  ValueHistogram& h = hist[name];
  if (h.counts.empty()) {
    h.lo = lo;
    h.hi = hi;
    h.counts.assign(size_t(bins_), 0);
  }
  const int64_t* p = c.data_ptr<int64_t>();
  for (int64_t i = 0; i < bins_; ++i) h.counts[size_t(i)] += p[i];
  tokens[name] += input.size(0);
}

double round_significant(double v, int sig) {
  if (!std::isfinite(v) || v == 0) return v;
  const double mag = std::pow(10.0, sig - 1 - int(std::floor(std::log10(std::fabs(v)))));
  return std::round(v * mag) / mag;
}

}  // namespace ptq
