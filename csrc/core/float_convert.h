// 16-bit float storage around fp32 CPU kernels: whole buffers widened to float and
// rounded back, as the CPU versions of the float ops do it (ops/fp32_blocks.h).
#pragma once
#include <cstdint>

#include "core/dtype.h"

namespace benchsuite::cpu {

// Widens n elements of a float32/float16/bfloat16 buffer to float (exact) and rounds
// floats back into one (round to nearest even, NaN stays NaN; float16 overflows to inf),
// the same values as store_as/load_as (NaN payloads aside). F16C instructions for float16 when the compiler
// targets them, a vectorisable bit loop for bfloat16; float32 is a plain copy.
void widen_to_f32(const void* in, DType dtype, float* out, int64_t n);
void narrow_from_f32(const float* in, void* out, DType dtype, int64_t n);

}  // namespace benchsuite::cpu
