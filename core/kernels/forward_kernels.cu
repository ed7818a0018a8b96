// Fused elementwise steps of the decoder forward: rotary embedding, RMSNorm and the gated MLP's silu(g)·u.
// Each replaces a chain of LibTorch kernels (rope: neg, cat, two products and a sum; RMSNorm: cast, square,
// mean, rsqrt, two products, cast; silu and the product) that re-read and re-write the activations.
// Rope and silu·u move 16 bytes per load and store where the layout allows (as LibTorch's vectorized
// elementwise kernels do); a scalar form takes any other layout with the same arithmetic.
#include "core/kernels/forward_kernels.h"

#include <cuda_runtime.h>

#include <cstdint>

#include "core/kernels/elem_math.cuh"

namespace ptq::kernels {
namespace {

// The rope of one row's elements i (first half) and i + D/2 (second half), as the eager operations round them:
// rotate_half(x) = cat(-x2, x1), and (-x2)·s rounds as -(x2·s).
template <typename T> __device__ __forceinline__ void rope_pair(float x1, float x2, float c1, float s1, float c2, float s2,
                                                                 T* lo, T* hi) {
  *lo = from_f<T>(add_t<T>(mul_t<T>(x1, c1), mul_t<T>(-x2, s1)));
  *hi = from_f<T>(add_t<T>(mul_t<T>(x2, c2), mul_t<T>(x1, s2)));
}

// Row index -> (b, h, t), rows numbered in x's memory order (t inner for [B, H, T, D], h inner for the
// attention's [B, T, H, D] views), so consecutive threads touch consecutive memory.
__device__ __forceinline__ void rope_row(unsigned row, unsigned H, unsigned Tn, bool t_inner, unsigned* b, unsigned* h,
                                         unsigned* t) {
  if (t_inner) {
    *t = row % Tn;
    *h = (row / Tn) % H;
    *b = row / (Tn * H);
  } else {
    *h = row % H;
    *t = (row / H) % Tn;
    *b = row / (H * Tn);
  }
}

// Vectorized rope: each thread one 16-byte chunk of a row's first half and the matching chunk of its second
// half (unit element strides, 16-byte aligned rows and tables; the launch checks).
template <typename T>
__global__ void rope_vec_kernel(const T* __restrict__ x, const T* __restrict__ cs, const T* __restrict__ sn, T* __restrict__ out,
                                RopeArgs a, bool t_inner) {
  constexpr int V = Vec16<T>::n;
  const unsigned half = unsigned(a.D / 2), H = unsigned(a.H), Tn = unsigned(a.T), chunks = half / V;
  const unsigned total = unsigned(a.B) * H * Tn * chunks;
  for (unsigned k = blockIdx.x * blockDim.x + threadIdx.x; k < total; k += gridDim.x * blockDim.x) {
    const unsigned i = (k % chunks) * V;
    unsigned b, h, t;
    rope_row(k / chunks, H, Tn, t_inner, &b, &h, &t);
    const T* xr = x + b * a.sb + h * a.sh + t * a.st;
    T* o = out + b * a.ob + h * a.oh + t * a.ot;
    const T* c = cs + t * unsigned(a.D);
    const T* s = sn + t * unsigned(a.D);
    const Vec16<T> x1 = load16(xr + i), x2 = load16(xr + i + half), c1 = load16(c + i), c2 = load16(c + i + half),
                   s1 = load16(s + i), s2 = load16(s + i + half);
    Vec16<T> lo, hi;
#pragma unroll
    for (int j = 0; j < V; ++j)
      rope_pair<T>(to_f<T>(x1.v[j]), to_f<T>(x2.v[j]), to_f<T>(c1.v[j]), to_f<T>(s1.v[j]), to_f<T>(c2.v[j]),
                   to_f<T>(s2.v[j]), &lo.v[j], &hi.v[j]);
    store16(o + i, lo);
    store16(o + i + half, hi);
  }
}

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
    rope_row(row, H, Tn, t_inner, &b, &h, &t);
    const T* xr = x + b * a.sb + h * a.sh + t * a.st;
    T* o = out + b * a.ob + h * a.oh + t * a.ot;
    const T* c = cs + int64_t(t) * a.D;
    const T* s = sn + int64_t(t) * a.D;
    for (unsigned i = threadIdx.x; i < half; i += blockDim.x)
      rope_pair<T>(to_f<T>(xr[i * a.sd]), to_f<T>(xr[(i + half) * a.sd]), to_f<T>(c[i]), to_f<T>(s[i]), to_f<T>(c[i + half]),
                   to_f<T>(s[i + half]), &o[i * a.od], &o[(i + half) * a.od]);
  }
}

