// Ctrl-C during a native measurement. While an InterruptScope is alive, SIGINT only sets
// a flag; the timing loops poll it between samples, calibration and warm-up runs and stop
// with stop_reason "interrupted", so the caller gets the samples taken so far within a
// sample's time instead of losing the case (Python's own handler would run only after
// the whole native call returned).
#pragma once

namespace benchsuite {

// True once SIGINT arrived inside the current scope. Async-signal-safe to set, cheap to poll.
bool interrupt_requested();

// Installs the flag-setting SIGINT handler for its lifetime and restores the previous one
// (Python's) after; the flag is cleared on entry and exit. Nested scopes are no-ops.
class InterruptScope {
 public:
  InterruptScope();
  ~InterruptScope();
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;
  // Whether SIGINT arrived while the scope was alive.
  bool interrupted() const { return interrupt_requested(); }

 private:
  bool installed_ = false;
};

}  // namespace benchsuite
