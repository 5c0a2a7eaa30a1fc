// Launch-geometry helpers shared by the .cu files.
#pragma once
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "core/cuda_check.h"
#include "core/cuda_runtime.h"

namespace benchsuite::cuda::detail {

inline cudaStream_t as_stream(StreamHandle stream) { return static_cast<cudaStream_t>(stream); }

// Grid for a grid-stride loop over n items: enough blocks to fill the device a few times
// over, never more than the work needs.
inline unsigned grid_for(int64_t n, int threads) {
  int64_t blocks = (n + threads - 1) / threads;
  return static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>(blocks, 65536)));
}

}  // namespace benchsuite::cuda::detail
