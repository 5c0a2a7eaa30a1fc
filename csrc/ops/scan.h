// The selective scan op (Mamba-style diagonal state-space recurrence):
//   h_t = a_t * h_{t-1} + b_t * x_t,   y_t = sum_n c_t[n] * h_t[n]
// x [B, T, D], a [B, T, D, N] (decays in (0, 1)), b [B, T, D, N], c [B, T, N] (shared
// across channels), h0 [B, D, N] or undefined (zeros); returns {y [B, T, D], h_last [B, D, N]}.
#pragma once
#include <string>
#include <vector>

#include "common/tensor.h"
#include "ops/registry.h"

namespace benchsuite::ops {

// h0 may be undefined (zeros); workspace as selective_scan_workspace gives it.
using SelectiveScanImpl = void (*)(const Tensor& x, const Tensor& a, const Tensor& b, const Tensor& c,
                                   const Tensor& h0, const Tensor& y, const Tensor& h_last, const Tensor& workspace,
                                   int64_t chunk, StreamHandle stream);

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

}  // namespace benchsuite::ops
