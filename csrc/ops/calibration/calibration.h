// The calibration kernels: work of known length for validating the harness (the spin
// and busy_wait cases) and the measured compute ceilings records compare with, not ops.
#pragma once
#include <cstdint>

#include "core/cuda_runtime.h"

namespace benchsuite {

namespace cpu {
// Busy-waits for `nanoseconds` of steady_clock time: a CPU case of known length.
void spin_for(int64_t nanoseconds);
// The fp32 compute ceiling: every OpenMP thread runs `iterations` steps of 12 independent FMA
// chains on the widest float vector this build targets (16 lanes with AVX-512, 8 with AVX2 +
// FMA, else scalar); returns the floating-point operations done (2 per lane per FMA).
double fma_burst(int64_t iterations);
// The best FLOP/s of a few short bursts (~10 ms each) over all OpenMP threads: the measured
// fp32 peak records report their fraction of (a spec sheet's figure is wrong on cores that
// split wide vectors, as Zen 4 splits AVX-512 into two 256-bit halves).
double fma_peak_flop_per_s();
// The same for dot products into fp32 / int32 lanes, 0 where the CPU lacks the instruction
// (cpu_features.h): bf16 by vdpbf16ps (AVX512_BF16; 2 FLOP per bf16 product, 64 per zmm
// instruction) and int8 by vpdpbusd (AVX512_VNNI; 2 ops per u8 x s8 product, 128 per zmm).
double bf16_dot_peak_flop_per_s();
double int8_dot_peak_ops_per_s();
}  // namespace cpu

namespace cuda {
// One thread busy-waits `cycles` SM clock cycles (clock64); when elapsed_ns is non-null
// (device memory) it receives the %globaltimer nanoseconds the wait took.
void spin_cycles(int64_t cycles, unsigned long long* elapsed_ns, StreamHandle stream);
}  // namespace cuda

}  // namespace benchsuite
