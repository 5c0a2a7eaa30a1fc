// Tracking allocator: per-device-type counters under one mutex (allocation is never on
// a timed path of an op case; the pool_churn case times it on purpose), and the caching
// pool's free lists under the same mutex.
#include "common/allocator.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <tuple>
#include <vector>

#include "common/cuda_runtime.h"
#include "common/error.h"

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

void* system_allocate(Device device, size_t block, size_t bytes) {
  if (device.type == DeviceType::cpu) {
    void* ptr = std::aligned_alloc(kHostAlignment, block);
    if (ptr == nullptr)
      throw Error(ErrorKind::unsupported, detail::str_cat("out of host memory allocating ", bytes, " bytes"),
                  __FILE__, __LINE__, "oom");
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
  return (bytes + step - 1) / step * step;
}

void* tracked_allocate(Device device, size_t bytes) {
  const size_t block = pool_block_size(bytes);
  void* ptr = nullptr;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
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
