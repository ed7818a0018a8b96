#pragma once
// The forward's fused CUDA kernels (core/kernels/forward_kernels.cu) behind LibTorch tensors: each
// returns the result when the kernels are built (PTQ_WITH_CUDA_KERNELS) and apply (CUDA tensors of
// float32, bfloat16 or float16, the layouts below, no gradient wanted), else an undefined tensor and
// the caller runs the LibTorch operations. PTQ_NO_FUSED_OPS=1 turns them off.
#include <ATen/ATen.h>

namespace ptq {

// x [B, H, T, D] (any strides), cos/sin [T, D] contiguous in x's dtype: bitwise apply_rope's result,
// in x's layout (empty_like: for the attention's q and k, the layout v has).
at::Tensor fused_rope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin);
// x contiguous [..., n], weight [n] in x's dtype: rms_norm's result up to the mean's summation order.
at::Tensor fused_rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps);

}  // namespace ptq
