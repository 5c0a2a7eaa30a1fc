// Tracking allocator: per-device-type counters under one mutex (allocation is never on
// a timed path; cases allocate in setup).
#include "common/allocator.h"

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <new>

#include "common/cuda_runtime.h"
#include "common/error.h"

namespace benchsuite {

namespace {
constexpr size_t kHostAlignment = 64;
std::mutex g_mutex;
MemoryStats g_stats[2];

MemoryStats& stats_for(DeviceType type) { return g_stats[type == DeviceType::cpu ? 0 : 1]; }

void record_allocation(DeviceType type, size_t bytes) {
  std::lock_guard<std::mutex> lock(g_mutex);
  MemoryStats& s = stats_for(type);
  s.bytes_in_use += static_cast<int64_t>(bytes);
  s.peak_bytes = std::max(s.peak_bytes, s.bytes_in_use);
  s.allocation_count += 1;
  s.allocated_bytes += static_cast<int64_t>(bytes);
  s.active_allocations += 1;
}
}  // namespace

void* tracked_allocate(Device device, size_t bytes) {
  void* ptr = nullptr;
  if (device.type == DeviceType::cpu) {
    size_t rounded = ((bytes + kHostAlignment - 1) / kHostAlignment) * kHostAlignment;
    ptr = std::aligned_alloc(kHostAlignment, rounded == 0 ? kHostAlignment : rounded);
    if (ptr == nullptr)
      throw Error(ErrorKind::unsupported, detail::str_cat("out of host memory allocating ", bytes, " bytes"),
                  __FILE__, __LINE__, "oom");
  } else {
    ptr = cuda_malloc(bytes, device.index);
  }
  record_allocation(device.type, bytes);
  return ptr;
}

void tracked_deallocate(Device device, void* ptr, size_t bytes) noexcept {
  if (ptr == nullptr) return;
  if (device.type == DeviceType::cpu)
    std::free(ptr);
  else
    cuda_free(ptr, device.index);
  std::lock_guard<std::mutex> lock(g_mutex);
  MemoryStats& s = stats_for(device.type);
  s.bytes_in_use -= static_cast<int64_t>(bytes);
  s.active_allocations -= 1;
}

MemoryStats memory_stats(DeviceType type) {
  std::lock_guard<std::mutex> lock(g_mutex);
  return stats_for(type);
}

void reset_memory_stats(DeviceType type) {
  std::lock_guard<std::mutex> lock(g_mutex);
  MemoryStats& s = stats_for(type);
  s.peak_bytes = s.bytes_in_use;
  s.allocation_count = 0;
  s.allocated_bytes = 0;
}

}  // namespace benchsuite
