#include "quant/methods/gptq/gptq.h"
#include "quant/methods/gptq/gptq_columns.h"

#include <ATen/ATen.h>
#include <torch/version.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/runtime/device.h"
#include "core/runtime/env_switch.h"
#include "core/runtime/errors.h"

namespace ptq {

HessianAccumulator::HessianAccumulator(int64_t in_features, at::Device dev) : in_(in_features) {
  if (in_features <= 0)
    throw Error("HessianAccumulator: in_features must be positive, got " +
                std::to_string(in_features));
  H_ = at::zeros({in_, in_}, at::TensorOptions().dtype(at::kFloat).device(dev));
}

void HessianAccumulator::add(const at::Tensor& inp) {
  if (!inp.defined() || (inp.dim() != 2 && inp.dim() != 3))
    throw Error("HessianAccumulator: expected input [tokens, in] or [batch, seq, in]");
  if (inp.size(-1) != in_)
    throw Error("HessianAccumulator: input has " + std::to_string(inp.size(-1)) +
                " features, expected " + std::to_string(in_));
  if (!at::isFloatingType(inp.scalar_type()))
    throw Error("HessianAccumulator: expected a floating-point input");
  // gptq.py: a 2-D input is unsqueezed to a batch of one; tmp = inp.shape[0].
  const int64_t k = inp.dim() == 3 ? inp.size(0) : 1;
  if (k == 0 || inp.numel() == 0) return;
  const at::Tensor src = inp.detach().reshape({-1, in_});
  if (tf32_ && add_16bit_products(src, k)) return;
  at::Tensor x = src.to(H_.device(), at::kFloat);
  H_.mul_(static_cast<double>(nsamples_) / static_cast<double>(nsamples_ + k));
  nsamples_ += k;
  const double f = std::sqrt(2.0 / static_cast<double>(nsamples_));
  if (x.data_ptr() == src.data_ptr())
    x = x * f;  // the caller's tensor
  else
    x.mul_(f);  // a converted copy: scale in place, no second float32 copy
  if (tf32_ && x.is_cuda()) {
    ScopedTf32 tf32(true);
    H_.addmm_(x.t(), x);  // accumulates into H: no [in, in] temporary
  } else {
    H_.add_(x.t().matmul(x));
  }
}

// H·n/(n+k) + 2/(n+k)·xᵀx with x in bf16/fp16 (CUDA, LibTorch >= 2.8): the products of two 16-bit
// values are exact in float32 and the tensor cores accumulate in float32, so this is the float32
// product up to the order of the sums (more exact than TF32, which rounds the scaled x to 10 bits),
// without a float32 copy of x. False: not applicable, nothing done.
bool HessianAccumulator::add_16bit_products(const at::Tensor& src, int64_t k) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 8)
  const at::ScalarType t = src.scalar_type();
  if (!H_.is_cuda() || (t != at::kBFloat16 && t != at::kHalf)) return false;
  const at::Tensor x = src.to(H_.device());
  const double keep = static_cast<double>(nsamples_) / static_cast<double>(nsamples_ + k);
  nsamples_ += k;
  const at::Tensor g = at::mm(x.t(), x, at::kFloat);  // float32 out, float32 accumulation
  H_.mul_(keep).add_(g, 2.0 / static_cast<double>(nsamples_));
  return true;
#else
  (void)src;
  (void)k;
  return false;
#endif
}

