// The SIGINT flag behind InterruptScope: a lock-free atomic set from the handler.
#include "harness/interrupt.h"

#include <atomic>
#include <csignal>

namespace benchsuite {

namespace {
std::atomic<bool> g_interrupted{false};
std::atomic<int> g_depth{0};
struct sigaction g_previous;

static_assert(std::atomic<bool>::is_always_lock_free, "the SIGINT handler needs a lock-free flag");

extern "C" void on_sigint(int) { g_interrupted.store(true, std::memory_order_relaxed); }
}  // namespace

bool interrupt_requested() { return g_interrupted.load(std::memory_order_relaxed); }

InterruptScope::InterruptScope() {
  if (g_depth.fetch_add(1) != 0) return;  // an outer scope owns the handler
  g_interrupted.store(false);
  struct sigaction action {};
  action.sa_handler = on_sigint;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // a read or sleep in progress carries on; the loops poll the flag
  // A process started with SIGINT ignored (nohup, a background job) keeps ignoring it.
  if (sigaction(SIGINT, nullptr, &g_previous) != 0 || g_previous.sa_handler == SIG_IGN) return;
  installed_ = sigaction(SIGINT, &action, nullptr) == 0;
}

InterruptScope::~InterruptScope() {
  if (installed_) sigaction(SIGINT, &g_previous, nullptr);
  // Outside every scope the flag reads false: an old Ctrl-C never stops a later run.
  if (g_depth.fetch_sub(1) == 1) g_interrupted.store(false);
}

}  // namespace benchsuite
