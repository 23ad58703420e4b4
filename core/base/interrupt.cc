#include "core/base/interrupt.h"

#include <atomic>
#include <csignal>

namespace airlock {

namespace {
std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void on_signal(int) { g_interrupted.store(true, std::memory_order_relaxed); }
}  // namespace

void request_interrupt() { g_interrupted.store(true, std::memory_order_relaxed); }

bool interrupt_requested() { return g_interrupted.load(std::memory_order_relaxed); }

Status check_interrupt() {
  if (interrupt_requested()) {
    return make_error(ErrorCode::kInterrupted, "interrupted");
  }
  return ok_status();
}

void install_interrupt_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

}  // namespace airlock
