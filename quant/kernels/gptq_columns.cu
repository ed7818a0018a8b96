// GPTQ's inner column loop of one lazy-batch block in one kernel (Int formats). One warp per output
// row: GPTQ treats rows independently given H, and inside a row column i's error updates the
// columns j >= i of the block. Lane l holds columns l, l+32, ... in registers; column i's value is
// broadcast from its lane, every lane computes the same code and error, and each lane updates its own
// columns. The arithmetic is the eager loop's (gptq_columns.cpp ColumnRunner::eager), operation for
// operation with one IEEE rounding each (_rn intrinsics, never contracted into FMAs):
//   c = clamp(round(w / s) + z, 0, maxq); q = s * (c - z); e = (w - q) / d; w_j -= e * Hinv[i][j]
// so its codes, dequantized values and errors are bitwise those of the eager loop and its CUDA graph.
#include "quant/kernels/gptq_columns_kernel.h"

#include <cuda_runtime.h>

namespace ptq::kernels {
namespace {

constexpr int kWarpsPerBlock = 8;

template <int NSLOT>
__global__ void gptq_int_columns(float* __restrict__ W1, const float* __restrict__ H, const float* __restrict__ S1,
                                 const float* __restrict__ Z1, float* __restrict__ Q1, unsigned char* __restrict__ C1,
                                 float* __restrict__ E1, long long rows, int ld, int count, float maxq) {
  const int lane = threadIdx.x & 31;
  const long long row = (long long)blockIdx.x * kWarpsPerBlock + (threadIdx.x >> 5);
  if (row >= rows) return;  // uniform over the warp: one row per warp
  const long long base = row * ld;
  float w[NSLOT], s[NSLOT], z[NSLOT], q[NSLOT], c[NSLOT], e[NSLOT];
#pragma unroll
  for (int k = 0; k < NSLOT; ++k) {
    const int j = k * 32 + lane;
    const bool in = j < count;
    w[k] = in ? W1[base + j] : 0.f;
    s[k] = in ? S1[base + j] : 1.f;
    z[k] = in && Z1 ? Z1[base + j] : 0.f;
    q[k] = c[k] = e[k] = 0.f;
  }
#pragma unroll
  for (int k = 0; k < NSLOT; ++k) {
    for (int t = 0; t < 32; ++t) {
      const int i = k * 32 + t;
      if (i >= count) break;  // the same for every lane
      const float wi = __shfl_sync(0xffffffffu, w[k], t);
      const float si = __shfl_sync(0xffffffffu, s[k], t);
      const float zi = __shfl_sync(0xffffffffu, z[k], t);
      const float* hrow = H + (long long)i * ld;
      float ci = __fadd_rn(rintf(__fdiv_rn(wi, si)), zi);  // torch.round: half to even
      if (!(ci != ci)) ci = fminf(fmaxf(ci, 0.f), maxq);   // torch.clamp keeps NaN
      const float qi = __fmul_rn(si, __fsub_rn(ci, zi));
      const float ei = __fdiv_rn(__fsub_rn(wi, qi), hrow[i]);
      if (lane == t) {
        q[k] = qi;
        c[k] = ci;
        e[k] = ei;
      }
#pragma unroll
      for (int k2 = k; k2 < NSLOT; ++k2) {
        const int j = k2 * 32 + lane;
        if (j >= i && j < count) w[k2] = __fsub_rn(w[k2], __fmul_rn(ei, hrow[j]));
      }
    }
  }
#pragma unroll
  for (int k = 0; k < NSLOT; ++k) {
    const int j = k * 32 + lane;
    if (j >= count) continue;
    W1[base + j] = w[k];
    Q1[base + j] = q[k];
    C1[base + j] = (unsigned char)c[k];
    E1[base + j] = e[k];
  }
}

template <int NSLOT>
void launch(const GptqColumnArgs& a, cudaStream_t stream) {
  const long long blocks = (a.rows + kWarpsPerBlock - 1) / kWarpsPerBlock;
  gptq_int_columns<NSLOT><<<(unsigned)blocks, kWarpsPerBlock * 32, 0, stream>>>(
      a.W1, a.Hinv1, a.S1, a.Z1, a.Q1, a.C1, a.Err1, a.rows, a.ld, a.count, a.maxq);
}

}  // namespace

const char* gptq_int_columns(const GptqColumnArgs& a, void* stream) {
  if (a.count <= 0 || a.count > a.ld || a.ld > kMaxGptqKernelColumns || a.rows <= 0)
    return "gptq column kernel: unsupported block shape";
  if ((a.rows + kWarpsPerBlock - 1) / kWarpsPerBlock > 0x7fffffffLL) return "gptq column kernel: too many rows";
  cudaStream_t st = static_cast<cudaStream_t>(stream);
  const int slots = (a.count + 31) / 32;
  if (slots <= 1)
    launch<1>(a, st);
  else if (slots <= 2)
    launch<2>(a, st);
  else if (slots <= 4)
    launch<4>(a, st);
  else
    launch<8>(a, st);
  const cudaError_t err = cudaGetLastError();
  return err == cudaSuccess ? nullptr : cudaGetErrorString(err);
}

}  // namespace ptq::kernels