// silu(g) · u as LibTorch's two kernels compute it: silu in float (x / (1 + exp(-x)), rounded to T), then the
// product in float, rounded to T.
template <typename T> __device__ __forceinline__ T silu_times(T g, T u) {
  const float x = to_f<T>(g);
  const float a = to_f<T>(from_f<T>(__fdiv_rn(x, __fadd_rn(1.0f, expf(-x)))));
  return from_f<T>(__fmul_rn(a, to_f<T>(u)));
}

// 16 bytes per thread over the first n - n % V elements (16-byte aligned), then the tail one by one.
template <typename T>
__global__ void silu_mul_kernel(const T* __restrict__ g, const T* __restrict__ u, T* __restrict__ out, int64_t n) {
  constexpr int V = Vec16<T>::n;
  const int64_t nv = n / V, stride = (int64_t)gridDim.x * blockDim.x;
  for (int64_t k = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; k < nv; k += stride) {
    const Vec16<T> gv = load16(g + k * V), uv = load16(u + k * V);
    Vec16<T> ov;
#pragma unroll
    for (int j = 0; j < V; ++j) ov.v[j] = silu_times<T>(gv.v[j], uv.v[j]);
    store16(out + k * V, ov);
  }
  for (int64_t k = nv * V + (int64_t)blockIdx.x * blockDim.x + threadIdx.x; k < n; k += stride) out[k] = silu_times<T>(g[k], u[k]);
}

constexpr int kNormThreads = 256;

// x + r as LibTorch's add rounds it (res == nullptr: x alone).
template <typename T> __device__ __forceinline__ float row_value(const T* x, const T* res, int64_t j) {
  return res ? add_t<T>(to_f<T>(x[j]), to_f<T>(res[j])) : to_f<T>(x[j]);
}

// 1 / sqrt(mean(x²) + eps) of a row from each thread's share of Σx², for every thread of the block.
__device__ __forceinline__ float row_inv_rms(float acc, int64_t cols, float eps) {
  __shared__ float part[kNormThreads / 32];
  __shared__ float inv;
  for (int off = 16; off > 0; off >>= 1) acc = __fadd_rn(acc, __shfl_down_sync(0xffffffffu, acc, off));
  if ((threadIdx.x & 31) == 0) part[threadIdx.x >> 5] = acc;
  __syncthreads();
  if (threadIdx.x == 0) {
    float s = 0.f;
    for (int k = 0; k < kNormThreads / 32; ++k) s = __fadd_rn(s, part[k]);
    const float var = __fmul_rn(s, 1.0f / float(cols));  // MeanOps: sum · (1/n)
    inv = rsqrtf(__fadd_rn(var, eps));
  }
  __syncthreads();
  return inv;
}

// LlamaRMSNorm's last steps on one element: weight · (x·inv).to(dtype), in dtype.
template <typename T> __device__ __forceinline__ T norm_value(float v, float inv, T w) {
  return from_f<T>(__fmul_rn(to_f<T>(w), to_f<T>(from_f<T>(__fmul_rn(v, inv)))));
}

