#pragma once
// Devices, dtypes and the facts a result record carries about the machine it ran on.
#include <ATen/ATen.h>

#include <string>

namespace ptq {

// "cpu", "cuda", "cuda:N", or "auto" (CUDA when available, else CPU). Throws ptq::Error.
at::Device parse_device(const std::string& s);
// "float32" | "bfloat16" | "float16" (also fp32, bf16, fp16). Throws ptq::Error naming the choices.
at::ScalarType parse_dtype(const std::string& s);
std::string dtype_name(at::ScalarType t);

bool cuda_available();
int cuda_device_count();  // 0 without CUDA
std::string device_description(const at::Device& d);  // "NVIDIA H100 80GB HBM3" or "CPU (N threads)"
std::string torch_version();
std::string cuda_version();  // "" without CUDA

// Peak bytes allocated on a CUDA device since the last reset (0 on CPU or without CUDA).
void reset_peak_memory(const at::Device& d);
int64_t peak_memory_bytes(const at::Device& d);
int64_t total_device_memory(const at::Device& d);  // 0 on CPU
int64_t free_device_memory(const at::Device& d);   // 0 on CPU
// Memory a new allocation can get: free device memory on CUDA, the kernel's MemAvailable (host
// memory usable without swapping) on CPU; -1 when it cannot be told.
int64_t available_memory(const at::Device& d);
void synchronize(const at::Device& d);

// Sets the CPU thread count: PTQ_THREADS, else OMP_NUM_THREADS, else every hardware thread
// (LibTorch may default to one). scripts/test sets PTQ_THREADS so that parallel tests do not
// oversubscribe the cores. Throws ptq::Error naming the variable when its value is not 1..4096.
void configure_threads();

// x copied into fresh pinned host memory: asynchronously from a CUDA tensor (stream-ordered; the
// caller synchronizes before reading it on the host), a plain memcpy from a CPU one.
at::Tensor pinned_copy(const at::Tensor& x);

// While alive, CUDA float32 matrix products may use TF32 tensor cores (10-bit mantissa, float32
// accumulate) when `on`; the previous setting comes back at scope exit. CPU products are unaffected.
class ScopedTf32 {
 public:
  explicit ScopedTf32(bool on);
  ~ScopedTf32();
  ScopedTf32(const ScopedTf32&) = delete;
  ScopedTf32& operator=(const ScopedTf32&) = delete;

 private:
  bool prev_;
};

// True when the exception is a device out-of-memory error.
bool is_out_of_memory(const std::exception& e);

}  // namespace ptq