namespace {

[[noreturn]] void not_positive_definite(const std::string& step, int64_t column, double percdamp) {
  throw Error("GPTQ: damped Hessian is not positive definite (" + step + " failed at column " + std::to_string(column) +
              "); increase percdamp (now " + std::to_string(percdamp) + ") or the calibration data");
}

at::Tensor gptq_py_hinv_upper(const at::Tensor& H, double percdamp) {
  auto l = at::linalg_cholesky_ex(H, /*upper=*/false, /*check_errors=*/false);
  if (const int64_t info = std::get<1>(l).item<int64_t>()) not_positive_definite("Cholesky of H", info - 1, percdamp);
  auto u = at::linalg_cholesky_ex(at::cholesky_inverse(std::get<0>(l)), /*upper=*/true, /*check_errors=*/false);
  if (const int64_t info = std::get<1>(u).item<int64_t>()) not_positive_definite("Cholesky of H^-1", info - 1, percdamp);
  return std::get<0>(u);
}

}  // namespace

// gptq.py takes U through cholesky(H) -> cholesky_inverse -> cholesky(H^-1, upper): three cubic
// factorizations. The same U comes from one: with J the order reversal, cholesky(J H J) = L' gives
// H = R R^T for the upper triangular R = J L' J, so H^-1 = R^-T R^-1 and U = R^-1 = J L'^-1 J (the
// Cholesky factor is unique). On the H200 this took an 11008-column H from 0.114 s to 0.035 s;
// test_quant_primitives checks U against float64 next to gptq.py's chain. PTQ_GPTQ_PY_HINV=1 runs
// gptq.py's chain instead (to compare with the reference code's arithmetic).
at::Tensor hinv_upper(const at::Tensor& H, double percdamp) {
  const int64_t n = H.size(0);
  static const bool chain = env_switch_set("PTQ_GPTQ_PY_HINV");
  if (chain) return gptq_py_hinv_upper(H, percdamp);
  auto l = at::linalg_cholesky_ex(H.flip({0, 1}), /*upper=*/false, /*check_errors=*/false);
  if (const int64_t info = std::get<1>(l).item<int64_t>()) not_positive_definite("Cholesky of H, from its last column,", n - info, percdamp);
  at::Tensor inv = at::linalg_solve_triangular(std::get<0>(l), at::eye(n, H.options()), /*upper=*/false);
  std::get<0>(l) = at::Tensor();
  return inv.flip({0, 1});
}

