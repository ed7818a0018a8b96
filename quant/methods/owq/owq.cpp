#include "quant/methods/owq/owq.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/runtime/errors.h"

namespace ptq {

int64_t owq_kept_count(int64_t in, const OwqOptions& o) {
  if (o.columns > 0) {
    if (o.columns >= in)
      throw Error("owq.columns = " + std::to_string(o.columns) + " must be smaller than the layer's input width " +
                  std::to_string(in));
    return o.columns;
  }
  if (!(o.fraction > 0 && o.fraction < 1))
    throw Error("owq.fraction = " + std::to_string(o.fraction) + " must be in (0, 1)");
  int64_t k = int64_t(std::llround(double(in) * o.fraction));
  if (k % 2 == 1) ++k;  // main.py: "for even number of n_out"
  if (k >= in) throw Error("owq.fraction = " + std::to_string(o.fraction) + " keeps all " + std::to_string(in) + " columns");
  return k;
}

namespace {

// The symmetric search (quant.py: minq = -2^(b-1), maxq = 2^(b-1)-1, zero 0).
QuantParams mse_symmetric(const at::Tensor& x, const at::Tensor& xmin, const at::Tensor& xmax, int bits, int64_t num) {
  const double minq = -std::ldexp(1.0, bits - 1), maxq = std::ldexp(1.0, bits - 1) - 1.0, eps = 1e-8;
  const at::Tensor xrange = at::maximum(xmin.abs(), xmax);
  at::Tensor best_score = at::full_like(xmin, 1e10), best_max = xmax.clone();
  for (int64_t i = 1; i <= num; ++i) {
    const at::Tensor tmp_max = xrange / double(num) * double(i);
    const at::Tensor scale = (tmp_max / -minq).clamp_min(eps).unsqueeze(1);
    const at::Tensor xq = scale * at::clamp(at::round(x / scale), minq, maxq);
    const at::Tensor score = (x - xq).abs().pow(2.4).mean(1);
    best_max = at::where(score < best_score, tmp_max, best_max);
    best_score = at::minimum(score, best_score);
  }
  const at::Tensor scale = (best_max.clamp_min(0.0) / -minq).clamp_min(eps).unsqueeze(1);
  return {scale, at::full_like(scale, std::ldexp(1.0, bits - 1))};
}

// The asymmetric search: range xrange·i/num, then every zero point zp (new_min = -zp·Δ).
QuantParams mse_asymmetric(const at::Tensor& x, const at::Tensor& xmin, const at::Tensor& xmax, int bits, int64_t num) {
  const double maxq = std::ldexp(1.0, bits) - 1.0, eps = 1e-8;
  const at::Tensor xrange = xmax - xmin;
  at::Tensor best_score = at::full_like(xmin, 1e10), best_min = xmin.clone(), best_max = xmax.clone();
  for (int64_t i = 1; i <= num; ++i) {
    const at::Tensor tmp_max = xrange / double(num) * double(i);
    const at::Tensor delta = (tmp_max / maxq).clamp_min(eps);
    const at::Tensor scale = delta.unsqueeze(1), x_round = at::round(x / scale);
    for (int64_t zp = 0; zp <= int64_t(maxq); ++zp) {
      const at::Tensor new_min = -double(zp) * delta, new_max = tmp_max - double(zp) * delta;
      const at::Tensor zero = at::clamp(-at::round(new_min / delta), 0.0, maxq).unsqueeze(1);
      const at::Tensor xq = scale * (at::clamp(x_round + zero, 0.0, maxq) - zero);
      const at::Tensor score = (x - xq).abs().pow(2.4).mean(1);
      const at::Tensor better = score < best_score;
      best_min = at::where(better, new_min, best_min);
      best_max = at::where(better, new_max, best_max);
      best_score = at::minimum(best_score, score);
    }
  }
  const at::Tensor lo = best_min.clamp_max(0.0), hi = best_max.clamp_min(0.0);
  const at::Tensor scale = ((hi - lo) / maxq).clamp_min(eps);
  return {scale.unsqueeze(1), at::clamp(-at::round(lo / scale), 0.0, maxq).unsqueeze(1)};
}

}  // namespace

QuantParams owq_mse_params(const at::Tensor& x0, const QuantSpec& s, int64_t num) {
  if (s.format != WeightFormat::Int)
    throw Error("OWQ: tuning mse needs the int format (got " + format_name(s.format) + "); use owq.tuning=minmax");
  const at::Tensor x = x0.detach().to(at::kFloat);
  const at::Tensor zero = at::zeros({x.size(0)}, x.options());
  const at::Tensor xmin = at::minimum(std::get<0>(x.min(1)), zero), xmax = at::maximum(std::get<0>(x.max(1)), zero);
  return s.symmetric ? mse_symmetric(x, xmin, xmax, s.bits, num) : mse_asymmetric(x, xmin, xmax, s.bits, num);
}

at::Tensor owq_sensitivity(const at::Tensor& W, const at::Tensor& H, const QuantSpec& s, bool frob_norm, bool mse) {
  at::Tensor lambda = at::diag(H).to(at::kFloat).clone();
  if (!frob_norm) return lambda;
  QuantSpec per_channel = s;
  per_channel.group_size = -1;  // main.py: Quantizer(perchannel=True) without groups
  const at::Tensor w = W.detach().to(at::kFloat);
  at::Tensor wq;
  if (mse) {  // temp_quantizer.find_params(W, weight=True, num=40)
    const QuantParams p = owq_mse_params(w, per_channel, 40);
    wq = dequantize_codes(quantize_codes(w, p, per_channel), p, per_channel);
  } else {
    wq = fake_quantize(w, per_channel);
  }
  const at::Tensor err = (w - wq).pow(2).sum(0);  // frob_norm_error
  return lambda * err.to(lambda.device());
}

namespace {

// hessian_sorting: the column order (quantized columns, then the kept ones by decreasing λ)
// and the sorted kept columns.
std::vector<int64_t> owq_order(const at::Tensor& lambda, int64_t k, bool act_order, std::vector<int64_t>* kept) {
  const int64_t in = lambda.numel();
  const at::Tensor desc =
      std::get<1>(at::sort(lambda.to(at::kCPU), /*stable=*/true, /*dim=*/0, /*descending=*/true)).contiguous();
  const int64_t* d = desc.data_ptr<int64_t>();
  std::vector<char> is_kept(size_t(in), 0);
  for (int64_t i = 0; i < k; ++i) is_kept[size_t(d[i])] = 1;
  std::vector<int64_t> order;
  if (act_order) {
    order.assign(d + k, d + in);
  } else {
    for (int64_t c = 0; c < in; ++c)
      if (!is_kept[size_t(c)]) order.push_back(c);
  }
  order.insert(order.end(), d, d + k);
  kept->assign(d, d + k);
  std::sort(kept->begin(), kept->end());
  return order;
}

}  // namespace

OwqResult owq_quantize(const at::Tensor& W, const at::Tensor& H, const QuantSpec& s, const OwqOptions& o) {
  if (!W.defined() || W.dim() != 2) throw Error("OWQ: weight must be a 2-D tensor [out, in]");
  const int64_t in = W.size(1);
  const int64_t k = owq_kept_count(in, o);
  OwqResult r;
  GptqOptions g = o.gptq;
  if (o.mse) {  // recon.py: find_params(W[:, :n_nonout]) (num 100), per group find_params(..., num=40)
    const int64_t num = s.group_size > 0 ? 40 : 100;
    g.find_params_fn = [s, num](const at::Tensor& x) { return owq_mse_params(x, s, num); };
  }
  if (k > 0) {
    const at::Tensor lambda = owq_sensitivity(W, H, s, o.frob_norm, o.mse);
    g.order = owq_order(lambda, k, o.gptq.act_order, &r.kept);
    g.quantized_columns = in - k;
    g.act_order = false;  // the order above already is OWQ's act order
    g.static_groups = false;
  }
  GptqResult res = gptq_quantize(W, H, s, g);
  r.weight = res.weight;
  r.q = res.q;
  r.loss = res.loss;
  r.row_loss = res.row_loss;
  r.dead_columns = res.dead_columns;
  if (k == 0) return r;
  const at::Tensor kept = at::tensor(r.kept, at::kLong).to(W.device());
  r.q.kept_columns = kept;
  r.q.kept_values = res.weight.to(at::kFloat).index_select(1, kept);
  if (!o.gptq.act_order) {
    r.q.g_idx = at::Tensor();  // the implied grouping: the quantized columns in order
  } else if (r.q.g_idx.defined()) {
    r.q.g_idx = r.q.g_idx.clone().index_fill_(0, kept, 0);  // kept columns have no group
  } else if (s.group_size > 0) {
    throw Error("OWQ: internal: act order without a group index");
  }
  return r;
}

}  // namespace ptq
