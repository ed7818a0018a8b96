#include "core/runtime/host_allocator.h"

#include <cstdlib>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace ptq {

bool configure_host_allocator() {
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
