#pragma once
// The per-layer output error's sums in one pass (quant/kernels/output_error.cu), built with the other CUDA
// kernels (PTQ_WITH_CUDA_KERNELS). Plain pointers and no CUDA headers, so the C++ side includes it without
// the toolkit.
#include <cstdint>

#include "core/kernels/forward_kernels.h"

namespace ptq::kernels {

// For each of `rows` contiguous rows of `cols` (q: the quantized layer's output, y: the full-precision
// weight's, both of type t), into sums[row * 3 + {0, 1, 2}] in float32: Σ_j (q − y)² with the difference
// rounded to t (as LibTorch's `q - y` is), Σ_j y², and the row's cosine q·y / max(|q|·|y|, 1e-8).
struct OutputErrorArgs {
  const void* q;
  const void* y;
  float* sums;
  int64_t rows, cols;
};
const char* output_error_rows(const OutputErrorArgs& a, ElemType t, void* stream);

}  // namespace ptq::kernels
