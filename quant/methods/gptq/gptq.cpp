#include "quant/methods/gptq/gptq.h"
#include "quant/methods/gptq/gptq_columns.h"

#include <ATen/ATen.h>

#include <cmath>
#include <string>
#include <vector>

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
  at::Tensor x = src.to(H_.device(), at::kFloat);
  H_.mul_(static_cast<double>(nsamples_) / static_cast<double>(nsamples_ + k));
  nsamples_ += k;
  const double f = std::sqrt(2.0 / static_cast<double>(nsamples_));
  if (x.data_ptr() == src.data_ptr())
    x = x * f;  // the caller's tensor
  else
    x.mul_(f);  // a converted copy: scale in place, no second float32 copy
  if (tf32_ && x.is_cuda()) {
    auto& ctx = at::globalContext();
    const bool prev = ctx.allowTF32CuBLAS();
    ctx.setAllowTF32CuBLAS(true);
    H_.addmm_(x.t(), x);  // accumulates into H: no [in, in] temporary
    ctx.setAllowTF32CuBLAS(prev);
  } else {
    H_.add_(x.t().matmul(x));
  }
}

namespace {

// Upper Cholesky factor of inv(H) as gptq.py: cholesky -> cholesky_inverse -> cholesky(upper).
at::Tensor hinv_upper(const at::Tensor& H, double percdamp) {
  auto fail = [&](const char* step, const at::Tensor& info) {
    throw Error(std::string("GPTQ: damped Hessian is not positive definite (") + step +
                " failed at column " + std::to_string(info.item<int64_t>()) +
                "); increase percdamp (now " + std::to_string(percdamp) +
                ") or the calibration data");
  };
  auto l = at::linalg_cholesky_ex(H, /*upper=*/false, /*check_errors=*/false);
  if (std::get<1>(l).item<int64_t>() != 0) fail("Cholesky of H", std::get<1>(l));
  const at::Tensor hinv = at::cholesky_inverse(std::get<0>(l));
  auto u = at::linalg_cholesky_ex(hinv, /*upper=*/true, /*check_errors=*/false);
  if (std::get<1>(u).item<int64_t>() != 0) fail("Cholesky of H^-1", std::get<1>(u));
  return std::get<0>(u);
}

}  // namespace

