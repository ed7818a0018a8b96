#pragma once
// What PB-LLM (quant/methods/pbllm) and BiLLM (quant/methods/billm) share: the damped inverse
// Hessian both references copy from gptq.py, BiLLM's residual binarization of masked weights,
// byte counting of packed bits, and the quantizer stage that feeds each planned layer its Hessian
// (GPTQ's true-sequential groups, quant/methods/gptq/gptq_stage_helpers.h).
#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <string>

#include "quant/formats/quantizer.h"

namespace ptq {

struct BlockWork;

// gptq.py fasterquant before its column loop, as both references have it: W as float32 with
// the dead columns (H_jj == 0) zeroed and H_jj set to 1, damp = percdamp·mean(diag H) added to the
// diagonal, Hinv the upper Cholesky factor of inv(H). Throws ptq::Error when H is not positive
// definite after damping.
struct DampedHessian {
  at::Tensor W, Hinv;  // float32 [out, in], [in, in]
  int64_t dead_columns = 0;
};
DampedHessian damp_and_invert(const at::Tensor& W, const at::Tensor& H, double percdamp);

// BiLLM binary.py high_order_residual(x, mask, order): per row, over the entries the mask
// selects, `order` times: mean μ of the residual r (x minus the planes so far), α = mean |r - μ|,
// plane = sign(r - μ)·α + μ; the sum of the planes on the mask, 0 outside. Rows without selected
// entries get μ = α = 0 (the reference's nanmean -> 0). torch.sign(0) = 0: an entry equal to its
// mean gets μ, as in the reference. x [rows, cols] float32; mask float32 0/1 of shape
// [..., rows, cols] (leading dimensions: several masks at once, x broadcast).
at::Tensor residual_binarize(const at::Tensor& x, const at::Tensor& mask, int order);

inline int64_t bits_to_bytes(int64_t bits) { return (bits + 7) / 8; }

// One binarized layer: its stored form (QuantizedWeight::values / packed_bytes), the
// GPTQ-style loss Σ (w - q)²/d²/2 and the record's note.
struct BinaryLayerResult {
  QuantizedWeight q;
  double loss = 0.0;
  std::string note;
};
// W [out, in] float32, H [in, in] (identity for an expert that received no calibration tokens),
// the layer's planned spec (its group size).
using BinaryLayerFn =
    std::function<BinaryLayerResult(const at::Tensor& W, const at::Tensor& H, const QuantSpec& spec)>;

// The quantizer stage: for each true-sequential group (params "true_sequential"), the group's
// inputs captured with the earlier groups already quantized, one Hessian per input, then `fn`
// per planned layer; errors name the layer. Layers without calibration tokens get H = I (no
// compensation), noted in their record.
void binary_quantize_block(BlockWork& w, const BinaryLayerFn& fn);

}  // namespace ptq
