#pragma once
// The CUDA kernel of GPTQ's column loop (quant/kernels/gptq_columns.cu), built when LibTorch has CUDA
// and a CUDA compiler is found (PTQ_WITH_CUDA_KERNELS). Plain pointers and no CUDA headers, so the
// C++ side includes it without the toolkit.
#include <cstdint>

namespace ptq::kernels {

// Widest block the kernel takes (8 column slots of 32 per warp).
constexpr int64_t kMaxGptqKernelColumns = 256;

// Row-major float32 buffers of ColumnBlock, `ld` columns wide (the runner's blocksize), of which the
// first `count` are processed; Z1 may be null (symmetric formats keep a zero buffer anyway).
struct GptqColumnArgs {
  float* W1;
  const float* Hinv1;
  const float* S1;
  const float* Z1;
  float* Q1;
  unsigned char* C1;
  float* Err1;
  long long rows;
  int ld;
  int count;
  float maxq;
};

// Launches on `stream` (a cudaStream_t); returns nullptr, or the reason it could not launch.
const char* gptq_int_columns(const GptqColumnArgs& args, void* stream);

}  // namespace ptq::kernels
