#pragma once
// Progress and cooperative cancellation for long work, after QGIS' QgsFeedback:
// the worker reports (stage, step of total) and polls is_cancelled() between units of work
// (blocks, windows, layers); whoever owns the job may cancel from any thread.
#include <atomic>
#include <functional>
#include <mutex>
#include <string>

namespace ptq {

struct Progress {
  std::string stage;   // e.g. "load", "block", "perplexity"
  int64_t step = 0;    // units done in this stage
  int64_t total = 0;   // units in this stage (0 = unknown)
  double fraction = 0; // overall fraction of the job in [0,1]
};

class Feedback {
 public:
  using Callback = std::function<void(const Progress&)>;

  void set_callback(Callback cb);
  // Reports progress of the current stage. `weight` range [lo,hi] maps the stage onto the job's
  // overall fraction, so nested stages (quantize then evaluate) report one monotonic bar.
  void report(const std::string& stage, int64_t step, int64_t total);
  void set_stage_range(double lo, double hi);

  void cancel() { cancelled_.store(true); }
  bool is_cancelled() const { return cancelled_.load(); }
  // Throws ptq::Cancelled when cancelled: call between units of work.
  void check() const;

  Progress last() const;

 private:
  mutable std::mutex mu_;
  Callback cb_;
  Progress last_;
  double lo_ = 0.0, hi_ = 1.0;
  std::atomic<bool> cancelled_{false};
};

// Convenience for optional feedback pointers.
inline void report(Feedback* fb, const std::string& stage, int64_t step, int64_t total) {
  if (fb) fb->report(stage, step, total);
}
inline void check_cancel(const Feedback* fb) {
  if (fb) fb->check();
}

}  // namespace ptq
