#include "app/cli/progress_line.h"

#include <unistd.h>

#include <cstdio>

namespace ptq::cli {

ProgressLine::ProgressLine(Feedback& fb, bool enabled) : enabled_(enabled && ::isatty(2)) {
  if (!enabled_) return;
  fb.set_callback([this](const Progress& p) {
    auto now = std::chrono::steady_clock::now();
    bool final_step = p.total > 0 && p.step == p.total;
    if (!final_step && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    std::fprintf(stderr, "\r[%s] %lld/%lld  %3.0f%%   ", p.stage.c_str(), (long long)p.step, (long long)p.total,
                 100.0 * p.fraction);
    std::fflush(stderr);
    drawn_ = true;
  });
}

ProgressLine::~ProgressLine() {
  if (drawn_) std::fprintf(stderr, "\n");
}

}  // namespace ptq::cli
