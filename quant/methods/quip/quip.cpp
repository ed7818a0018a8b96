#include "quant/methods/quip/quip.h"

#include <cmath>
#include <numeric>
#include <vector>

#include "core/runtime/errors.h"
#include "quant/methods/quip/incoherence.h"

namespace ptq {

namespace {

std::string where(const QuipOptions& o) { return o.layer.empty() ? "QuIP" : "QuIP, layer " + o.layer; }

void check_quip_inputs(const at::Tensor& W, const at::Tensor& H, const QuantSpec& s, const QuipOptions& o) {
  try {
    check_incoherence_kind(o.incoherence);
  } catch (const Error& e) {
    throw Error(where(o) + ": " + e.what());
  }
  if (o.rounding != "ldlq" && o.rounding != "gptq" && o.rounding != "nearest")
    throw Error(where(o) + ": unknown rounding '" + o.rounding + "' (choose from: ldlq, gptq, nearest)");
  if (o.grid != "rms" && o.grid != "minmax")
    throw Error(where(o) + ": unknown grid '" + o.grid + "' (choose from: rms, minmax)");
  if (o.greedy_passes < 0)
    throw Error(where(o) + ": greedy_passes must be >= 0, got " + std::to_string(o.greedy_passes));
  if (s.format != WeightFormat::Int) throw Error(where(o) + ": needs the int format, got " + format_name(s.format));
  if (!W.defined() || W.dim() != 2 || !H.defined() || H.dim() != 2 || H.size(0) != W.size(1) || H.size(1) != W.size(1))
    throw Error(where(o) + ": expected W [out, in] and H [in, in]");
  s.validate(W.size(1));
}

// qfn 'b' for every group: step σ = 2·2.4·RMS/(2^b-1) (the whole matrix without a group size) and
// the half-integer zero (2^b-1)/2, [rows, groups] each.
QuantParams rms_grid(const at::Tensor& Wp, const QuantSpec& s) {
  const int64_t rows = Wp.size(0), cols = Wp.size(1), ng = s.n_groups(cols);
  const double maxq = std::ldexp(1.0, s.bits) - 1.0;
  at::Tensor c = s.group_size > 0 ? Wp.reshape({rows, ng, cols / ng}).pow(2).mean(2).sqrt() * 2.4 + 1e-16
                                  : (Wp.pow(2).mean().sqrt() * 2.4 + 1e-16).expand({rows, 1}).clone();
  return {c * (2.0 / maxq), at::full_like(c, maxq / 2.0)};
}

// The group of every column (consecutive groups, or q.g_idx).
at::Tensor group_index(const QuantizedWeight& q) {
  if (q.g_idx.defined()) return q.g_idx.to(at::kLong);
  const int64_t cols = q.codes.size(1);
  return at::div(at::arange(cols, q.codes.options().dtype(at::kLong)), q.spec.effective_group(cols), "floor");
}

// round_ldl's greedy passes (vector_balance.py), blocked: for each column from the last, the code
// nearest to the value that minimises tr(ΔHΔᵀ) with the other columns fixed,
// q_i - (Δ·H[:, i])/H_ii. Δ·H[:, block] is formed once per block and updated by each change.
int64_t greedy_passes(QuantizedWeight& q, at::Tensor& Q, const at::Tensor& Wp, const at::Tensor& H, int64_t passes,
                      int64_t block) {
  const int64_t cols = Q.size(1);
  const double maxq = std::ldexp(1.0, q.spec.bits) - 1.0;
  const at::Tensor gi = group_index(q).to(Q.device());
  const at::Tensor sc = q.scales.index_select(1, gi), zr = q.zeros.index_select(1, gi);  // [rows, cols]
  at::Tensor D = Q - Wp;
  at::Tensor codes = q.codes.to(at::kFloat);
  int64_t run = 0;
  for (; run < passes; ++run) {
    bool changed = false;
    for (int64_t i2 = cols; i2 > 0; i2 -= block) {
      const int64_t i1 = std::max<int64_t>(0, i2 - block);
      at::Tensor HS = D.matmul(H.slice(1, i1, i2));  // [rows, i2 - i1]
      for (int64_t i = i2 - 1; i >= i1; --i) {
        const at::Tensor target = Q.select(1, i) - HS.select(1, i - i1) / H[i][i];
        const at::Tensor s = sc.select(1, i), z = zr.select(1, i);
        const at::Tensor c = at::clamp(at::round(target / s + z), 0.0, maxq);
        const at::Tensor d = s * (c - z) - Q.select(1, i);
        if (!at::any(d != 0).item<bool>()) continue;
        changed = true;
        Q.select(1, i).add_(d);
        D.select(1, i).add_(d);
        codes.select(1, i).copy_(c);
        HS.add_(d.unsqueeze(1) * H[i].slice(0, i1, i2).unsqueeze(0));
      }
    }
    if (!changed) break;
  }
  q.codes = codes.to(at::kByte);
  return run;
}

}  // namespace

QuipProcessed quip_preprocess(const at::Tensor& W, const at::Tensor& H0, const QuipOptions& o) {
  check_incoherence_kind(o.incoherence);
  at::Tensor w = W.detach().to(at::kFloat).clone();
  at::Tensor H = H0.detach().to(w.device(), at::kFloat).clone();
  QuipProcessed p;
  if (o.rescale) {  // method.py preproc_rescale
    H = H / H.abs().max();
    const at::Tensor dH = H.diagonal().clamp_min(1e-8), dW = w.pow(2).sum(0).clamp_min(1e-8);
    const at::Tensor s = (dH / dW).sqrt().sqrt().clamp_min(1e-8);
    w.mul_(s.unsqueeze(0));
    H = H / s.unsqueeze(0) / s.unsqueeze(1);
    p.col_scale = s;
  }
  const int64_t n = H.size(0);  // preproc_proj
  H = H * (double(n) / (H.trace().item<double>() + 1e-8)) + at::eye(n, H.options()) * 1e-2;
  const at::Tensor U = incoherence_matrix(o.incoherence, w.size(0), incoherence_side_seed(o.seed, 0)).to(w.device());
  const at::Tensor V = incoherence_matrix(o.incoherence, n, incoherence_side_seed(o.seed, 1)).to(w.device());
  p.W = U.matmul(w).matmul(V.t());
  p.H = V.matmul(H).matmul(V.t());
  return p;
}

at::Tensor quip_postprocess(const at::Tensor& Wp, const at::Tensor& col_scale, const QuipOptions& o) {
  const at::Tensor U = incoherence_matrix(o.incoherence, Wp.size(0), incoherence_side_seed(o.seed, 0)).to(Wp.device());
  const at::Tensor V = incoherence_matrix(o.incoherence, Wp.size(1), incoherence_side_seed(o.seed, 1)).to(Wp.device());
  at::Tensor w = U.t().matmul(Wp.to(at::kFloat)).matmul(V);
  return col_scale.defined() ? w / col_scale.to(w.device()).unsqueeze(0) : w;
}

namespace {

// Rounds the processed weight (step 4): the integer form (on W's device) and its dequantized values.
QuantizedWeight round_processed(const QuipProcessed& p, const QuantSpec& s, const QuipOptions& o, at::Tensor* Q,
                                int64_t* dead) {
  const bool rms = o.grid == "rms";
  QuantSpec grid_spec = s;
  if (rms) grid_spec.symmetric = true;  // the constant zero (2^b-1)/2 is not stored
  if (o.rounding == "nearest") {
    QuantizedWeight q = rms ? QuantizedWeight{} : quantize_weight(p.W, s);
    if (rms) {
      const QuantParams g = rms_grid(p.W, s);
      const int64_t ng = g.scale.size(1), cols = p.W.size(1);
      const at::Tensor sc = g.scale.repeat_interleave(cols / ng, 1), zr = g.zero.repeat_interleave(cols / ng, 1);
      q.spec = grid_spec;
      q.codes = at::clamp(at::round(p.W / sc + zr), 0.0, std::ldexp(1.0, s.bits) - 1.0).to(at::kByte);
      q.scales = g.scale;
      q.zeros = g.zero;
    }
    *Q = q.dequantize().to(p.W.device());
    return q;
  }
  GptqOptions go = o.gptq;
  if (o.rounding == "ldlq") {  // the reverse column order
    go.act_order = false;
    go.static_groups = false;
    go.order.resize(size_t(p.W.size(1)));
    std::iota(go.order.rbegin(), go.order.rend(), int64_t(0));
  }
  at::Tensor target = p.W;
  QuantParams g;
  if (rms) {  // qfn 'b' through the kernel's integer grid: shift by σ/2 and use the integer zero z - ½
    g = rms_grid(p.W, s);
    go.fixed_scale = g.scale;
    go.fixed_zero = g.zero - 0.5;
    go.static_groups = false;
    target = p.W + (g.scale * 0.5).repeat_interleave(p.W.size(1) / g.scale.size(1), 1);
  }
  GptqResult r;
  try {
    r = gptq_quantize(target, p.H, s, go);
  } catch (const Error& e) {
    throw Error(where(o) + ": " + e.what());
  }
  *dead = r.dead_columns;
  QuantizedWeight q = r.q;
  if (rms) {  // back to the grid's own zero: (c - z + ½)·σ - σ/2 = (c - z)·σ
    q.spec = grid_spec;
    q.zeros = g.zero;
  }
  *Q = q.dequantize().to(p.W.device());
  return q;
}

}  // namespace

QuipResult quip_quantize(const at::Tensor& W, const at::Tensor& H, const QuantSpec& s, const QuipOptions& o) {
  check_quip_inputs(W, H, s, o);
  QuipResult res;
  res.mu_before = incoherence_mu(W);
  const QuipProcessed p = quip_preprocess(W, H, o);
  res.mu_after = incoherence_mu(p.W);
  at::Tensor Q;
  QuantizedWeight q = round_processed(p, s, o, &Q, &res.dead_columns);
  // The damped H' the rounding used (gptq.py's damping), for the greedy passes and the proxy loss.
  at::Tensor Hd = p.H.clone();
  Hd.diagonal().add_(at::diag(Hd).mean() * o.gptq.percdamp);
  if (o.rounding == "ldlq" && o.greedy_passes > 0)
    res.greedy_passes_run = greedy_passes(q, Q, p.W, Hd, o.greedy_passes, std::max<int64_t>(1, o.gptq.blocksize));
  const at::Tensor D = (Q - p.W).to(at::kDouble);
  res.proxy_loss = (D.matmul(p.H.to(at::kDouble)) * D).sum().item<double>();
  q.incoherence = o.incoherence;
  q.incoherence_seed = o.seed;
  q.col_scale = p.col_scale;
  res.q = q;
  return res;
}

}  // namespace ptq
