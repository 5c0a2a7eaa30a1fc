// The selective scan op (Mamba-style diagonal state-space recurrence):
//   h_t = a_t * h_{t-1} + b_t * x_t,   y_t = sum_n c_t[n] * h_t[n]
// x [B, T, D], a [B, T, D, N] (decays in (0, 1)), b [B, T, D, N], c [B, T, N] (shared
// across channels), h0 [B, D, N] or undefined (zeros); returns {y [B, T, D], h_last [B, D, N]}.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/cuda_runtime.h"
#include "core/tensor.h"
#include "ops/registry.h"

namespace benchsuite {

// The kernels' shapes, all row-major and contiguous, float32:
//   x [B, T, D]        input, D channels          y      [B, T, D]  output
//   a [B, T, D, N]     discretised decay, (0, 1)   h0     [B, D, N]  initial state, or null (zeros)
//   b [B, T, D, N]     input weights               h_last [B, D, N]  state after the last step (h_T)
//   c [B, T, N]        output weights, shared across channels
namespace cpu {

// v1, the reference: one (batch, channel) at a time, straight down the time axis, with h
// and the y sums accumulated in double; T = float or double (the float64 reference).
template <class T>
void selective_scan_reference(const T* x, const T* a, const T* b, const T* c, const T* h0, T* y, T* h_last,
                              int64_t batch, int64_t seq_len, int64_t dim, int64_t state);

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

}  // namespace cpu

// CUDA launchers (no CUDA headers here), device pointers, the kernels' shapes above.
namespace cuda {

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

}  // namespace cuda

namespace ops {

// h0 may be undefined (zeros); workspace as selective_scan_workspace gives it.
using SelectiveScanSignature = void(const Tensor& x, const Tensor& a, const Tensor& b, const Tensor& c,
                                    const Tensor& h0, const Tensor& y, const Tensor& h_last, const Tensor& workspace,
                                    int64_t chunk, StreamHandle stream);

BENCHSUITE_OP(SelectiveScanOp, "selective_scan", SelectiveScanSignature);

// chunk: time steps per chunk of the chunked versions (>= 1; the sequential ones ignore it).
std::vector<Tensor> selective_scan(const Tensor& x, const Tensor& a, const Tensor& b, const Tensor& c,
                                   const Tensor& h0, int64_t chunk = 64, const std::string& impl = "");

// Pieces for benchmark cases (validate once, allocate once, time only the kernels).
void check_selective_scan_args(const Tensor& x, const Tensor& a, const Tensor& b, const Tensor& c, const Tensor& h0,
                               int64_t chunk);
// The workspace `version` needs for these shapes (undefined for the sequential versions).
Tensor selective_scan_workspace(const OpVersion& version, const Tensor& x, const Tensor& c, int64_t chunk);
void run_selective_scan(const OpVersion& version, const Tensor& x, const Tensor& a, const Tensor& b, const Tensor& c,
                        const Tensor& h0, const Tensor& y, const Tensor& h_last, const Tensor& workspace,
                        int64_t chunk, StreamHandle stream = nullptr);

}  // namespace ops

}  // namespace benchsuite
