#pragma once
// Device-side helpers the project's CUDA kernels share (included by .cu files only): float32 views of the
// element types, LibTorch's rounding of one elementwise step, 16-byte vectors, and the dispatch from
// ElemType to a kernel template.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "core/kernels/forward_kernels.h"

namespace ptq::kernels {

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

// 16 bytes of T, loaded and stored whole.
template <typename T> struct alignas(16) Vec16 {
  static constexpr int n = 16 / int(sizeof(T));
  T v[n];
};
template <typename T> __device__ __forceinline__ Vec16<T> load16(const T* p) { return *reinterpret_cast<const Vec16<T>*>(p); }
template <typename T> __device__ __forceinline__ void store16(T* p, const Vec16<T>& v) { *reinterpret_cast<Vec16<T>*>(p) = v; }

// launch(Tag<T>{}) for the C++ type of t: float, __nv_bfloat16 or __half.
template <typename T> struct Tag { using type = T; };
template <typename F> const char* for_elem_type(ElemType t, const char* unsupported, F&& launch) {
  switch (t) {
    case ElemType::Float32: return launch(Tag<float>{});
    case ElemType::BFloat16: return launch(Tag<__nv_bfloat16>{});
    case ElemType::Float16: return launch(Tag<__half>{});
  }
  return unsupported;
}

}  // namespace ptq::kernels
