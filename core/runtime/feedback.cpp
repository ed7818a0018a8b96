#include "core/runtime/feedback.h"

#include "core/runtime/errors.h"

namespace ptq {

void Feedback::set_callback(Callback cb) {
  std::lock_guard<std::mutex> lock(mu_);
  cb_ = std::move(cb);
}

void Feedback::set_stage_range(double lo, double hi) {
  std::lock_guard<std::mutex> lock(mu_);
  lo_ = lo;
  hi_ = hi;
}

void Feedback::report(const std::string& stage, int64_t step, int64_t total) {
  Callback cb;
  Progress p;
  {
    std::lock_guard<std::mutex> lock(mu_);
    p.stage = stage;
    p.step = step;
    p.total = total;
    double local = total > 0 ? double(step) / double(total) : 0.0;
    p.fraction = lo_ + (hi_ - lo_) * local;
    last_ = p;
    cb = cb_;
  }
  if (cb) cb(p);
}

void Feedback::check() const {
  if (cancelled_.load()) throw Cancelled();
}

Progress Feedback::last() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_;
}

}  // namespace ptq