namespace {

// Everything gptq_quantize works on: the float32 weight and Hessian (permuted under act_order),
// the upper Cholesky factor of H⁻¹ and the outputs being filled.
struct GptqWork {
  const QuantSpec& s;
  const GptqOptions& o;
  int64_t rows = 0, cols = 0, G = 0, ng = 0;
  int64_t nq = 0;  // quantized columns (the first nq of the order; cols unless OWQ)
  bool grouped = false, is_int = false, permuted = false;
  bool use_static = false;          // static_sc / static_zr hold every group's parameters
  at::Tensor Wf, H, Hinv;
  QuantParams cur;                  // per-channel parameters, or the current dynamic group's
  at::Tensor static_sc, static_zr;  // static groups: every group's parameters, [rows, ng]
  std::vector<int64_t> perm_v;      // perm[j] = original column processed at position j
  at::Tensor invperm;
  at::Tensor Q, codes, scales, zeros, row_loss;
  int64_t dead_columns = 0;
  at::Tensor nv_global;             // NVFP4: max |W| of the original weight (its FP32 global scale)
  GptqWork(const QuantSpec& spec, const GptqOptions& opt) : s(spec), o(opt) {}
};

// find_params, or the caller's (OWQ's MSE grid).
QuantParams group_params(const GptqWork& g, const at::Tensor& x) {
  return g.o.find_params_fn ? g.o.find_params_fn(x) : find_params(x, g.s, g.nv_global);
}

void check_gptq_inputs(const at::Tensor& W, const at::Tensor& H, const QuantSpec& s, const GptqOptions& o) {
  if (!W.defined() || W.dim() != 2) throw Error("GPTQ: weight must be a 2-D tensor [out, in]");
  if (!at::isFloatingType(W.scalar_type())) throw Error("GPTQ: weight must be floating point");
  const int64_t rows = W.size(0), cols = W.size(1);
  if (!H.defined() || H.dim() != 2 || H.size(0) != cols || H.size(1) != cols)
    throw Error("GPTQ: Hessian must be [" + std::to_string(cols) + ", " +
                std::to_string(cols) + "] for a weight with " + std::to_string(cols) +
                " input features");
  if (rows <= 0) throw Error("GPTQ: weight has no rows");
  s.validate(cols);
  if (o.blocksize <= 0) throw Error("GPTQ: blocksize must be positive, got " +
                                    std::to_string(o.blocksize));
  if (!(o.percdamp >= 0.0)) throw Error("GPTQ: percdamp must be >= 0, got " +
                                        std::to_string(o.percdamp));
  if (o.quantized_columns > cols || o.quantized_columns == 0)
    throw Error("GPTQ: quantized_columns must be in 1.." + std::to_string(cols) + " (or -1), got " +
                std::to_string(o.quantized_columns));
  if (!o.order.empty()) {
    std::vector<char> seen(size_t(cols), 0);
    bool ok = int64_t(o.order.size()) == cols;
    for (size_t i = 0; ok && i < o.order.size(); ++i) {
      ok = o.order[i] >= 0 && o.order[i] < cols && !seen[size_t(o.order[i])];
      if (ok) seen[size_t(o.order[i])] = 1;
    }
    if (!ok) throw Error("GPTQ: the column order must be a permutation of 0.." + std::to_string(cols - 1));
    if (o.act_order || o.static_groups) throw Error("GPTQ: a given column order excludes act_order and static_groups");
  }
  if (o.fixed_scale.defined()) {
    const int64_t ng = s.n_groups(cols);
    if (s.format != WeightFormat::Int || !o.fixed_zero.defined() || o.fixed_scale.sizes() != o.fixed_zero.sizes() ||
        o.fixed_scale.dim() != 2 || o.fixed_scale.size(0) != rows || o.fixed_scale.size(1) != ng ||
        o.quantized_columns >= 0)
      throw Error("GPTQ: fixed parameters need the Int format, scale and zero of shape [" + std::to_string(rows) +
                  ", " + std::to_string(ng) + "] and all columns quantized");
  }
}

// fasterquant up to the column loop: initial parameters, dead columns, static groups, act_order
// permutation, damping and H⁻¹, in gptq.py's order.
void prepare_gptq(GptqWork& g) {
  const QuantSpec& s = g.s;
  const GptqOptions& o = g.o;
  // gptq.py calls quantizer.find_params(W) before the dead-column step; this is what the
  // per-channel mode uses (in group mode it is overwritten at column 0).
  if (!g.grouped && !g.use_static) g.cur = group_params(g, g.Wf.slice(1, 0, g.nq));  // OWQ: the quantized columns only

  const at::Tensor dead = g.H.diagonal() == 0;
  g.dead_columns = dead.sum().item<int64_t>();
  if (g.dead_columns > 0) {
    g.H.diagonal().masked_fill_(dead, 1.0);      // H[dead, dead] = 1
    g.Wf.masked_fill_(dead.unsqueeze(0), 0.0);   // W[:, dead] = 0
  }

  if (o.fixed_scale.defined()) {
    g.static_sc = o.fixed_scale.to(g.Wf.device(), at::kFloat);
    g.static_zr = o.fixed_zero.to(g.Wf.device(), at::kFloat);
  } else if (g.grouped && o.static_groups) {  // on the original (dead-zeroed) W
    std::vector<at::Tensor> sc, zr;
    for (int64_t k = 0; k < g.ng; ++k) {
      QuantParams p = find_params(g.Wf.slice(1, k * g.G, (k + 1) * g.G), s, g.nv_global);
      sc.push_back(p.scale);
      if (g.is_int) zr.push_back(p.zero);
    }
    g.static_sc = at::cat(sc, 1);
    if (g.is_int) g.static_zr = at::cat(zr, 1);
  }

  if (g.permuted) {
    // Stable sort by decreasing diag(H): deterministic ties (gptq.py's argsort is not stable).
    const at::Tensor perm =
        !o.order.empty() ? at::tensor(o.order, at::kLong).to(g.Wf.device())
                         : std::get<1>(at::sort(g.H.diagonal(), /*stable=*/true, /*dim=*/0, /*descending=*/true));
    g.Wf = g.Wf.index_select(1, perm);
    g.H = g.H.index_select(0, perm).index_select(1, perm);
    g.invperm = at::empty_like(perm).scatter_(0, perm, at::arange(g.cols, perm.options()));
    const at::Tensor pc = perm.to(at::kCPU).contiguous();
    g.perm_v.assign(pc.data_ptr<int64_t>(), pc.data_ptr<int64_t>() + g.cols);
  }

  // damp = percdamp * mean(diag(H)); H[diag, diag] += damp. The mean is taken over a
  // contiguous copy (torch.diag), which fixes the summation order as in gptq.py.
  g.H.diagonal().add_(at::diag(g.H).mean() * o.percdamp);
  g.Hinv = hinv_upper(g.H, o.percdamp);

  const auto fopt = g.Wf.options();
  g.Q = at::zeros_like(g.Wf);
  g.codes = at::zeros({g.rows, g.cols}, fopt.dtype(at::kByte));
  g.scales = at::zeros({g.rows, g.ng}, fopt);
  if (g.is_int) g.zeros = at::zeros({g.rows, g.ng}, fopt);
  g.row_loss = at::zeros({g.rows}, fopt.dtype(at::kDouble));
}

// Per-column quantization parameters of the block [i1, i1 + count). gptq.py finds a group's
// parameters when its first column comes up, from the global W: updated by the earlier blocks but
// not yet by the columns of the current block, so every group starting in this block can be found
// before its loop.
void fill_block_params(GptqWork& g, ColumnBlock& b, int64_t i1, int64_t count) {
  auto fill = [&](int64_t from, int64_t to, const QuantParams& p) {
    b.S1.slice(1, from, to).copy_(p.scale.expand({g.rows, to - from}));
    if (g.is_int) b.Z1.slice(1, from, to).copy_(p.zero.expand({g.rows, to - from}));
  };
  if (!g.use_static && !g.grouped) {
    fill(0, count, g.cur);
  } else if (!g.use_static) {
    for (int64_t i = 0; i < count;) {
      const int64_t col = i1 + i;
      if (col % g.G == 0) {
        g.cur = group_params(g, g.Wf.slice(1, col, std::min(col + g.G, g.nq)));
        g.scales.select(1, col / g.G).copy_(g.cur.scale.squeeze(1));
        if (g.is_int) g.zeros.select(1, col / g.G).copy_(g.cur.zero.squeeze(1));
      }
      const int64_t j = std::min(count, i + (g.G - col % g.G));
      fill(i, j, g.cur);
      i = j;
    }
  } else {
    std::vector<int64_t> gi(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i)
      gi[size_t(i)] = (g.permuted ? g.perm_v[size_t(i1 + i)] : i1 + i) / g.G;
    const at::Tensor idx = at::tensor(gi, at::kLong).to(g.Wf.device());
    b.S1.slice(1, 0, count).copy_(g.static_sc.index_select(1, idx));
    if (g.is_int) b.Z1.slice(1, 0, count).copy_(g.static_zr.index_select(1, idx));
  }
}

// The lazy-batch blocks: each block's columns run in the ColumnRunner, then the block's error
// updates the columns to its right.
ColumnLoop run_column_blocks(GptqWork& g) {
  const int64_t bs = g.o.blocksize;
  ColumnRunner runner(g.s, g.rows, std::min(bs, g.cols), g.Wf.device());
  for (int64_t i1 = 0; i1 < g.nq; i1 += bs) {
    const int64_t i2 = std::min(i1 + bs, g.nq), count = i2 - i1;
    ColumnBlock& b = runner.block();
    b.W1.slice(1, 0, count).copy_(g.Wf.slice(1, i1, i2));
    b.Hinv1.slice(0, 0, count).slice(1, 0, count).copy_(g.Hinv.slice(0, i1, i2).slice(1, i1, i2));
    fill_block_params(g, b, i1, count);
    runner.run(count);
    g.Q.slice(1, i1, i2).copy_(b.Q1.slice(1, 0, count));
    g.codes.slice(1, i1, i2).copy_(b.C1.slice(1, 0, count));
    const at::Tensor Err1 = b.Err1.slice(1, 0, count);
    g.row_loss += Err1.pow(2).sum(1).to(at::kDouble) / 2;  // gptq.py's Losses: (w-q)²/d²/2
    if (i2 < g.cols) g.Wf.slice(1, i2).sub_(Err1.matmul(g.Hinv.slice(0, i1, i2).slice(1, i2)));
  }
  return runner.loop();
}

// The integer form in the original column order, and the dequantized weight in W's dtype.
GptqResult finish_gptq(GptqWork& g, at::ScalarType out_dtype) {
  if (g.use_static) {
    g.scales = g.static_sc;
    g.zeros = g.static_zr;
  } else if (!g.grouped) {
    g.scales = g.cur.scale;
    g.zeros = g.cur.zero;
  }
  GptqResult res;
  res.dead_columns = g.dead_columns;
  res.q.spec = g.s;
  res.q.scales = g.scales;
  res.q.zeros = g.is_int ? g.zeros : at::Tensor();
  // OWQ: the columns after the quantized ones keep their compensated values (recon.py
  // `Q[:, n_nonout:] = W[:, n_nonout:]`).
  if (g.nq < g.cols) g.Q.slice(1, g.nq).copy_(g.Wf.slice(1, g.nq));
  if (g.permuted) {
    g.Q = g.Q.index_select(1, g.invperm);
    g.codes = g.codes.index_select(1, g.invperm);
    // Dynamic groups were formed in the permuted order: column c sits at position
    // invperm[c], i.e. in group invperm[c] / G. Static groups stay consecutive.
    if (g.grouped && !g.use_static) res.q.g_idx = at::div(g.invperm, g.G, "floor");
  }
  res.q.codes = g.codes;
  res.weight = g.Q.to(out_dtype);
  res.row_loss = g.row_loss;
  res.loss = g.row_loss.sum().item<double>();
  return res;
}

}  // namespace

