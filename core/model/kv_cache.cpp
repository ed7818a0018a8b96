#include "core/model/kv_cache.h"

#include <limits>

namespace ptq {

namespace {

at::Tensor repeat_kv(const at::Tensor& x, int64_t heads) {
  const int64_t B = x.size(0), H = x.size(1), T = x.size(2), D = x.size(3);
  if (H == heads) return x;
  return x.unsqueeze(2).expand({B, H, heads / H, T, D}).reshape({B, heads, T, D});
}

}  // namespace

at::Tensor attend_with_kv_cache(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask_in,
                                double scale, double softcap, const KvCacheQuantizer& kv) {
  const int64_t Hq = q.size(1), Tq = q.size(2), S = k.size(2);
  at::Tensor kq = repeat_kv(kv.quantize_keys(k), Hq), vq = repeat_kv(kv.quantize_values(v), Hq);
  // The queries are the last Tq positions: their rows of the [S, S] full-precision patterns.
  auto rows = [&](const at::Tensor& full) { return full.defined() && Tq < S ? full.narrow(0, S - Tq, Tq) : full; };
  at::Tensor full_k = rows(kv.full_precision_keys(S, q.device())), full_v = rows(kv.full_precision_values(S, q.device()));
  at::Tensor scores = at::matmul(q, kq.transpose(-1, -2));
  if (full_k.defined()) scores = at::where(full_k, at::matmul(q, repeat_kv(k, Hq).transpose(-1, -2)), scores);
  scores = scores * scale;
  if (softcap > 0) scores = at::tanh(scores / softcap) * softcap;
  at::Tensor mask = mask_in;
  if (!mask.defined())
    mask = at::full({Tq, S}, -std::numeric_limits<float>::infinity(), scores.options()).triu(1 + S - Tq);
  at::Tensor p = at::softmax(scores + mask, -1, at::kFloat).to(q.scalar_type());
  if (!full_v.defined()) return at::matmul(p, vq);
  at::Tensor pf = p * full_v.to(p.scalar_type());
  return at::matmul(pf, repeat_kv(v, Hq)) + at::matmul(p - pf, vq);
}

}  // namespace ptq
