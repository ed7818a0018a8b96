#pragma once
// OmniQuant's learnable weight clipping (LWC), after OpenGVLab/OmniQuant quantize/quantizer.py:
// per output channel and group, clipping logits up/low [out, n_groups]; the clipped range is
// sigmoid(up)·max and sigmoid(low)·min of each group, then asymmetric (or symmetric) integer
// quantization with a straight-through round. The block stage (omniquant_quantize_block) trains
// the logits with AdamW to minimise the block output MSE against the full-precision block.
#include <ATen/ATen.h>

#include "quant/formats/quantizer.h"

namespace ptq {

// Differentiable fake quantization of w [out, in] (float32 result); gradients reach up/low.
at::Tensor lwc_fake_quantize(const at::Tensor& w, const at::Tensor& up, const at::Tensor& low, const QuantSpec& s);
// Integer form under the learned clipping; its dequantize() equals lwc_fake_quantize's value.
QuantizedWeight lwc_quantize(const at::Tensor& w, const at::Tensor& up, const at::Tensor& low, const QuantSpec& s);

}  // namespace ptq