// One block per row: the sum of squares in float32, then LlamaRMSNorm's steps in its order. With `res`,
// the row is x + res (written to sum_out as the residual stream), normed in the same pass.
template <typename T>
__global__ void rms_norm_kernel(const T* __restrict__ x, const T* __restrict__ res, const T* __restrict__ w,
                                T* __restrict__ out, T* __restrict__ sum_out, int64_t cols, float eps) {
  const int64_t base = (int64_t)blockIdx.x * cols;
  const T* xr = x + base;
  const T* rr = res ? res + base : nullptr;
  T* orow = out + base;
  float acc = 0.f;
  for (int64_t j = threadIdx.x; j < cols; j += kNormThreads) {
    const float v = row_value<T>(xr, rr, j);
    if (rr) sum_out[base + j] = from_f<T>(v);
    acc = __fadd_rn(acc, __fmul_rn(v, v));
  }
  const float inv = row_inv_rms(acc, cols, eps);
  for (int64_t j = threadIdx.x; j < cols; j += kNormThreads) orow[j] = norm_value<T>(row_value<T>(xr, rr, j), inv, w[j]);
}

// The same with 16-byte loads and stores (cols a multiple of 16 bytes, aligned buffers; the launch checks).
// The second pass reads the row back from sum_out when there is a residual (one tensor, not two).
template <typename T>
__global__ void rms_norm_vec_kernel(const T* __restrict__ x, const T* __restrict__ res, const T* __restrict__ w,
                                    T* __restrict__ out, T* __restrict__ sum_out, int64_t cols, float eps) {
  constexpr int V = Vec16<T>::n;
  const int64_t base = (int64_t)blockIdx.x * cols, nv = cols / V;
  float acc = 0.f;
  for (int64_t k = threadIdx.x; k < nv; k += kNormThreads) {
    Vec16<T> a = load16(x + base + k * V);
    if (res) {
      const Vec16<T> r = load16(res + base + k * V);
#pragma unroll
      for (int j = 0; j < V; ++j) a.v[j] = from_f<T>(add_t<T>(to_f<T>(a.v[j]), to_f<T>(r.v[j])));
      store16(sum_out + base + k * V, a);
    }
#pragma unroll
    for (int j = 0; j < V; ++j) acc = __fadd_rn(acc, __fmul_rn(to_f<T>(a.v[j]), to_f<T>(a.v[j])));
  }
  const float inv = row_inv_rms(acc, cols, eps);
  const T* src = res ? sum_out : x;  // this thread's own stores: visible to it
  for (int64_t k = threadIdx.x; k < nv; k += kNormThreads) {
    const Vec16<T> a = load16(src + base + k * V), wv = load16(w + k * V);
    Vec16<T> o;
#pragma unroll
    for (int j = 0; j < V; ++j) o.v[j] = norm_value<T>(to_f<T>(a.v[j]), inv, wv.v[j]);
    store16(out + base + k * V, o);
  }
}

template <typename T>
bool rope_vectorizable(const RopeArgs& a) {
  constexpr int64_t V = Vec16<T>::n;
  auto aligned = [](const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; };
  return a.sd == 1 && a.od == 1 && (a.D / 2) % V == 0 && a.sb % V == 0 && a.sh % V == 0 && a.st % V == 0 &&
         a.ob % V == 0 && a.oh % V == 0 && a.ot % V == 0 && aligned(a.x) && aligned(a.out) && aligned(a.cos) &&
         aligned(a.sin);
}

