// Fused elementwise steps of the decoder forward: rotary embedding and RMSNorm. Each replaces a chain of
// LibTorch kernels (rope: neg, cat, two products and a sum; RMSNorm: cast, square, mean, rsqrt, two
// products, cast) that re-read and re-write the activations between steps.
#include "core/kernels/forward_kernels.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

namespace ptq::kernels {
namespace {

template <typename T> __device__ __forceinline__ float to_f(T v);
template <> __device__ __forceinline__ float to_f<float>(float v) { return v; }
template <> __device__ __forceinline__ float to_f<__nv_bfloat16>(__nv_bfloat16 v) { return __bfloat162float(v); }
template <> __device__ __forceinline__ float to_f<__half>(__half v) { return __half2float(v); }
template <typename T> __device__ __forceinline__ T from_f(float v);
template <> __device__ __forceinline__ float from_f<float>(float v) { return v; }
template <> __device__ __forceinline__ __nv_bfloat16 from_f<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }
template <> __device__ __forceinline__ __half from_f<__half>(float v) { return __float2half_rn(v); }
// One LibTorch elementwise product or sum on T: computed in float, rounded to T.
template <typename T> __device__ __forceinline__ float mul_t(float a, float b) { return to_f<T>(from_f<T>(__fmul_rn(a, b))); }
template <typename T> __device__ __forceinline__ float add_t(float a, float b) { return to_f<T>(from_f<T>(__fadd_rn(a, b))); }

// One thread per pair (i, i + D/2); threadIdx.y and the blocks walk the rows (b, h, t) in the order they
// lie in memory (t inner for [B, H, T, D], h inner for the attention's [B, T, H, D] views), so a warp
// reads and writes consecutive elements. 32-bit index arithmetic (the launch checks the sizes).
template <typename T>
__global__ void rope_kernel(const T* __restrict__ x, const T* __restrict__ cs, const T* __restrict__ sn, T* __restrict__ out,
                            RopeArgs a, bool t_inner) {
  const unsigned half = unsigned(a.D / 2), H = unsigned(a.H), Tn = unsigned(a.T);
  const unsigned rows = unsigned(a.B) * H * Tn;
  for (unsigned row = blockIdx.x * blockDim.y + threadIdx.y; row < rows; row += gridDim.x * blockDim.y) {
    unsigned t, h, b;
    if (t_inner) {
      t = row % Tn;
      h = (row / Tn) % H;
      b = row / (Tn * H);
    } else {
      h = row % H;
      t = (row / H) % Tn;
      b = row / (H * Tn);
    }
    const T* xr = x + b * a.sb + h * a.sh + t * a.st;
    T* o = out + b * a.ob + h * a.oh + t * a.ot;
    const T* c = cs + int64_t(t) * a.D;
    const T* s = sn + int64_t(t) * a.D;
    for (unsigned i = threadIdx.x; i < half; i += blockDim.x) {
      const float x1 = to_f<T>(xr[i * a.sd]), x2 = to_f<T>(xr[(i + half) * a.sd]);
      // rotate_half(x) = cat(-x2, x1): (-x2)·s rounds as -(x2·s).
      const float lo = add_t<T>(mul_t<T>(x1, to_f<T>(c[i])), mul_t<T>(-x2, to_f<T>(s[i])));
      const float hi = add_t<T>(mul_t<T>(x2, to_f<T>(c[i + half])), mul_t<T>(x1, to_f<T>(s[i + half])));
      o[i * a.od] = from_f<T>(lo);
      o[(i + half) * a.od] = from_f<T>(hi);
    }
  }
}

constexpr int kNormThreads = 256;

// One block per row: the sum of squares in float32, then LlamaRMSNorm's steps in its order.
template <typename T>
__global__ void rms_norm_kernel(const T* __restrict__ x, const T* __restrict__ w, T* __restrict__ out, int64_t cols,
                                float eps) {
  const T* xr = x + (int64_t)blockIdx.x * cols;
  T* orow = out + (int64_t)blockIdx.x * cols;
  float acc = 0.f;
  for (int64_t j = threadIdx.x; j < cols; j += kNormThreads) {
    const float v = to_f<T>(xr[j]);
    acc = __fadd_rn(acc, __fmul_rn(v, v));
  }
  __shared__ float part[kNormThreads / 32];
  for (int off = 16; off > 0; off >>= 1) acc = __fadd_rn(acc, __shfl_down_sync(0xffffffffu, acc, off));
  if ((threadIdx.x & 31) == 0) part[threadIdx.x >> 5] = acc;
  __syncthreads();
  __shared__ float inv;
  if (threadIdx.x == 0) {
    float s = 0.f;
    for (int k = 0; k < kNormThreads / 32; ++k) s = __fadd_rn(s, part[k]);
    const float var = __fmul_rn(s, 1.0f / float(cols));  // MeanOps: sum · (1/n)
    inv = rsqrtf(__fadd_rn(var, eps));
  }
  __syncthreads();
  for (int64_t j = threadIdx.x; j < cols; j += kNormThreads) {
    const float h = to_f<T>(from_f<T>(__fmul_rn(to_f<T>(xr[j]), inv)));  // (x·inv).to(dtype)
    orow[j] = from_f<T>(__fmul_rn(to_f<T>(w[j]), h));                      // weight · h in dtype
  }
}

template <typename T>
const char* launch_rope(const RopeArgs& a, cudaStream_t st) {
  const int64_t half = a.D / 2, rows = a.B * a.H * a.T;
  if (rows >= (int64_t(1) << 31) || a.B * a.H * a.T * a.D >= (int64_t(1) << 31)) return "rope kernel: input too large";
  const unsigned tx = unsigned(half < 256 ? half : 256), ty = tx >= 256 ? 1u : 256u / tx;
  const int64_t want = (rows + ty - 1) / ty;
  const unsigned blocks = (unsigned)(want < 65535LL * 64 ? want : 65535LL * 64);
  const bool t_inner = a.st <= a.sh;  // rows in x's memory order
  rope_kernel<T><<<blocks, dim3(tx, ty), 0, st>>>(static_cast<const T*>(a.x), static_cast<const T*>(a.cos),
                                                  static_cast<const T*>(a.sin), static_cast<T*>(a.out), a, t_inner);
  const cudaError_t e = cudaGetLastError();
  return e == cudaSuccess ? nullptr : cudaGetErrorString(e);
}

template <typename T>
const char* launch_norm(const RmsNormArgs& a, cudaStream_t st) {
  if (a.rows > 0x7fffffffLL) return "rms_norm kernel: too many rows";
  rms_norm_kernel<T><<<(unsigned)a.rows, kNormThreads, 0, st>>>(static_cast<const T*>(a.x), static_cast<const T*>(a.weight),
                                                               static_cast<T*>(a.out), a.cols, a.eps);
  const cudaError_t e = cudaGetLastError();
  return e == cudaSuccess ? nullptr : cudaGetErrorString(e);
}

}  // namespace

const char* rope(const RopeArgs& a, ElemType t, void* stream) {
  if (a.D % 2 != 0 || a.B * a.H * a.T * a.D == 0) return "rope kernel: unsupported shape";
  cudaStream_t st = static_cast<cudaStream_t>(stream);
  switch (t) {
    case ElemType::Float32: return launch_rope<float>(a, st);
    case ElemType::BFloat16: return launch_rope<__nv_bfloat16>(a, st);
    case ElemType::Float16: return launch_rope<__half>(a, st);
  }
  return "rope kernel: unsupported type";
}

const char* rms_norm(const RmsNormArgs& a, ElemType t, void* stream) {
  if (a.rows <= 0 || a.cols <= 0) return "rms_norm kernel: empty input";
  cudaStream_t st = static_cast<cudaStream_t>(stream);
  switch (t) {
    case ElemType::Float32: return launch_norm<float>(a, st);
    case ElemType::BFloat16: return launch_norm<__nv_bfloat16>(a, st);
    case ElemType::Float16: return launch_norm<__half>(a, st);
  }
  return "rms_norm kernel: unsupported type";
}

}  // namespace ptq::kernels
