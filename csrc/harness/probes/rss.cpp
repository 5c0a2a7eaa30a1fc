// Peak RSS from /proc/self/status (getrusage where that is missing), reset via clear_refs.
#include "harness/probes/rss.h"

#include <sys/resource.h>

#include <fstream>
#include <sstream>
#include <string>

namespace benchsuite {

int64_t host_peak_rss_bytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      std::istringstream fields(line.substr(6));
      long long kb = 0;
      if (fields >> kb) return static_cast<int64_t>(kb) * 1024;
    }
  }
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) == 0) return static_cast<int64_t>(usage.ru_maxrss) * 1024;
  return 0;
}

bool reset_host_peak_rss() {
  std::ofstream out("/proc/self/clear_refs");
  if (!out) return false;
  out << "5";  // 5: reset the peak RSS (Linux >= 4.0)
  out.flush();
  return static_cast<bool>(out);
}

}  // namespace benchsuite
