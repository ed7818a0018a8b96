#pragma once
// A kernel-level profile of one whole command, for bench/: with PTQ_KERNEL_PROFILE=FILE set, the
// torch (Kineto/CUPTI) profiler records every CUDA kernel and copy while the object lives, and on
// destruction FILE gets the top entries by total GPU time, one JSON line each ({"name", "calls",
// "total_ms", "share"}), preceded by one line with the totals. Without the variable, or where
// LibTorch was built without Kineto, it does nothing (a line on stderr says why not).
#include <memory>
#include <string>

namespace ptq {

class KernelProfile {
 public:
  KernelProfile();  // reads PTQ_KERNEL_PROFILE
  ~KernelProfile();
  KernelProfile(const KernelProfile&) = delete;
  KernelProfile& operator=(const KernelProfile&) = delete;

 private:
  std::string path_;
  bool active_ = false;
};

}  // namespace ptq
