// The memory family: the copy case (the bandwidth ceiling memory-bound ops are compared
// with) and the caching pool's case. No ops: the host copy kernel is shared with the ops
// that move bytes (manipulation).
#pragma once
#include <cstddef>

namespace benchsuite::cpu {
void copy_bytes(void* dst, const void* src, size_t bytes);  // memcpy split over OpenMP threads
}  // namespace benchsuite::cpu