template <typename T>
const char* launch_rope(const RopeArgs& a, cudaStream_t st) {
  const int64_t half = a.D / 2, rows = a.B * a.H * a.T;
  if (rows >= (int64_t(1) << 31) || a.B * a.H * a.T * a.D >= (int64_t(1) << 31)) return "rope kernel: input too large";
  const unsigned tx = unsigned(half < 256 ? half : 256), ty = tx >= 256 ? 1u : 256u / tx;
  const int64_t want = (rows + ty - 1) / ty;
  const unsigned blocks = (unsigned)(want < 65535LL * 64 ? want : 65535LL * 64);
  const bool t_inner = a.st <= a.sh;  // rows in x's memory order
  const T *x = static_cast<const T*>(a.x), *c = static_cast<const T*>(a.cos), *s = static_cast<const T*>(a.sin);
  T* o = static_cast<T*>(a.out);
  if (rope_vectorizable<T>(a)) {
    const int64_t chunks = rows * (half / Vec16<T>::n), vblocks = (chunks + 255) / 256;
    rope_vec_kernel<T><<<(unsigned)(vblocks < 65535LL * 64 ? vblocks : 65535LL * 64), 256, 0, st>>>(x, c, s, o, a, t_inner);
  } else {
    rope_kernel<T><<<blocks, dim3(tx, ty), 0, st>>>(x, c, s, o, a, t_inner);
  }
  const cudaError_t e = cudaGetLastError();
  return e == cudaSuccess ? nullptr : cudaGetErrorString(e);
}

template <typename T>
const char* launch_norm(const RmsNormArgs& a, cudaStream_t st) {
  if (a.rows > 0x7fffffffLL) return "rms_norm kernel: too many rows";
  auto aligned = [](const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; };
  const bool vec = a.cols % Vec16<T>::n == 0 && aligned(a.x) && aligned(a.weight) && aligned(a.out) &&
                   (!a.residual || (aligned(a.residual) && aligned(a.sum_out)));
  auto kernel = vec ? rms_norm_vec_kernel<T> : rms_norm_kernel<T>;
  kernel<<<(unsigned)a.rows, kNormThreads, 0, st>>>(static_cast<const T*>(a.x), static_cast<const T*>(a.residual),
                                                   static_cast<const T*>(a.weight), static_cast<T*>(a.out),
                                                   static_cast<T*>(a.sum_out), a.cols, a.eps);
  const cudaError_t e = cudaGetLastError();
  return e == cudaSuccess ? nullptr : cudaGetErrorString(e);
}

template <typename T>
const char* launch_silu_mul(const SiluMulArgs& a, cudaStream_t st) {
  auto aligned = [](const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; };
  if (!aligned(a.gate) || !aligned(a.up) || !aligned(a.out)) return "silu_mul kernel: buffers not 16-byte aligned";
  const int64_t work = a.n / Vec16<T>::n + 1, want = (work + 255) / 256;
  silu_mul_kernel<T><<<(unsigned)(want < 65535LL * 32 ? want : 65535LL * 32), 256, 0, st>>>(
      static_cast<const T*>(a.gate), static_cast<const T*>(a.up), static_cast<T*>(a.out), a.n);
  const cudaError_t e = cudaGetLastError();
  return e == cudaSuccess ? nullptr : cudaGetErrorString(e);
}

}  // namespace

const char* silu_mul(const SiluMulArgs& a, ElemType t, void* stream) {
  if (a.n <= 0) return "silu_mul kernel: empty input";
  cudaStream_t st = static_cast<cudaStream_t>(stream);
  return for_elem_type(t, "silu_mul kernel: unsupported type", [&](auto tag) { return launch_silu_mul<typename decltype(tag)::type>(a, st); });
}

const char* rope(const RopeArgs& a, ElemType t, void* stream) {
  if (a.D % 2 != 0 || a.B * a.H * a.T * a.D == 0) return "rope kernel: unsupported shape";
  cudaStream_t st = static_cast<cudaStream_t>(stream);
  return for_elem_type(t, "rope kernel: unsupported type", [&](auto tag) { return launch_rope<typename decltype(tag)::type>(a, st); });
}

const char* rms_norm(const RmsNormArgs& a, ElemType t, void* stream) {
  if (a.rows <= 0 || a.cols <= 0) return "rms_norm kernel: empty input";
  cudaStream_t st = static_cast<cudaStream_t>(stream);
  return for_elem_type(t, "rms_norm kernel: unsupported type", [&](auto tag) { return launch_norm<typename decltype(tag)::type>(a, st); });
}

}  // namespace ptq::kernels
