#pragma once
// SIGINT and SIGTERM as a cooperative cancel for the long commands (sweep, run, quantize, ppl,
// compare, kurtosis, eval-tasks, make-checkpoint): the handler only sets an atomic flag and
// cancels the command's Feedback (a lock-free atomic store, safe in a signal handler); the engine
// polls it between blocks, windows and tensors and throws ptq::Cancelled, so the current run is
// abandoned cleanly (nothing half written: make-checkpoint removes the shards it wrote) and the
// command prints what completed and what did not, then exits 130 (SIGINT) or 143 (SIGTERM). A second
// signal exits at once with the same code. A signal inherited as ignored (a shell's background job,
// nohup) stays ignored.
#include <string>

#include "core/runtime/feedback.h"

namespace ptq::cli {

class CancelOnSignal {
 public:
  explicit CancelOnSignal(Feedback& fb);  // installs the handlers; one at a time
  ~CancelOnSignal();                      // restores the previous ones
  CancelOnSignal(const CancelOnSignal&) = delete;
  CancelOnSignal& operator=(const CancelOnSignal&) = delete;
};

// The signal that cancelled this process (SIGINT, SIGTERM), or 0.
int cancel_signal();
// "SIGINT", "SIGTERM" or "" for none.
std::string cancel_signal_name();
// 128 + the signal; 130 when cancelled some other way.
int cancel_exit_code();

}  // namespace ptq::cli
