// Tracking allocator: per-device-type counters under one mutex (allocation is never on
// a timed path of an op case; the pool_churn case times it on purpose), and the caching
// pool's free lists under the same mutex.
#include "core/allocator.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <string>
#include <map>
#include <mutex>
#include <new>
#include <tuple>
#include <vector>

#include "core/cuda_runtime.h"
#include "core/error.h"

namespace benchsuite {

namespace {
constexpr size_t kHostAlignment = 64;
std::mutex g_mutex;
MemoryStats g_stats[2];

// (device type, device index, block size) -> free blocks. Heap-allocated and never
// destroyed: releasing CUDA blocks during static destruction could run after the CUDA
// runtime has shut down.
using PoolKey = std::tuple<int, int, size_t>;
struct Pool {
  bool enabled = false;
  PoolStats stats;
  std::map<PoolKey, std::vector<void*>> free_blocks;
};
Pool& pool() {
  static Pool* p = new Pool();
  return *p;
}

MemoryStats& stats_for(DeviceType type) { return g_stats[type == DeviceType::cpu ? 0 : 1]; }

void record_allocation(DeviceType type, size_t bytes) {
  MemoryStats& s = stats_for(type);
  s.bytes_in_use += static_cast<int64_t>(bytes);
  s.peak_bytes = std::max(s.peak_bytes, s.bytes_in_use);
  s.allocation_count += 1;
  s.allocated_bytes += static_cast<int64_t>(bytes);
  s.active_allocations += 1;
}

PoolKey key_of(Device device, size_t block) {
  return {device.type == DeviceType::cpu ? 0 : 1, device.index, block};
}

// The active AllocationBudget of each device type (guarded by g_mutex).
struct Budget {
  bool active = false;
  size_t limit = 0;
  size_t used = 0;
};
Budget g_budget[2];
Budget& budget_for(DeviceType type) { return g_budget[type == DeviceType::cpu ? 0 : 1]; }
}  // namespace

size_t host_available_memory() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  size_t kib = 0;
  std::string unit;
  while (meminfo >> key >> kib >> unit)
    if (key == "MemAvailable:") return kib * 1024;
  return 0;
}

namespace {

[[noreturn]] void throw_oom(const char* where, size_t bytes, size_t available) {
  throw Error(ErrorKind::unsupported,
              detail::str_cat("out of ", where, " memory: ", bytes, " bytes (", bytes >> 20, " MiB) requested, ",
                              available >> 20, " MiB available"),
              __FILE__, __LINE__, "oom");
}

void* system_allocate(Device device, size_t block, size_t bytes) {
  if (device.type == DeviceType::cpu) {
    // Linux overcommits: malloc of more than the machine has can succeed, and the first
    // write past what is there brings the OOM killer. Refuse such a request up front; only
    // large ones are looked at, so small allocations (timed by pool_churn) cost as before.
    constexpr size_t kCheckFrom = size_t{64} << 20;
    if (block >= kCheckFrom) {
      const size_t available = host_available_memory();
      if (available != 0 && block > available) throw_oom("host", bytes, available);
    }
    void* ptr = std::aligned_alloc(kHostAlignment, block);
    if (ptr == nullptr) throw_oom("host", bytes, host_available_memory());
    return ptr;
  }
  return cuda_malloc(block, device.index);
}

void system_free(int type, int index, void* ptr) noexcept {
  if (type == 0)
    std::free(ptr);
  else
    cuda_free(ptr, index);
}

// Caller holds g_mutex.
void release_cached_locked() {
  Pool& p = pool();
  for (auto& [key, blocks] : p.free_blocks)
    for (void* ptr : blocks) system_free(std::get<0>(key), std::get<1>(key), ptr);
  p.free_blocks.clear();
  p.stats.cached_blocks = 0;
  p.stats.cached_bytes = 0;
}
}  // namespace

