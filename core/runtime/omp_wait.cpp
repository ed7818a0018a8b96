#include "core/runtime/omp_wait.h"

#include <cstdlib>

#if defined(__linux__)
#include <unistd.h>
#endif

namespace ptq {

namespace {
bool set(const char* v) { return v && *v; }
}  // namespace

bool should_reexec_for_passive_wait(const char* wait_policy, const char* spincount, const char* reexec_mark) {
  return !set(wait_policy) && !set(spincount) && !set(reexec_mark);
}

void reexec_with_passive_omp_wait(char** argv) {
#if defined(__linux__)
  if (!should_reexec_for_passive_wait(std::getenv("OMP_WAIT_POLICY"), std::getenv("GOMP_SPINCOUNT"),
                                      std::getenv("PTQ_OMP_REEXEC")))
    return;
  // The mark is set first, so a failed or repeated exec can never loop.
  if (::setenv("PTQ_OMP_REEXEC", "1", 1) != 0 || ::setenv("OMP_WAIT_POLICY", "PASSIVE", 1) != 0) return;
  ::execv("/proc/self/exe", argv);
  ::unsetenv("OMP_WAIT_POLICY");  // exec failed: the environment says what libgomp actually uses
#else
  (void)argv;
#endif
}

const char* omp_wait_policy_name() {
  const char* v = std::getenv("OMP_WAIT_POLICY");
  return set(v) ? v : "default";
}

}  // namespace ptq
