// Host memory: the peak resident set of this process.
#pragma once
#include <cstdint>

namespace benchsuite {

// Peak resident set (VmHWM) of this process in bytes; reset_host_peak_rss() restarts it
// from the current RSS where the kernel allows (/proc/self/clear_refs), returning whether it did.
int64_t host_peak_rss_bytes();
bool reset_host_peak_rss();

}  // namespace benchsuite
