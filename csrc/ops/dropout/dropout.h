// The dropout op: y = x * keep / (1 - p), keep = (u >= p) for u the element's uniform draw
// from a counter-based Philox stream (core/rng.h) keyed by `seed`: element i's mask depends
// only on (seed, i), so a run is reproducible for a seed, any thread can draw any element,
// and the backward is the same op on dy with the same seed (dx = dy * keep / (1 - p)).
// p = 0 copies; p must be in [0, 1). float32; the CPU reference (v1) also float64, with the
// same mask for a seed (only the kept values' precision differs).
#pragma once
#include <cstdint>
#include <string>

#include "core/cuda_runtime.h"
#include "core/host_device.h"
#include "core/rng.h"
#include "core/tensor.h"
#include "ops/registry.h"

namespace benchsuite {

// Philox block b: elements 4b .. 4b + 3 (those below n), each kept when its uniform is >= p,
// the kept value x * scale formed in double and rounded once. The CPU's v2 and the CUDA kernel
// both run it, so their masks and outputs agree bit for bit.
BENCHSUITE_HOST_DEVICE void dropout_block(const float* x, float* y, int64_t n, double p, double scale,
                                          uint64_t seed, int64_t b) {
  const Philox4 r = philox_block(seed, static_cast<uint64_t>(b));
  for (int lane = 0; lane < 4; ++lane) {
    const int64_t i = 4 * b + lane;
    if (i >= n) break;
    const bool keep = static_cast<double>(uniform_from_bits(philox_word(r, lane))) >= p;
    y[i] = keep ? static_cast<float>(static_cast<double>(x[i]) * scale) : 0.0f;
  }
}

namespace cpu {  // float32 (the reference: T float or double), [n]
template <class T>
void dropout_reference(const T* x, T* y, int64_t n, double p, uint64_t seed);          // v1: one element at a time
void dropout_f32(const float* x, float* y, int64_t n, double p, uint64_t seed);        // v2: a Philox block per 4, OpenMP
}  // namespace cpu

namespace cuda {  // device pointers, float32, [n]: the keep decisions and values of the CPU versions, bit for bit
void dropout_f32(const float* x, float* y, int64_t n, double p, uint64_t seed, StreamHandle stream);
}  // namespace cuda

namespace ops {
using DropoutSignature = void(const Tensor& x, const Tensor& y, double p, uint64_t seed, StreamHandle stream);
BENCHSUITE_OP(DropoutOp, "dropout", DropoutSignature);

void check_dropout_args(const Tensor& x, double p);
// y = x * keep / (1 - p), the mask drawn from `seed` (see above).
Tensor dropout(const Tensor& x, double p, uint64_t seed, const std::string& impl = "");
void run_dropout(const OpVersion& v, const Tensor& x, const Tensor& y, double p, uint64_t seed,
                 StreamHandle stream = nullptr);
}  // namespace ops

}  // namespace benchsuite
