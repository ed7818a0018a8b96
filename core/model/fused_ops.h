#pragma once
// The forward's fused CUDA kernels (core/kernels/forward_kernels.cu) behind LibTorch tensors: each
// returns the result when the kernels are built (PTQ_WITH_CUDA_KERNELS) and apply (CUDA tensors of
// float32, bfloat16 or float16, the layouts below, no gradient wanted), else an undefined tensor and
// the caller runs the LibTorch operations. PTQ_NO_FUSED_OPS=1 turns them off.
#include <ATen/ATen.h>

#include <utility>

#include "core/kernels/forward_kernels.h"

namespace ptq {

// The switches every fused kernel shares: PTQ_NO_FUSED_OPS unset (or "0"), and the kernels' element type
// for s (false: a type they do not take).
bool fused_kernels_allowed();
bool kernel_elem_type(at::ScalarType s, kernels::ElemType* t);

// x [B, H, T, D] (any strides), cos/sin [T, D] contiguous in x's dtype: bitwise apply_rope's result,
// in x's layout (empty_like: for the attention's q and k, the layout v has).
at::Tensor fused_rope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin);
// x contiguous [..., n], weight [n] in x's dtype: rms_norm's result up to the mean's summation order.
at::Tensor fused_rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps);
// (x + residual, rms_norm(x + residual)) in one pass, x and residual contiguous of one shape: the sum bitwise
// LibTorch's add, the norm as fused_rms_norm's. Both undefined where the kernel does not apply.
std::pair<at::Tensor, at::Tensor> fused_add_rms_norm(const at::Tensor& x, const at::Tensor& residual,
                                                     const at::Tensor& weight, double eps);
// gate, up contiguous, same shape and dtype: bitwise at::silu(gate) * up in one pass (16 bytes a load).
at::Tensor fused_silu_mul(const at::Tensor& gate, const at::Tensor& up);
// silu(gate) · up: the fused kernel where it applies, else the two LibTorch operations.
inline at::Tensor silu_mul(const at::Tensor& gate, const at::Tensor& up) {
  at::Tensor f = fused_silu_mul(gate, up);
  return f.defined() ? f : at::silu(gate) * up;
}

}  // namespace ptq
