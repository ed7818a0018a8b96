#include "quant/methods/billm/billm.h"

#include <algorithm>
#include <string>

#include "core/runtime/errors.h"
#include "quant/methods/pbllm/binary_common.h"

namespace ptq {

void check_billm_options(const BillmOptions& o) {
  if (o.criterion != "magnitude" && o.criterion != "hessian")
    throw Error("billm.criterion = '" + o.criterion + "' is not one of: magnitude, hessian");
  if (o.blocksize < 2) throw Error("billm.blocksize must be at least 2, got " + std::to_string(o.blocksize));
  if (o.search_columns < 2)
    throw Error("billm.search_columns must be at least 2, got " + std::to_string(o.search_columns));
}

int64_t billm_storage_bytes(int64_t out, int64_t in, int64_t blocksize) {
  const int64_t blocks = (in + blocksize - 1) / blocksize;
  // two bits per weight; the salient-column bitmap; 8 fp16 parameters per row and block
  return bits_to_bytes(2 * out * in) + bits_to_bytes(in) + out * blocks * 8 * 2;
}

BillmResult billm_quantize(const at::Tensor& W, const at::Tensor& H, const BillmOptions& o) {
  check_billm_options(o);
  DampedHessian d = damp_and_invert(W, H, o.percdamp);
  at::Tensor& Wf = d.W;
  const at::Tensor& Hinv = d.Hinv;
  const int64_t out = Wf.size(0), in = Wf.size(1);
  BillmResult r;
  double loss = 0.0;
  for (int64_t st = 0; st < in; st += o.blocksize) {
    const int64_t ed = std::min(st + o.blocksize, in);
    const at::Tensor W1 = Wf.slice(1, st, ed).clone();
    const at::Tensor dg = at::diag(Hinv.slice(0, st, ed).slice(1, st, ed)).reshape({1, -1});
    const at::Tensor T = o.criterion == "magnitude" ? W1 : W1.pow(2) / dg.pow(2);
    const BillmSplit s = billm_split(T, o.search_columns);
    const at::ScalarType f = W1.scalar_type();
    const at::Tensor Q1 = residual_binarize(W1, s.below.to(f), 1) + residual_binarize(W1, s.above.to(f), 1) +
                          residual_binarize(W1, s.salient.to(f), 2);
    const at::Tensor Err1 = (W1 - Q1) / dg;
    loss += Err1.pow(2).sum().item<double>() / 2;
    Wf.slice(1, st, ed).copy_(Q1);
    if (ed < in) Wf.slice(1, ed).sub_(Err1.matmul(Hinv.slice(0, st, ed).slice(1, ed)));
    r.salient_columns.push_back(s.salient_columns);
  }
  r.weight = Wf;
  r.loss = loss;
  r.dead_columns = d.dead_columns;
  r.q.spec.bits = 1;
  r.q.spec.group_size = o.blocksize;
  r.q.values = Wf;
  r.q.packed_bytes = billm_storage_bytes(out, in, o.blocksize);
  return r;
}

}  // namespace ptq
