#include "core/runtime/host_allocator.h"

#include <torch/version.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <thread>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace ptq {

bool configure_host_allocator() {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 2)
  // Pinned host memory (calibration staging, streamed blocks) by malloc + cudaHostRegister on
  // several threads instead of cudaHostAlloc: on the H200, a 7B GPTQ run's first block went from 3.3
  // to 2.0 s and each streamed block's write-back staging from 0.18 to 0.06 s. The page faulting
  // scales with the threads (a fresh 2 GiB: 1.34 s by cudaHostAlloc, 0.44 s on 8 threads, 0.27 s on
  // 16, on a 16-core host): the largest power of two (LibTorch's rule) up to the cores, at most 16.
  // Read by LibTorch at its first pinned allocation; a user's own setting is left as given.
  if (!std::getenv("PYTORCH_ALLOC_CONF") && !std::getenv("PYTORCH_CUDA_ALLOC_CONF")) {
    unsigned threads = 1;
    while (threads * 2 <= std::min(16u, std::thread::hardware_concurrency())) threads *= 2;
    const std::string conf = "pinned_use_cuda_host_register:True,pinned_num_register_threads:" + std::to_string(threads);
    ::setenv("PYTORCH_CUDA_ALLOC_CONF", conf.c_str(), 0);
  }
#endif
#if defined(__GLIBC__)
  if (std::getenv("GLIBC_TUNABLES")) return true;
  bool ok = true;
  if (!std::getenv("MALLOC_MMAP_THRESHOLD_")) ok &= ::mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1;
  if (!std::getenv("MALLOC_TRIM_THRESHOLD_")) ok &= ::mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1;
  return ok;
#else
  return false;
#endif
}

}  // namespace ptq
