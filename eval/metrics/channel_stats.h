#pragma once
// Per-channel and distribution statistics of linear layers' inputs and weights for the outlier and
// quantization-grid analyses (eval/analyses/outlier_analysis.cpp, quant_grid_analysis.cpp):
//   ChannelAbsmaxObserver: max |x| over every observed token, per input channel, by layer.
//   InputRangeObserver / InputHistogramObserver: the two passes of an activation histogram (the
//     range first, then counts in fixed bins over it).
//   histogram_of: counts of a tensor in `bins` equal bins over [min, max] (at::histc; both ends
//     included, so the counts sum to numel).
#include <ATen/ATen.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/model/block.h"

namespace ptq {

class ChannelAbsmaxObserver : public LinearObserver {
 public:
  void on_linear(int block, const Linear& layer, const at::Tensor& input, const at::Tensor& output) override;
  // float32 [in] on the CPU, or null when the layer saw no tokens.
  const at::Tensor* find(const std::string& full_name) const;
  int64_t tokens(const std::string& full_name) const;

 private:
  std::map<std::string, at::Tensor> absmax_;
  std::map<std::string, int64_t> tokens_;
};

struct ValueHistogram {
  double lo = 0, hi = 0;          // the bins span [lo, hi] in equal widths
  std::vector<int64_t> counts;    // empty: nothing was counted
  int64_t total() const;
  nlohmann::json to_json() const;  // {"lo", "hi", "counts"}
};

// `bins` equal bins over [min(x), max(x)] (a constant tensor: one value's width of ±0.5 around it).
ValueHistogram histogram_of(const at::Tensor& x, int64_t bins);

class InputRangeObserver : public LinearObserver {
 public:
  void on_linear(int block, const Linear& layer, const at::Tensor& input, const at::Tensor& output) override;
  std::map<std::string, std::pair<double, double>> range;  // by full layer name: (min, max)
};

class InputHistogramObserver : public LinearObserver {
 public:
  InputHistogramObserver(const std::map<std::string, std::pair<double, double>>& range, int64_t bins);
  void on_linear(int block, const Linear& layer, const at::Tensor& input, const at::Tensor& output) override;
  std::map<std::string, ValueHistogram> hist;  // by full layer name
  std::map<std::string, int64_t> tokens;

 private:
  std::map<std::string, std::pair<double, double>> range_;
  int64_t bins_;
};

// v rounded to `sig` significant digits (the records keep per-channel vectors compactly).
double round_significant(double v, int sig = 4);

}  // namespace ptq
