// core/runtime: the CPU thread count that configure_threads() takes from PTQ_THREADS or
// OMP_NUM_THREADS (scripts/test sets PTQ_THREADS=1 so that two tests share two cores).
#include <ATen/Parallel.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/runtime/device.h"
#include "core/runtime/host_allocator.h"
#include "core/runtime/errors.h"
#include "core/runtime/worker_thread.h"
#include "tests/check.h"

using namespace ptq;

namespace {

// Sets (or, with nullopt, unsets) an environment variable for the lifetime of the guard.
class EnvGuard {
 public:
  EnvGuard(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) ::setenv(name, value->c_str(), 1);
    else ::unsetenv(name);
  }
  ~EnvGuard() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// Restores the thread count the test process runs with.
struct ThreadCountGuard {
  int saved = at::get_num_threads();
  ~ThreadCountGuard() { at::set_num_threads(saved); }
};

}  // namespace

TEST_CASE("PTQ_THREADS sets the thread count and wins over OMP_NUM_THREADS") {
  ThreadCountGuard keep;
  EnvGuard omp("OMP_NUM_THREADS", std::string("2"));
  {
    EnvGuard ptq("PTQ_THREADS", std::string("3"));
    configure_threads();
    CHECK(at::get_num_threads() == 3);
  }
  EnvGuard ptq("PTQ_THREADS", std::nullopt);
  configure_threads();
  CHECK(at::get_num_threads() == 2);
  EnvGuard no_omp("OMP_NUM_THREADS", std::string(""));  // empty counts as unset
  configure_threads();
  const int hw = int(std::thread::hardware_concurrency());
  CHECK(hw <= 0 || at::get_num_threads() == hw);
}

TEST_CASE("a bad thread count names the variable and the value") {
  ThreadCountGuard keep;
  for (const char* bad : {"0", "-2", "two", "4x", "100000"}) {
    EnvGuard ptq("PTQ_THREADS", std::string(bad));
    CHECK_THROWS_WITH(configure_threads(), std::string("PTQ_THREADS must be a thread count in 1..4096, got '") + bad + "'");
  }
  EnvGuard ptq("PTQ_THREADS", std::nullopt);
  EnvGuard omp("OMP_NUM_THREADS", std::string("many"));
  CHECK_THROWS_WITH(configure_threads(), "OMP_NUM_THREADS must be a thread count");
}

// glibc accepts both settings (it refuses an mmap threshold above 32 MB: a larger value would be
// silently ignored, which this catches).
TEST_CASE("configure_host_allocator: glibc takes the settings") {
#if defined(__GLIBC__)
  CHECK(configure_host_allocator());
#endif
}

TEST_CASE("WorkerThread: tasks run in the order posted, results and exceptions reach their futures") {
  std::vector<int> order;
  std::future<int> last;
  std::future<void> failed;
  {
    WorkerThread w;
    for (int i = 0; i < 5; ++i) w.post([&order, i] { order.push_back(i); });
    failed = w.post([]() -> void { throw Error("task failed"); });
    last = w.post([&order] { return int(order.size()); });
  }  // the destructor lets every posted task finish
  CHECK(order == std::vector<int>({0, 1, 2, 3, 4}));
  CHECK(last.get() == 5);  // ran after the five, not before
  CHECK_THROWS_WITH(failed.get(), "task failed");
}
