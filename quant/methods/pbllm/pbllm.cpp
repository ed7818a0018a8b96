#include "quant/methods/pbllm/pbllm.h"

#include <algorithm>
#include <string>

#include "core/runtime/errors.h"
#include "quant/methods/pbllm/binary_common.h"

namespace ptq {

void check_pbllm_options(const PbllmOptions& o) {
  if (!(o.salient_fraction > 0 && o.salient_fraction < 1))
    throw Error("pbllm.salient_fraction = " + std::to_string(o.salient_fraction) + " must be in (0, 1)");
  if (o.criterion != "magnitude" && o.criterion != "hessian")
    throw Error("pbllm.criterion = '" + o.criterion + "' is not one of: magnitude, hessian");
  if (o.kept != "int8" && o.kept != "fp16")
    throw Error("pbllm.kept = '" + o.kept + "' is not one of: int8, fp16");
  if (o.blocksize < 1) throw Error("pbllm.blocksize must be at least 1, got " + std::to_string(o.blocksize));
  if (o.group_size == 0 || o.group_size < -1)
    throw Error("pbllm: the group size must be -1 (per row) or positive, got " + std::to_string(o.group_size));
}

PbllmStorage pbllm_storage(int64_t out, int64_t in, int64_t salient, int64_t groups, const std::string& kept) {
  const int64_t n = out * in;
  const int64_t index_bits = in <= 65536 ? 16 : 32;
  const int64_t bitmap = bits_to_bytes(n), indices = bits_to_bytes(salient * index_bits) + out * 4;
  PbllmStorage s;
  s.mask_encoding = bitmap <= indices ? "bitmap" : "indices";
  s.bytes = bits_to_bytes(n - salient) + std::min(bitmap, indices);  // signs, mask
  s.bytes += kept == "int8" ? salient + out * 3 : salient * 2;        // kept weights (+ fp16 scale, 8-bit zero per row)
  s.bytes += out * groups * 4;                                        // fp16 μ and α per row and group
  return s;
}

namespace {

// HighQuantizer(8, perchannel=True, sym=False, mse=False).calibrate(W, weight=True).
struct HighParams {
  at::Tensor scale, zero;  // [out, 1]
};

HighParams high_params(const at::Tensor& W) {
  const at::Tensor z = at::zeros({W.size(0), 1}, W.options());
  at::Tensor xmin = at::minimum(std::get<0>(W.min(1, true)), z), xmax = at::maximum(std::get<0>(W.max(1, true)), z);
  const at::Tensor both = (xmin == 0) & (xmax == 0);
  xmin = xmin.masked_fill(both, -1.0);
  xmax = xmax.masked_fill(both, 1.0);
  HighParams p;
  p.scale = (xmax - xmin) / 255.0;
  p.zero = at::round(-xmin / p.scale);
  return p;
}

// The binarized mask and each group's μ, α (LowQuantizer "xnor" calibrate), from the
// dead-zeroed W before the column loop.
struct LowParams {
  at::Tensor mask;        // bool [out, in]: binarized
  at::Tensor mean, scale; // [out, groups]
};

LowParams low_params(const DampedHessian& d, const PbllmOptions& o, int64_t G, int64_t ng) {
  const at::Tensor& W = d.W;
  const int64_t in = W.size(1);
  const double low_frac = 1.0 - o.salient_fraction;
  LowParams p;
  p.mask = at::zeros_like(W, W.options().dtype(at::kBool));
  p.mean = at::zeros({W.size(0), ng}, W.options());
  p.scale = at::zeros({W.size(0), ng}, W.options());
  for (int64_t g = 0; g < ng; ++g) {
    const int64_t st = g * G, ed = std::min(st + G, in);
    const at::Tensor w = W.slice(1, st, ed);
    const at::Tensor sal = o.criterion == "magnitude"
                               ? w.abs()
                               : w.pow(2) / at::diag(d.Hinv.slice(0, st, ed).slice(1, st, ed)).reshape({1, -1}).pow(2);
    const at::Tensor sorted = std::get<0>(at::sort(sal.flatten()));
    const int64_t k = std::min<int64_t>(int64_t(double(sal.numel()) * low_frac), sal.numel() - 1);
    const at::Tensor m = sal <= sorted[k];
    p.mask.slice(1, st, ed).copy_(m);
    const at::Tensor wm = w * m;
    const at::Tensor mu = wm.mean(-1, true);
    p.mean.slice(1, g, g + 1).copy_(mu);
    p.scale.slice(1, g, g + 1).copy_((wm - mu).abs().mean(-1, true));
  }
  return p;
}

}  // namespace

PbllmResult pbllm_quantize(const at::Tensor& W, const at::Tensor& H, const PbllmOptions& o) {
  check_pbllm_options(o);
  const HighParams hp = high_params(W.detach().to(at::kFloat));  // before the dead columns are zeroed
  DampedHessian d = damp_and_invert(W, H, o.percdamp);
  const int64_t out = d.W.size(0), in = d.W.size(1);
  const int64_t G = o.group_size > 0 ? std::min(o.group_size, in) : in, ng = (in + G - 1) / G;
  const LowParams lp = low_params(d, o, G, ng);
  at::Tensor& Wf = d.W;
  const at::Tensor& Hinv = d.Hinv;
  at::Tensor row_loss = at::zeros({out}, Wf.options());
  for (int64_t st = 0; st < in; st += o.blocksize) {
    const int64_t ed = std::min(st + o.blocksize, in), n = ed - st;
    at::Tensor W1 = Wf.slice(1, st, ed).clone(), Q1 = at::zeros_like(W1), Err1 = at::zeros_like(W1);
    const at::Tensor Hinv1 = Hinv.slice(0, st, ed).slice(1, st, ed);
    for (int64_t i = 0; i < n; ++i) {
      const at::Tensor w = W1.select(1, i), dd = Hinv1[i][i];
      const at::Tensor q_high =
          o.kept == "int8"
              ? hp.scale.squeeze(1) * (at::clamp(at::round(w / hp.scale.squeeze(1)) + hp.zero.squeeze(1), 0, 255) -
                                       hp.zero.squeeze(1))
              : w.to(at::kHalf).to(at::kFloat);
      const int64_t g = (st + i) / G;
      const at::Tensor mu = lp.mean.select(1, g), alpha = lp.scale.select(1, g);
      const at::Tensor q_low = (w - mu).sign() * alpha + mu;
      const at::Tensor q = at::where(lp.mask.select(1, st + i), q_low, q_high);
      Q1.select(1, i).copy_(q);
      row_loss += (w - q).pow(2) / dd.pow(2) / 2;
      const at::Tensor err = (w - q) / dd;
      W1.slice(1, i).sub_(err.unsqueeze(1).matmul(Hinv1.slice(0, i, i + 1).slice(1, i)));
      Err1.select(1, i).copy_(err);
    }
    Wf.slice(1, st, ed).copy_(Q1);
    if (ed < in) Wf.slice(1, ed).sub_(Err1.matmul(Hinv.slice(0, st, ed).slice(1, ed)));
  }
  PbllmResult r;
  r.weight = Wf;
  r.salient = lp.mask.logical_not();
  r.salient_count = r.salient.sum().item<int64_t>();
  r.storage = pbllm_storage(out, in, r.salient_count, ng, o.kept);
  r.loss = row_loss.sum().item<double>();
  r.dead_columns = d.dead_columns;
  r.q.spec.bits = 1;
  r.q.spec.group_size = o.group_size > 0 ? G : -1;
  r.q.values = Wf;
  r.q.packed_bytes = r.storage.bytes;
  return r;
}

}  // namespace ptq
