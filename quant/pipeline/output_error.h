#pragma once
// The sums behind a layer's output error on one calibration batch, from its quantized output q and the
// full-precision weight's output y ([tokens, out_features] each): Σ(q − y)² (the difference rounded to the
// outputs' type), Σy² and Σ over tokens of cos(q_t, y_t), as a float64 tensor [3] on their device. One
// CUDA kernel reads both outputs once (PTQ_WITH_CUDA_KERNELS); elsewhere, LibTorch's operations with
// float32 reductions (the same quantities; the sums' order differs).
#include <ATen/ATen.h>

namespace ptq {

at::Tensor output_error_sums(const at::Tensor& q, const at::Tensor& y);

}  // namespace ptq
