// The tracking allocator: every buffer benchsuite owns goes through here, so a case can
// report the bytes it allocated, its peak and its allocation count per device type.
// An optional caching pool keeps freed blocks for reuse by requests of the same size.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/dtype.h"

namespace benchsuite {

struct MemoryStats {
  int64_t bytes_in_use = 0;
  int64_t peak_bytes = 0;          // high-water mark of bytes_in_use since the last reset
  int64_t allocation_count = 0;    // allocations since the last reset
  int64_t allocated_bytes = 0;     // bytes allocated since the last reset (sum of sizes)
  int64_t active_allocations = 0;  // live buffers now
};

// 64-byte aligned host memory or cudaMalloc'd device memory (from the pool when it is on).
void* tracked_allocate(Device device, size_t bytes);
void tracked_deallocate(Device device, void* ptr, size_t bytes) noexcept;

MemoryStats memory_stats(DeviceType type);

// Bytes the host could hand out now without swapping (MemAvailable), or 0 when unknown.
size_t host_available_memory();

// While alive, tracked allocations on `type` beyond `bytes` in total (counted from the
// budget's start) fail as oom before the system allocator is asked: a case's buffers are
// all allocated before any is filled, so a case too large for the memory that was free
// when it began is skipped before any work starts. One at a time per device type: a budget
// made while another is alive (a case built on another thread) does nothing.
class AllocationBudget {
 public:
  AllocationBudget(DeviceType type, size_t bytes);
  ~AllocationBudget();
  AllocationBudget(const AllocationBudget&) = delete;
  AllocationBudget& operator=(const AllocationBudget&) = delete;

 private:
  DeviceType type_;
  bool owner_ = false;
};
// Counts and peak restart from now (peak = bytes in use now); live buffers stay counted.
void reset_memory_stats(DeviceType type);

// ---- caching pool ------------------------------------------------------------------------
// Off by default. When on, a freed block goes to a free list keyed by (device, block size)
// instead of free()/cudaFree(), and the next request of that block size takes it back:
// allocation-heavy code then skips the system allocator (cudaMalloc synchronises the device).
// Block sizes are rounded (512 B steps up to 1 MiB, 64 KiB steps above), always, so a block
// allocated with the pool off can join it later.
struct PoolStats {
  bool enabled = false;
  int64_t hits = 0;           // requests served from the pool
  int64_t misses = 0;         // requests that went to the system allocator (pool on)
  int64_t returned = 0;       // frees kept in the pool
  int64_t cached_blocks = 0;  // blocks held now
  int64_t cached_bytes = 0;   // bytes held now
};

size_t pool_block_size(size_t bytes);
// Returns the previous setting. Turning the pool off releases every cached block.
bool set_caching_pool(bool enabled);
bool caching_pool_enabled();
PoolStats pool_stats();
// Releases every cached block (the pool stays on or off as it was) and zeroes the counters.
void empty_pool();

}  // namespace benchsuite
