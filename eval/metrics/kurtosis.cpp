#include "eval/metrics/kurtosis.h"

#include <cmath>
#include <limits>

#include "core/model/model.h"
#include "eval/metrics/perplexity.h"

namespace ptq {

const char* const kKurtosisDefinition =
    "pearson: mean(((x-mean)/s)^4), s the unbiased standard deviation; a Gaussian scores about 3";

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int64_t kChunk = int64_t(1) << 24;  // elements converted to float64 at a time

// Calls fn(chunk) over consecutive pieces of the flattened tensor.
template <class Fn>
void for_chunks(const at::Tensor& flat, Fn fn) {
  const int64_t n = flat.numel();
  for (int64_t i = 0; i < n; i += kChunk) fn(flat.slice(0, i, std::min(n, i + kChunk)).to(at::kDouble));
}

nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

// {"max", "median", "top": [[channel, max|x|], ...]}, or null when the layer saw no tokens.
nlohmann::json channels_json(const ChannelAbsmax& c) {
  if (!c.measured) return nullptr;
  nlohmann::json top = nlohmann::json::array();
  for (const auto& [i, v] : c.top) top.push_back({i, number_or_null(v)});
  return {{"max", number_or_null(c.max)}, {"median", number_or_null(c.median)}, {"top", top}};
}

}  // namespace

double kurtosis_from_central(double n, double m2, double m4) {
  if (n < 2 || !(m2 > 0)) return kNaN;
  const double var = m2 / (n - 1);
  return (m4 / n) / (var * var);
}

double pearson_kurtosis(const at::Tensor& x) {
  const at::Tensor flat = x.detach().reshape(-1);
  const int64_t n = flat.numel();
  if (n < 2) return kNaN;
  double sum = 0;
  for_chunks(flat, [&](const at::Tensor& d) { sum += d.sum().item<double>(); });
  const double mean = sum / double(n);
  double m2 = 0, m4 = 0;
  for_chunks(flat, [&](const at::Tensor& d) {
    at::Tensor c2 = (d - mean).square();
    at::Tensor s = at::stack({c2.sum(), c2.square().sum()}).cpu();
    m2 += s[0].item<double>();
    m4 += s[1].item<double>();
  });
  return kurtosis_from_central(double(n), m2, m4);
}

double row_kurtosis_mean(const at::Tensor& w) {
  const at::Tensor m = w.detach().reshape({w.size(0), -1});
  const int64_t rows = m.size(0), cols = m.size(1);
  if (cols < 2) return kNaN;
  const int64_t step = std::max<int64_t>(1, kChunk / cols);
  double sum = 0;
  int64_t counted = 0;
  for (int64_t r = 0; r < rows; r += step) {
    at::Tensor d = m.slice(0, r, std::min(rows, r + step)).to(at::kDouble);
    at::Tensor c2 = (d - d.mean(1, true)).square();
    at::Tensor m2 = c2.sum(1), m4 = c2.square().sum(1);
    at::Tensor var = m2 / double(cols - 1);
    at::Tensor k = (m4 / double(cols)) / var.square();
    at::Tensor ok = m2 > 0;
    sum += k.masked_select(ok).sum().item<double>();
    counted += ok.sum().item<int64_t>();
  }
  return counted ? sum / double(counted) : kNaN;
}

void MomentAccumulator::add(const at::Tensor& x) {
  const at::Tensor flat = x.detach().reshape(-1);
  if (flat.numel() == 0) return;
  if (!has_shift_) {
    double sum = 0;
    for_chunks(flat, [&](const at::Tensor& d) { sum += d.sum().item<double>(); });
    shift_ = sum / double(flat.numel());
    has_shift_ = true;
  }
  for_chunks(flat, [&](const at::Tensor& d) {
    at::Tensor c = d - shift_;
    at::Tensor c2 = c.square();
    at::Tensor s = at::stack({c.sum(), c2.sum(), (c2 * c).sum(), c2.square().sum()}).cpu();
    const double* p = s.data_ptr<double>();
    s1_ += p[0];
    s2_ += p[1];
    s3_ += p[2];
    s4_ += p[3];
  });
  n_ += flat.numel();
}

double MomentAccumulator::mean() const { return n_ ? shift_ + s1_ / double(n_) : kNaN; }

double MomentAccumulator::variance() const {
  if (n_ < 2) return kNaN;
  const double mu = s1_ / double(n_);
  return (s2_ - double(n_) * mu * mu) / double(n_ - 1);
}

double MomentAccumulator::kurtosis() const {
  if (n_ < 2) return kNaN;
  const double n = double(n_), mu = s1_ / n;
  const double m2 = s2_ - n * mu * mu;
  const double m4 = s4_ - 4 * mu * s3_ + 6 * mu * mu * s2_ - 3 * n * mu * mu * mu * mu;
  return kurtosis_from_central(n, m2, m4);
}