size_t pool_block_size(size_t bytes) {
  constexpr size_t kSmallStep = 512, kLargeStep = size_t{64} << 10, kSmallLimit = size_t{1} << 20;
  if (bytes == 0) return kSmallStep;
  const size_t step = bytes <= kSmallLimit ? kSmallStep : kLargeStep;
  // Rounding up must not wrap a request near SIZE_MAX to a few bytes.
  BENCHSUITE_CHECK_ARG(bytes <= SIZE_MAX - step, "allocation of ", bytes, " bytes exceeds the address space");
  return (bytes + step - 1) / step * step;
}

void* tracked_allocate(Device device, size_t bytes) {
  const size_t block = pool_block_size(bytes);
  void* ptr = nullptr;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    Budget& budget = budget_for(device.type);
    if (budget.active) {
      if (block > budget.limit - budget.used)
        throw Error(ErrorKind::unsupported,
                    detail::str_cat("out of ", device.str(), " memory: the case needs more than the ",
                                    budget.limit >> 20, " MiB available when it began (", budget.used >> 20,
                                    " MiB allocated, ", bytes >> 20, " MiB more requested)"),
                    __FILE__, __LINE__, "oom");
      budget.used += block;
    }
    Pool& p = pool();
    if (p.enabled) {
      auto it = p.free_blocks.find(key_of(device, block));
      if (it != p.free_blocks.end() && !it->second.empty()) {
        ptr = it->second.back();
        it->second.pop_back();
        p.stats.hits += 1;
        p.stats.cached_blocks -= 1;
        p.stats.cached_bytes -= static_cast<int64_t>(block);
      } else {
        p.stats.misses += 1;
      }
    }
    if (ptr != nullptr) {
      record_allocation(device.type, bytes);
      return ptr;
    }
  }
  ptr = system_allocate(device, block, bytes);  // outside the lock: cudaMalloc may be slow
  std::lock_guard<std::mutex> lock(g_mutex);
  record_allocation(device.type, bytes);
  return ptr;
}

void tracked_deallocate(Device device, void* ptr, size_t bytes) noexcept {
  if (ptr == nullptr) return;
  const size_t block = pool_block_size(bytes);
  std::lock_guard<std::mutex> lock(g_mutex);
  MemoryStats& s = stats_for(device.type);
  s.bytes_in_use -= static_cast<int64_t>(bytes);
  s.active_allocations -= 1;
  Budget& budget = budget_for(device.type);
  if (budget.active) budget.used -= std::min(budget.used, block);  // a temporary freed again
  Pool& p = pool();
  if (p.enabled) {
    try {
      p.free_blocks[key_of(device, block)].push_back(ptr);
      p.stats.returned += 1;
      p.stats.cached_blocks += 1;
      p.stats.cached_bytes += static_cast<int64_t>(block);
      return;
    } catch (...) {  // no memory for the free list: release the block instead
    }
  }
  const auto [type, index, size] = key_of(device, block);
  (void)size;
  system_free(type, index, ptr);
}

AllocationBudget::AllocationBudget(DeviceType type, size_t bytes) : type_(type) {
  std::lock_guard<std::mutex> lock(g_mutex);
  Budget& b = budget_for(type);
  if (b.active) return;  // a case built on another thread holds it: that budget stands
  b = Budget{true, bytes, 0};
  owner_ = true;
}

AllocationBudget::~AllocationBudget() {
  if (!owner_) return;
  std::lock_guard<std::mutex> lock(g_mutex);
  budget_for(type_) = Budget{};
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

bool set_caching_pool(bool enabled) {
  std::lock_guard<std::mutex> lock(g_mutex);
  Pool& p = pool();
  const bool previous = p.enabled;
  p.enabled = enabled;
  p.stats.enabled = enabled;
  if (!enabled) release_cached_locked();
  return previous;
}

bool caching_pool_enabled() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return pool().enabled;
}

PoolStats pool_stats() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return pool().stats;
}

void empty_pool() {
  std::lock_guard<std::mutex> lock(g_mutex);
  release_cached_locked();
  Pool& p = pool();
  p.stats.hits = p.stats.misses = p.stats.returned = 0;
}

}  // namespace benchsuite
