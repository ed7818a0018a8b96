#pragma once
// A one-line progress display on stderr for the CLI ("\r[stage] step/total  42%"), rate-limited.
#include <chrono>
#include <string>

#include "core/runtime/feedback.h"

namespace ptq::cli {

class ProgressLine {
 public:
  explicit ProgressLine(Feedback& fb, bool enabled = true);
  ~ProgressLine();

 private:
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace ptq::cli
