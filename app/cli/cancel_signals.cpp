#include "app/cli/cancel_signals.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <utility>
#include <cstring>

#include "core/runtime/errors.h"

namespace ptq::cli {

namespace {

std::atomic<Feedback*> g_feedback{nullptr};
std::atomic<int> g_signal{0};
struct sigaction g_old_int, g_old_term;

void say(const char* s) {
  ssize_t r = ::write(STDERR_FILENO, s, std::strlen(s));
  (void)r;
}

void on_signal(int sig) {
  int expected = 0;
  if (!g_signal.compare_exchange_strong(expected, sig)) {  // the second signal: leave now
    say("\nptq: second signal, exiting now\n");
    ::_exit(128 + expected);
  }
  if (Feedback* fb = g_feedback.load()) fb->cancel();
  say(sig == SIGINT ? "\nptq: SIGINT: cancelling after the current block (again to exit now)\n"
                    : "\nptq: SIGTERM: cancelling after the current block (again to exit now)\n");
}

}  // namespace

CancelOnSignal::CancelOnSignal(Feedback& fb) {
  static_assert(std::atomic<bool>::is_always_lock_free, "the handler's store must be lock-free");
  Feedback* none = nullptr;
  if (!g_feedback.compare_exchange_strong(none, &fb)) throw Error("internal: two signal guards at once");
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // reads and writes in flight go on; the engine polls the flag
  // A signal the parent set to be ignored stays ignored (a shell's background job, nohup): the
  // user asked for the process not to be interrupted by it.
  for (auto [sig, old] : {std::pair<int, struct sigaction*>{SIGINT, &g_old_int}, {SIGTERM, &g_old_term}}) {
    ::sigaction(sig, nullptr, old);
    if (old->sa_handler != SIG_IGN) ::sigaction(sig, &sa, nullptr);
  }
}

CancelOnSignal::~CancelOnSignal() {
  ::sigaction(SIGINT, &g_old_int, nullptr);
  ::sigaction(SIGTERM, &g_old_term, nullptr);
  g_feedback.store(nullptr);
}

int cancel_signal() { return g_signal.load(); }

std::string cancel_signal_name() {
  switch (cancel_signal()) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    default: return "";
  }
}

int cancel_exit_code() { return cancel_signal() ? 128 + cancel_signal() : 130; }

}  // namespace ptq::cli