GptqResult gptq_quantize(const at::Tensor& W, at::Tensor H, const QuantSpec& s,
                         const GptqOptions& o) {
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

  const at::Device dev = W.device();
  at::Tensor Wf = W.detach().to(at::kFloat).clone();
  H = H.detach().to(dev, at::kFloat).clone();  // the caller's H is left untouched
  const bool grouped = s.group_size > 0;
  const int64_t G = s.effective_group(cols), ng = s.n_groups(cols);
  const bool is_int = s.format == WeightFormat::Int;

  // gptq.py calls quantizer.find_params(W) before the dead-column step; this is what the
  // per-channel mode uses (in group mode it is overwritten at column 0).
  QuantParams cur;
  if (!grouped) cur = find_params(Wf, s);

  GptqResult res;
  const at::Tensor dead = H.diagonal() == 0;
  res.dead_columns = dead.sum().item<int64_t>();
  if (res.dead_columns > 0) {
    H.diagonal().masked_fill_(dead, 1.0);      // H[dead, dead] = 1
    Wf.masked_fill_(dead.unsqueeze(0), 0.0);   // W[:, dead] = 0
  }

  std::vector<QuantParams> static_params;  // on the original (dead-zeroed) W
  if (grouped && o.static_groups)
    for (int64_t g = 0; g < ng; ++g)
      static_params.push_back(find_params(Wf.slice(1, g * G, (g + 1) * G), s));

  std::vector<int64_t> perm_v;  // perm[j] = original column processed at position j
  at::Tensor perm, invperm;
  if (o.act_order) {
    // Stable sort by decreasing diag(H): deterministic ties (gptq.py's argsort is not stable).
    perm = std::get<1>(at::sort(H.diagonal(), /*stable=*/true, /*dim=*/0, /*descending=*/true));
    Wf = Wf.index_select(1, perm);
    H = H.index_select(0, perm).index_select(1, perm);
    invperm = at::empty_like(perm).scatter_(0, perm, at::arange(cols, perm.options()));
    const at::Tensor pc = perm.to(at::kCPU).contiguous();
    perm_v.assign(pc.data_ptr<int64_t>(), pc.data_ptr<int64_t>() + cols);
  }

  // damp = percdamp * mean(diag(H)); H[diag, diag] += damp. The mean is taken over a
  // contiguous copy (torch.diag), which fixes the summation order as in gptq.py.
  H.diagonal().add_(at::diag(H).mean() * o.percdamp);
  const at::Tensor Hinv = hinv_upper(H, o.percdamp);

  const auto fopt = Wf.options();
  at::Tensor Q = at::zeros_like(Wf);
  at::Tensor codes = at::zeros({rows, cols}, fopt.dtype(at::kByte));
  at::Tensor scales = at::zeros({rows, ng}, fopt), zeros;
  if (is_int) zeros = at::zeros({rows, ng}, fopt);
  at::Tensor row_loss = at::zeros({rows}, fopt.dtype(at::kDouble));

  // Static groups: parameters of every group, gathered per column below.
  at::Tensor static_sc, static_zr;
  if (grouped && o.static_groups) {
    std::vector<at::Tensor> sc, zr;
    for (const auto& p : static_params) {
      sc.push_back(p.scale);
      if (is_int) zr.push_back(p.zero);
    }
    static_sc = at::cat(sc, 1);
    if (is_int) static_zr = at::cat(zr, 1);
  }

  ColumnRunner runner(s, rows, std::min(o.blocksize, cols), dev);
  for (int64_t i1 = 0; i1 < cols; i1 += o.blocksize) {
    const int64_t i2 = std::min(i1 + o.blocksize, cols), count = i2 - i1;
    ColumnBlock& b = runner.block();
    b.W1.slice(1, 0, count).copy_(Wf.slice(1, i1, i2));
    b.Hinv1.slice(0, 0, count).slice(1, 0, count).copy_(Hinv.slice(0, i1, i2).slice(1, i1, i2));
    // Per-column quantization parameters. gptq.py finds a group's parameters when its first
    // column comes up, from the global W: updated by the earlier blocks but not yet by the columns
    // of the current block, so every group starting in this block can be found before its loop.
    auto fill = [&](int64_t from, int64_t to, const QuantParams& p) {
      b.S1.slice(1, from, to).copy_(p.scale.expand({rows, to - from}));
      if (is_int) b.Z1.slice(1, from, to).copy_(p.zero.expand({rows, to - from}));
    };
    if (!grouped) {
      fill(0, count, cur);
    } else if (!o.static_groups) {
      for (int64_t i = 0; i < count;) {
        const int64_t col = i1 + i;
        if (col % G == 0) {
          cur = find_params(Wf.slice(1, col, col + G), s);
          scales.select(1, col / G).copy_(cur.scale.squeeze(1));
          if (is_int) zeros.select(1, col / G).copy_(cur.zero.squeeze(1));
        }
        const int64_t j = std::min(count, i + (G - col % G));
        fill(i, j, cur);
        i = j;
      }
    } else {
      std::vector<int64_t> gi(static_cast<size_t>(count));
      for (int64_t i = 0; i < count; ++i) gi[size_t(i)] = (o.act_order ? perm_v[size_t(i1 + i)] : i1 + i) / G;
      const at::Tensor idx = at::tensor(gi, at::kLong).to(dev);
      b.S1.slice(1, 0, count).copy_(static_sc.index_select(1, idx));
      if (is_int) b.Z1.slice(1, 0, count).copy_(static_zr.index_select(1, idx));
    }
    runner.run(count);
    Q.slice(1, i1, i2).copy_(b.Q1.slice(1, 0, count));
    codes.slice(1, i1, i2).copy_(b.C1.slice(1, 0, count));
    const at::Tensor Err1 = b.Err1.slice(1, 0, count);
    row_loss += Err1.pow(2).sum(1).to(at::kDouble) / 2;  // gptq.py's Losses: (w-q)²/d²/2
    if (i2 < cols) Wf.slice(1, i2).sub_(Err1.matmul(Hinv.slice(0, i1, i2).slice(1, i2)));
  }

  if (!grouped) {
    scales = cur.scale;
    zeros = cur.zero;
  } else if (o.static_groups) {
    scales = static_sc;
    zeros = static_zr;
  }

  res.q.spec = s;
  res.q.scales = scales;
  res.q.zeros = is_int ? zeros : at::Tensor();
  if (o.act_order) {
    Q = Q.index_select(1, invperm);
    codes = codes.index_select(1, invperm);
    // Dynamic groups were formed in the permuted order: column c sits at position
    // invperm[c], i.e. in group invperm[c] / G. Static groups stay consecutive.
    if (grouped && !o.static_groups) res.q.g_idx = at::div(invperm, G, "floor");
  }
  res.q.codes = codes;
  res.weight = Q.to(W.scalar_type());
  res.row_loss = row_loss;
  res.loss = row_loss.sum().item<double>();
  return res;
}

}  // namespace ptq
