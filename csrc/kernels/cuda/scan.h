// Host-callable launchers of the CUDA selective scan (no CUDA headers here). Recurrence
// and shapes as in kernels/cpu/scan.h: x [B, T, D], a, b [B, T, D, N], c [B, T, N],
// h0 [B, D, N] or null (zeros), y [B, T, D], h_last [B, D, N]; float32, contiguous.
#pragma once
#include <cstdint>

#include "common/cuda_runtime.h"

namespace benchsuite::cuda {

// v1: one thread per (batch, channel, state) walks the whole sequence; the y sum over the
// states is a shuffle reduction within a group of min(32, pow2ceil(N)) lanes (for N > 32
// each lane keeps up to 8 states in registers; past 256 the group repeats the sweep per
// 256-state slice and adds into y).
void selective_scan_sequential_f32(const float* x, const float* a, const float* b, const float* c, const float* h0,
                                   float* y, float* h_last, int64_t batch, int64_t seq_len, int64_t dim,
                                   int64_t state, StreamHandle stream);

// Floats of device workspace selective_scan_chunked_f32 needs: two [B, ceil(T/L), D, N] arrays.
int64_t selective_scan_chunked_workspace(int64_t batch, int64_t seq_len, int64_t dim, int64_t state, int64_t chunk);

// v2: the chunked scan in three kernels: every (batch, chunk, channel) group scans its
// chunk from h = 0 (as v1, over L steps); one thread per (batch, channel, state) carries
// the states across chunks; every chunk then adds prod(a up to t) * carry_in to its y.
void selective_scan_chunked_f32(const float* x, const float* a, const float* b, const float* c, const float* h0,
                                float* y, float* h_last, float* workspace, int64_t batch, int64_t seq_len,
                                int64_t dim, int64_t state, int64_t chunk, StreamHandle stream);

}  // namespace benchsuite::cuda
