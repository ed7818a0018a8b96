#pragma once
// CUDA kernels of the forward (core/kernels/forward_kernels.cu), built when LibTorch has CUDA and a CUDA
// compiler is found (PTQ_WITH_CUDA_KERNELS). Plain pointers and no CUDA headers, so the C++ side
// includes it without the toolkit; core/model/fused_ops.cpp is the LibTorch-facing side.
#include <cstdint>

namespace ptq::kernels {

enum class ElemType { Float32 = 0, BFloat16 = 1, Float16 = 2 };

// Rotary embedding of x [B, H, T, D] (any strides, in elements) with cos/sin [T, D] contiguous, into
// out [B, H, T, D] (its own strides): out = x·cos + rotate_half(x)·sin, every product and the sum
// rounded to the element type as LibTorch's elementwise operations round them (bitwise the eager result).
struct RopeArgs {
  const void* x;
  const void* cos;
  const void* sin;
  void* out;
  int64_t B, H, T, D;
  int64_t sb, sh, st, sd;  // strides of x
  int64_t ob, oh, ot, od;  // strides of out
};
const char* rope(const RopeArgs& a, ElemType t, void* stream);

// RMSNorm of `rows` contiguous rows of `cols`: weight · to_type(x·rsqrt(mean(x²) + eps)) in float32, as
// transformers' LlamaRMSNorm (the mean's summation order is the kernel's own). With `residual`, the rows
// are x + residual rounded as LibTorch's add (bitwise), also written to `sum_out`: the decoder's residual
// sum and the next norm in one pass.
struct RmsNormArgs {
  const void* x;
  const void* weight;
  void* out;
  int64_t rows, cols;
  float eps;
  const void* residual = nullptr;
  void* sum_out = nullptr;
};
const char* rms_norm(const RmsNormArgs& a, ElemType t, void* stream);

// out = silu(gate) · up over n contiguous elements (16-byte aligned buffers), rounded as LibTorch's silu
// and product kernels (silu in float, rounded to the type, then the product): bitwise at::silu(gate) * up.
struct SiluMulArgs {
  const void* gate;
  const void* up;
  void* out;
  int64_t n;
};
const char* silu_mul(const SiluMulArgs& a, ElemType t, void* stream);


}  // namespace ptq::kernels
