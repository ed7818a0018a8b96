#include "core/runtime/device.h"

#include <torch/version.h>

#include <ATen/Parallel.h>
#include <ATen/Context.h>

#include "core/runtime/device_names.h"
#include "core/runtime/errors.h"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <thread>

#ifdef PTQ_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <cuda_runtime_api.h>
#endif

namespace ptq {

int cuda_device_count() {
#ifdef PTQ_WITH_CUDA
  return at::hasCUDA() ? int(c10::cuda::device_count()) : 0;
#else
  return 0;
#endif
}

bool cuda_available() {
#ifdef PTQ_WITH_CUDA
  return at::hasCUDA() && c10::cuda::device_count() > 0;
#else
  return false;
#endif
}

at::Device parse_device(const std::string& s) {
  if (s == "auto") return cuda_available() ? at::Device(at::kCUDA, 0) : at::Device(at::kCPU);
  if (s == "cpu") return at::Device(at::kCPU);
  if (s == "cuda" || s.rfind("cuda:", 0) == 0) {
    if (!cuda_available())
      throw Error("device '" + s + "' asked for, but this build or machine has no CUDA GPU (use --device cpu)");
    int idx = 0;
    if (s.size() > 5) {
      try {
        idx = std::stoi(s.substr(5));
      } catch (...) {
        throw Error("bad device '" + s + "': expected cuda:N");
      }
    }
#ifdef PTQ_WITH_CUDA
    if (idx < 0 || idx >= int(c10::cuda::device_count()))
      throw Error("device '" + s + "' does not exist (" + std::to_string(c10::cuda::device_count()) +
                  " GPUs)");
#endif
    return at::Device(at::kCUDA, int8_t(idx));
  }
  throw Error("unknown device '" + s + "' (choose cpu, cuda, cuda:N or auto)");
}

at::ScalarType parse_dtype(const std::string& s) {
  const std::string name = canonical_dtype(s);  // throws naming the choices
  if (name == "bfloat16") return at::kBFloat16;
  if (name == "float16") return at::kHalf;
  return at::kFloat;
}

std::string dtype_name(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return "float32";
    case at::kBFloat16: return "bfloat16";
    case at::kHalf: return "float16";
    default: return c10::toString(t);
  }
}

std::string device_description(const at::Device& d) {
#ifdef PTQ_WITH_CUDA
  if (d.is_cuda()) return at::cuda::getDeviceProperties(d.index() < 0 ? 0 : d.index())->name;
#endif
  (void)d;
  return "CPU (" + std::to_string(at::get_num_threads()) + " threads)";
}

std::string torch_version() { return TORCH_VERSION; }

std::string cuda_version() {
#ifdef PTQ_WITH_CUDA
  int v = 0;
  if (cudaRuntimeGetVersion(&v) == cudaSuccess) return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
#endif
  return "";
}

void reset_peak_memory(const at::Device& d) {
#ifdef PTQ_WITH_CUDA
  if (d.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(d.index() < 0 ? 0 : d.index());
#endif
  (void)d;
}

int64_t peak_memory_bytes(const at::Device& d) {
#ifdef PTQ_WITH_CUDA
  if (d.is_cuda()) {
    auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(d.index() < 0 ? 0 : d.index());
    return stats.allocated_bytes[0].peak;  // index 0 = StatType::AGGREGATE (as torch.cuda.max_memory_allocated)
  }
#endif
  (void)d;
  return 0;
}

int64_t total_device_memory(const at::Device& d) {
#ifdef PTQ_WITH_CUDA
  if (d.is_cuda()) return int64_t(at::cuda::getDeviceProperties(d.index() < 0 ? 0 : d.index())->totalGlobalMem);
#endif
  (void)d;
  return 0;
}

int64_t free_device_memory(const at::Device& d) {
#ifdef PTQ_WITH_CUDA
  if (d.is_cuda()) {
    size_t free_b = 0, total_b = 0;
    if (cudaMemGetInfo(&free_b, &total_b) == cudaSuccess) return int64_t(free_b);
  }
#endif
  (void)d;
  return 0;
}

int64_t available_memory(const at::Device& d) {
  if (d.is_cuda()) return free_device_memory(d);
  std::FILE* f = std::fopen("/proc/meminfo", "r");
  if (!f) return -1;
  char line[256];
  long long kb = -1;
  while (std::fgets(line, sizeof line, f))
    if (std::sscanf(line, "MemAvailable: %lld kB", &kb) == 1) break;
  std::fclose(f);
  return kb < 0 ? -1 : int64_t(kb) * 1024;
}

void synchronize(const at::Device& d) {
#ifdef PTQ_WITH_CUDA
  if (d.is_cuda()) cudaDeviceSynchronize();
#endif
  (void)d;
}

namespace {

// The value of a thread-count variable, or 0 when it is unset or empty.
int thread_count_from_env(const char* var) {
  const char* v = std::getenv(var);
  if (!v || !*v) return 0;
  char* end = nullptr;
  const long n = std::strtol(v, &end, 10);
  if (*end != '\0' || n < 1 || n > 4096)
    throw Error(std::string(var) + " must be a thread count in 1..4096, got '" + v + "'");
  return int(n);
}

}  // namespace

void configure_threads() {
  int n = thread_count_from_env("PTQ_THREADS");
  if (n == 0) n = thread_count_from_env("OMP_NUM_THREADS");
  if (n == 0) n = int(std::thread::hardware_concurrency());
  if (n <= 0) return;
  at::set_num_threads(n);
  // OpenBLAS (Debian's LibTorch) keeps its own pthread pool, sized at load from OPENBLAS_NUM_THREADS or
  // OMP_NUM_THREADS, else every core: PTQ_THREADS alone would leave the matrix products on all of them.
  // Looked up at run time because other LibTorch builds (MKL) have no OpenBLAS.
  using SetThreads = void (*)(int);
  if (auto f = reinterpret_cast<SetThreads>(::dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) f(n);
}

bool is_out_of_memory(const std::exception& e) {
  std::string w = e.what();
  return w.find("out of memory") != std::string::npos || w.find("CUDA out of memory") != std::string::npos;
}

at::Tensor pinned_copy(const at::Tensor& x) {
  at::Tensor h = at::empty(x.sizes(), x.options().device(at::kCPU).pinned_memory(true));
  h.copy_(x, /*non_blocking=*/true);
  return h;
}

ScopedTf32::ScopedTf32(bool on) : prev_(at::globalContext().allowTF32CuBLAS()) {
  at::globalContext().setAllowTF32CuBLAS(on);
}

ScopedTf32::~ScopedTf32() { at::globalContext().setAllowTF32CuBLAS(prev_); }

}  // namespace ptq
