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

at::Tensor owq_sensitivity(const at::Tensor& W, const at::Tensor& H, const QuantSpec& s, bool frob_norm) {
  at::Tensor lambda = at::diag(H).to(at::kFloat).clone();
  if (!frob_norm) return lambda;
  QuantSpec per_channel = s;
  per_channel.group_size = -1;  // main.py: Quantizer(perchannel=True) without groups
  const at::Tensor w = W.detach().to(at::kFloat);
  const at::Tensor err = (w - fake_quantize(w, per_channel)).pow(2).sum(0);  // frob_norm_error
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
  if (k > 0) {
    const at::Tensor lambda = owq_sensitivity(W, H, s, o.frob_norm);
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
