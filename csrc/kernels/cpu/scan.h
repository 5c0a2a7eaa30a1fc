// CPU kernels of the selective scan (Mamba-style diagonal state-space recurrence):
//   h_t = a_t * h_{t-1} + b_t * x_t      (elementwise over the N states of a channel)
//   y_t = sum_n c_t[n] * h_t[n]
// Shapes, all row-major and contiguous, float32:
//   x [B, T, D]        input, D channels          y      [B, T, D]  output
//   a [B, T, D, N]     discretised decay, (0, 1)   h0     [B, D, N]  initial state, or null (zeros)
//   b [B, T, D, N]     input weights               h_last [B, D, N]  state after the last step (h_T)
//   c [B, T, N]        output weights, shared across channels
#pragma once
#include <cstdint>

namespace benchsuite::cpu {

// v1, the reference: one (batch, channel) at a time, straight down the time axis, with h
// and the y sums accumulated in double.
void selective_scan_reference(const float* x, const float* a, const float* b, const float* c, const float* h0,
                              float* y, float* h_last, int64_t batch, int64_t seq_len, int64_t dim, int64_t state);

// Floats of workspace selective_scan_chunked needs: two [B, ceil(T/L), D, N] arrays.
int64_t selective_scan_chunked_workspace(int64_t batch, int64_t seq_len, int64_t dim, int64_t state, int64_t chunk);

// v2, the parallel chunked scan with chunks of `chunk` (L >= 1) steps, float throughout:
//   1. every (batch, chunk, block of adjacent channels) scans its chunk from h = 0 in
//      parallel, writing its local y and, into `workspace`, the chunk's end state and its
//      product of a;
//   2. per (batch, channel), the carries go sequentially over the T/L chunks:
//      carry_{k+1} = prod_k(a) * carry_k + end_k, carry_0 = h0; carry_{T/L} is h_last;
//   3. every chunk adds its carried-in state: y_t += sum_n c_t[n] prod_{s<=t}(a_s[n]) carry[n].
// workspace: selective_scan_chunked_workspace(...) floats.
void selective_scan_chunked(const float* x, const float* a, const float* b, const float* c, const float* h0,
                            float* y, float* h_last, float* workspace, int64_t batch, int64_t seq_len, int64_t dim,
                            int64_t state, int64_t chunk);

}  // namespace benchsuite::cpu
