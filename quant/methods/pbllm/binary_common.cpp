#include "quant/methods/pbllm/binary_common.h"

#include <chrono>
#include <string>
#include <vector>

#include "core/model/model.h"
#include "core/model/model_layout.h"
#include "core/runtime/errors.h"
#include "quant/methods/gptq/gptq.h"
#include "quant/methods/gptq/gptq_stage_helpers.h"
#include "quant/pipeline/block_stage.h"

namespace ptq {

DampedHessian damp_and_invert(const at::Tensor& W, const at::Tensor& H, double percdamp) {
  if (!W.defined() || W.dim() != 2) throw Error("weight must be a 2-D tensor [out, in]");
  const int64_t in = W.size(1);
  if (!H.defined() || H.dim() != 2 || H.size(0) != in || H.size(1) != in)
    throw Error("Hessian must be [" + std::to_string(in) + ", " + std::to_string(in) + "]");
  if (!(percdamp >= 0.0)) throw Error("percdamp must be >= 0, got " + std::to_string(percdamp));
  DampedHessian d;
  d.W = W.detach().to(at::kFloat).clone();
  at::Tensor h = H.detach().to(d.W.device(), at::kFloat).clone();
  const at::Tensor dead = h.diagonal() == 0;
  d.dead_columns = dead.sum().item<int64_t>();
  if (d.dead_columns > 0) {
    h.diagonal().masked_fill_(dead, 1.0);
    d.W.masked_fill_(dead.unsqueeze(0), 0.0);
  }
  h.diagonal().add_(at::diag(h).mean() * percdamp);
  d.Hinv = hinv_upper(h, percdamp);
  return d;
}

at::Tensor residual_binarize(const at::Tensor& x, const at::Tensor& mask, int order) {
  const at::Tensor count = mask.sum(-1, /*keepdim=*/true);
  const at::Tensor inv = at::where(count > 0, count.reciprocal(), at::zeros_like(count));
  at::Tensor sum = at::zeros_like(mask);
  for (int od = 0; od < order; ++od) {
    const at::Tensor r = x - sum;
    const at::Tensor mean = (r * mask).sum(-1, true) * inv;
    const at::Tensor dev = r - mean;
    const at::Tensor scale = (dev.abs() * mask).sum(-1, true) * inv;
    sum = sum + (dev.sign() * scale + mean) * mask;
  }
  return sum;
}

namespace {

void binary_layer(BlockWork& w, Linear& l, const QuantSpec& spec, const HessianAccumulator& h, int64_t tokens,
                  const BinaryLayerFn& fn, double capture) {
  const auto t0 = std::chrono::steady_clock::now();
  const at::Tensor W = l.weight.to(at::kFloat);
  const bool no_tokens = h.samples() == 0;  // an expert that received no calibration tokens
  BinaryLayerResult r;
  try {
    r = fn(W, no_tokens ? at::eye(W.size(1), W.options()) : h.H(), spec);
  } catch (const Error& e) {
    throw Error("layer " + linear_full_name(w.block.index(), l.name()) + ": " + e.what());
  }
  if (no_tokens) r.note += "; no calibration tokens: H = I (no compensation)";
  const double secs = capture + std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  commit_quantized(w, l, r.q, r.loss, secs, r.note);
  w.records[l.name()].calib_tokens = tokens;
}

}  // namespace

void binary_quantize_block(BlockWork& w, const BinaryLayerFn& fn) {
  const bool seq = w.params.value("true_sequential", true);
  quantize_layers_with_hessians(w, seq, [&](Linear& l, const QuantSpec& spec, const HessianAccumulator& h, int64_t tokens,
                                            double capture) { binary_layer(w, l, spec, h, tokens, fn, capture); });
}

}  // namespace ptq
