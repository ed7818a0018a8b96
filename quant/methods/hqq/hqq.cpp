#include "quant/methods/hqq/hqq.h"

#include <ATen/core/grad_mode.h>

#include <cmath>
#include <limits>
#include <string>

#include "core/runtime/errors.h"

namespace ptq {

namespace {

// optimize.py shrink_lp_op.
at::Tensor shrink_lp(const at::Tensor& x, double beta, double p) {
  at::Tensor a = x.abs();
  if (p == 1.0)
    a = (a - 1.0 / beta).clamp_min(0.0);
  else
    a = (a - (1.0 / beta) * a.pow(p - 1.0)).clamp_min(0.0);
  return a * x.sign();
}

at::Tensor quantize_groups(const at::Tensor& x, const at::Tensor& inv_scale, const at::Tensor& zero, double max_v) {
  return at::round(x * inv_scale + zero).clamp_(0.0, max_v);
}

}  // namespace

void hqq_initial_params(const at::Tensor& x, int bits, bool round_zero, at::Tensor* inv_scale, at::Tensor* zero) {
  const double max_v = std::round(std::pow(2.0, bits) - 1.0);
  const at::Tensor mn = std::get<0>(x.min(1, true)), mx = std::get<0>(x.max(1, true));
  const at::Tensor denom = mx - mn;
  // quantize.py `scale = (max_v / denom)`: Python's float / Tensor is Tensor.__rtruediv__,
  // `self.reciprocal() * other` (torch/_tensor.py), rounded twice; ATen's C++ operator/(Scalar,
  // Tensor) divides, rounded once. They differ in the last bit for some groups, and the solver's
  // rounding amplifies that (austen-small w3g64: PPL 105.745 by division, the reference's 105.796).
  at::Tensor scale = denom.reciprocal() * max_v;
  scale = at::where(denom.abs() <= 1e-4, at::ones_like(scale), scale).clamp_max(2e4);
  at::Tensor z = -mn * scale;
  if (round_zero) z = at::round(z);
  *inv_scale = scale;
  *zero = z;
}

int64_t hqq_optimize_zero(const at::Tensor& x, const at::Tensor& inv_scale, at::Tensor& zero, int bits,
                          const HqqOptions& o) {
  const double max_v = std::round(std::pow(2.0, bits) - 1.0);
  double beta = o.beta, best = std::numeric_limits<double>::infinity();
  int64_t it = 0;
  while (it < o.iters) {
    ++it;
    const at::Tensor wq = quantize_groups(x, inv_scale, zero, max_v);
    const at::Tensor wr = (wq - zero) / inv_scale;
    const at::Tensor we = shrink_lp(x - wr, beta, o.lp_norm);
    zero = (wq - (x - we) * inv_scale).mean(1, true);
    beta *= o.kappa;
    const double err = (x - wr).abs().mean().item<double>();
    if (err < best)
      best = err;
    else
      break;
  }
  return it;
}

HqqResult hqq_quantize(const at::Tensor& W, const QuantSpec& s, const HqqOptions& o) {
  at::NoGradGuard no_grad;
  if (!W.defined() || W.dim() != 2) throw Error("HQQ: weight must be a 2-D tensor [out, in]");
  const int64_t out = W.size(0), in = W.size(1);
  s.validate(in);
  if (s.format != WeightFormat::Int)
    throw Error("HQQ: only the int format is supported (got " + format_name(s.format) + ")");
  if (s.symmetric) throw Error("HQQ: sym is not supported (HQQ's zero point is real-valued, asymmetric)");
  if (o.iters < 1) throw Error("HQQ: iters must be at least 1, got " + std::to_string(o.iters));
  if (!(o.lp_norm > 0 && o.lp_norm <= 1)) throw Error("HQQ: lp_norm must be in (0, 1], got " + std::to_string(o.lp_norm));
  if (!(o.beta > 0)) throw Error("HQQ: beta must be positive, got " + std::to_string(o.beta));
  if (!(o.kappa >= 1)) throw Error("HQQ: kappa must be at least 1, got " + std::to_string(o.kappa));
  if (o.axis != 0 && o.axis != 1) throw Error("HQQ: axis must be 0 or 1, got " + std::to_string(o.axis));
  const int64_t G = s.effective_group(in), ng = s.n_groups(in);
  const bool axis0 = o.axis == 0;
  if (axis0 && s.group_size <= 0) throw Error("HQQ: axis 0 needs a group size (hqq.axis=0 with group -1)");
  // axis 1: W.reshape([-1, group_size]); axis 0: W.reshape([group_size, -1]), transposed so a group is a row
  const at::Tensor Wf = W.detach().to(at::kFloat);
  const at::Tensor x = axis0 ? Wf.reshape({G, -1}).t().contiguous() : Wf.reshape({out * ng, G});
  at::Tensor inv_scale, zero;
  hqq_initial_params(x, s.bits, o.round_zero, &inv_scale, &zero);
  HqqResult r;
  if (o.optimize) r.iterations = hqq_optimize_zero(x, inv_scale, zero, s.bits, o);
  const double max_v = std::round(std::pow(2.0, s.bits) - 1.0);
  const at::Tensor wq = quantize_groups(x, inv_scale, zero, max_v);
  r.q.spec = s;
  const int64_t rows = axis0 ? x.size(0) : out, cols = axis0 ? G : in, groups = axis0 ? 1 : ng;
  r.q.codes = wq.to(at::kByte).reshape({rows, cols});
  r.q.scales = inv_scale.reciprocal().reshape({rows, groups});  // quantize.py `scale = 1.0 / scale`
  r.q.zeros = zero.reshape({rows, groups});
  r.q.zero_bytes = 2;  // HQQ keeps the zero in the compute dtype (fp16) when quant_zero is off
  if (axis0) r.q.axis0_out = out;
  r.error = (r.q.dequantize() - Wf).abs().mean().item<double>();
  return r;
}

}  // namespace ptq
