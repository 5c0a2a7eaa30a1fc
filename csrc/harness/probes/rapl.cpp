// RaplMonitor: package zones found under powercap, read and summed with wraparound.
#include "harness/probes/rapl.h"

#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace benchsuite {

namespace {
bool read_u64(const std::string& path, uint64_t* value, std::string* why) {
  std::ifstream in(path);
  if (!in) {
    if (why) *why = path + " is not readable (" + std::strerror(errno) + ")";
    return false;
  }
  unsigned long long v = 0;
  if (!(in >> v)) {
    if (why) *why = path + " is not readable (" + (errno ? std::strerror(errno) : "no number") + ")";
    return false;
  }
  *value = v;
  return true;
}
std::string read_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}
}  // namespace

RaplMonitor::RaplMonitor(std::string root) {
  if (root.empty()) {
    const char* env = std::getenv("BENCHSUITE_POWERCAP_ROOT");
    root = env && *env ? env : "/sys/class/powercap";
  }
  DIR* dir = opendir(root.c_str());
  if (!dir) {
    reason_ = "RAPL not present: no powercap directory " + root;
    return;
  }
  std::vector<std::string> names;
  while (dirent* e = readdir(dir)) {
    const std::string name = e->d_name;
    // Top-level package zones only (intel-rapl:0); sub-zones (intel-rapl:0:0) are inside them.
    if (name.rfind("intel-rapl:", 0) == 0 && name.find(':', 11) == std::string::npos) names.push_back(name);
  }
  closedir(dir);
  std::sort(names.begin(), names.end());
  if (names.empty()) {
    reason_ = "RAPL not present: no intel-rapl:N zone under " + root;
    return;
  }
  for (const std::string& name : names) {
    Zone z;
    z.path = root + "/" + name;
    z.name = read_line(z.path + "/name");
    if (z.name.empty()) z.name = name;
    std::string why;
    if (!read_u64(z.path + "/energy_uj", &z.last_uj, &why)) {
      reason_ = "RAPL not readable: " + why + (errno == EACCES ? "; energy_uj is root-only since Linux 5.10" : "");
      zones_.clear();
      zone_names_.clear();
      return;
    }
    if (!read_u64(z.path + "/max_energy_range_uj", &z.max_range_uj, nullptr)) z.max_range_uj = 0;
    zone_names_.push_back(z.name);
    zones_.push_back(z);
  }
}

std::optional<double> RaplMonitor::energy_joules() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!reason_.empty()) return std::nullopt;
  double total = 0;
  for (Zone& z : zones_) {
    uint64_t now_uj = 0;
    if (!read_u64(z.path + "/energy_uj", &now_uj, nullptr)) return std::nullopt;
    uint64_t delta;
    if (now_uj >= z.last_uj)
      delta = now_uj - z.last_uj;
    else  // wrapped around at max_energy_range_uj
      delta = (z.max_range_uj >= z.last_uj ? z.max_range_uj - z.last_uj : 0) + now_uj;
    z.total_j += static_cast<double>(delta) * 1e-6;
    z.last_uj = now_uj;
    total += z.total_j;
  }
  return total;
}

}  // namespace benchsuite