GptqResult gptq_quantize(const at::Tensor& W, at::Tensor H, const QuantSpec& s,
                         const GptqOptions& o) {
  check_gptq_inputs(W, H, s, o);
  GptqWork g(s, o);
  g.rows = W.size(0);
  g.cols = W.size(1);
  g.Wf = W.detach().to(at::kFloat).clone();
  g.H = H.detach().to(W.device(), at::kFloat).clone();  // the caller's H is left untouched
  g.grouped = s.group_size > 0;
  g.G = s.effective_group(g.cols);
  g.nq = o.quantized_columns < 0 ? g.cols : o.quantized_columns;
  g.ng = g.nq < g.cols ? (g.grouped ? (g.nq + g.G - 1) / g.G : 1) : s.n_groups(g.cols);
  g.is_int = s.format == WeightFormat::Int;
  g.permuted = o.act_order || !o.order.empty();
  g.use_static = o.fixed_scale.defined() || (g.grouped && o.static_groups);
  if (s.format == WeightFormat::NVFP4) g.nv_global = g.Wf.abs().amax();  // llm-compressor: from the weight before GPTQ
  prepare_gptq(g);
  const ColumnLoop loop = run_column_blocks(g);
  GptqResult res = finish_gptq(g, W.scalar_type());
  res.column_loop = loop;
  return res;
}

}  // namespace ptq
