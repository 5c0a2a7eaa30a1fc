// The tracking allocator: every buffer benchsuite owns goes through here, so a case can
// report the bytes it allocated, its peak and its allocation count per device type.
#pragma once
#include <cstddef>
#include <cstdint>

#include "common/dtype.h"

namespace benchsuite {

struct MemoryStats {
  int64_t bytes_in_use = 0;
  int64_t peak_bytes = 0;          // high-water mark of bytes_in_use since the last reset
  int64_t allocation_count = 0;    // allocations since the last reset
  int64_t allocated_bytes = 0;     // bytes allocated since the last reset (sum of sizes)
  int64_t active_allocations = 0;  // live buffers now
};

// 64-byte aligned host memory or cudaMalloc'd device memory.
void* tracked_allocate(Device device, size_t bytes);
void tracked_deallocate(Device device, void* ptr, size_t bytes) noexcept;

MemoryStats memory_stats(DeviceType type);
// Counts and peak restart from now (peak = bytes in use now); live buffers stay counted.
void reset_memory_stats(DeviceType type);

}  // namespace benchsuite