void KurtosisObserver::on_linear(int block, const Linear& layer, const at::Tensor& input, const at::Tensor&) {
  const std::string name = linear_full_name(block, layer.name());
  acc_[name].add(input);
  if (input.size(0) == 0) return;
  at::Tensor m = std::get<0>(input.detach().abs().max(0)).to(at::kFloat);
  auto it = absmax_.find(name);
  if (it == absmax_.end())
    absmax_[name] = m;
  else
    it->second = at::max(it->second, m);
}

const at::Tensor* KurtosisObserver::channel_absmax(const std::string& full_name) const {
  auto it = absmax_.find(full_name);
  return it == absmax_.end() ? nullptr : &it->second;
}

ChannelAbsmax summarize_channel_absmax(const at::Tensor& absmax, int64_t top_k) {
  ChannelAbsmax c;
  at::Tensor a = absmax.to(at::kCPU).to(at::kDouble).reshape(-1);
  if (a.numel() == 0) return c;
  c.measured = true;
  auto top = a.topk(std::min<int64_t>(top_k, a.numel()));
  at::Tensor v = std::get<0>(top), i = std::get<1>(top);
  for (int64_t k = 0; k < v.numel(); ++k) c.top.push_back({i[k].item<int64_t>(), v[k].item<double>()});
  c.median = a.median().item<double>();  // torch's lower median for an even count
  c.max = v[0].item<double>();
  return c;
}

const MomentAccumulator* KurtosisObserver::find(const std::string& full_name) const {
  auto it = acc_.find(full_name);
  return it == acc_.end() ? nullptr : &it->second;
}

std::string kurtosis_type(const LinearSpec& s) { return s.expert >= 0 ? "expert_" + s.type : s.type; }

void add_block_kurtosis(KurtosisTable& t, const Block& block, const KurtosisObserver* obs) {
  for (const Linear& l : block.linears()) {
    LayerKurtosis k;
    k.name = linear_full_name(block.index(), l.name());
    k.type = kurtosis_type(l.spec);
    k.block = block.index();
    k.weight = pearson_kurtosis(l.weight);
    k.weight_channel_mean = row_kurtosis_mean(l.weight);
    const MomentAccumulator* a = obs ? obs->find(k.name) : nullptr;
    k.activation = a ? a->kurtosis() : kNaN;
    if (const at::Tensor* m = obs ? obs->channel_absmax(k.name) : nullptr) k.channels = summarize_channel_absmax(*m);
    t.layers.push_back(k);
  }
}

nlohmann::json KurtosisTable::to_json() const {
  struct Mean {
    double sum = 0;
    int64_t n = 0;
    void add(double v) {
      if (std::isfinite(v)) sum += v, ++n;
    }
    nlohmann::json value() const { return n ? nlohmann::json(sum / double(n)) : nlohmann::json(nullptr); }
  };
  struct TypeMeans {
    Mean weight, channel, activation, outlier_ratio;
    int64_t layers = 0;
  };
  std::map<std::string, TypeMeans> types;
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& l : layers) {
    rows.push_back({{"name", l.name}, {"type", l.type}, {"block", l.block}, {"weight", number_or_null(l.weight)},
                    {"weight_channel_mean", number_or_null(l.weight_channel_mean)},
                    {"activation", number_or_null(l.activation)}, {"channel_absmax", channels_json(l.channels)}});
    TypeMeans& m = types[l.type];
    if (l.channels.measured && l.channels.median > 0) m.outlier_ratio.add(l.channels.max / l.channels.median);
    m.weight.add(l.weight);
    m.channel.add(l.weight_channel_mean);
    m.activation.add(l.activation);
    ++m.layers;
  }
  nlohmann::json by_type = nlohmann::json::object();
  for (const auto& kv : types)
    by_type[kv.first] = {{"weight", kv.second.weight.value()},
                         {"weight_channel_mean", kv.second.channel.value()},
                         {"activation", kv.second.activation.value()},
                         {"channel_absmax_max_over_median", kv.second.outlier_ratio.value()},
                         {"layers", kv.second.layers}};
  return {{"definition", kKurtosisDefinition}, {"calib_tokens", calib_tokens}, {"layers", rows}, {"by_type", by_type}};
}

nlohmann::json measure_kurtosis(Model& model, const at::Tensor& windows, int64_t batch, Feedback* fb) {
  KurtosisObserver obs;
  run_windows(model, windows.to(model.device()), batch, fb, [](int64_t, const at::Tensor&) {}, &obs);
  KurtosisTable t;
  t.calib_tokens = windows.numel();
  for (int i = 0; i < model.num_blocks(); ++i) {
    check_cancel(fb);
    Block& b = model.acquire(i);
    model.prefetch(i + 1);
    add_block_kurtosis(t, b, &obs);
    model.release(i);
    report(fb, "kurtosis", i + 1, model.num_blocks());
  }
  return t.to_json();
}

}  // namespace ptq
