// CPU creation kernels: constant fill and counter-based random streams (the same
// numbers as the CUDA kernels for the same seed, see common/rng.h).
#include <chrono>
#include <cstring>

#include "common/error.h"
#include "common/rng.h"
#include "kernels/cpu/cpu_kernels.h"

namespace benchsuite::cpu {

namespace {
// Stores a float into element i of a buffer of any dtype (integers truncate toward zero).
inline void store_as(void* out, DType dtype, int64_t i, double value) {
  switch (dtype) {
    case DType::float32: static_cast<float*>(out)[i] = static_cast<float>(value); break;
    case DType::float16: static_cast<uint16_t*>(out)[i] = float_to_half_bits(static_cast<float>(value)); break;
    case DType::bfloat16: static_cast<uint16_t*>(out)[i] = float_to_bf16_bits(static_cast<float>(value)); break;
    case DType::int8: static_cast<int8_t*>(out)[i] = static_cast<int8_t>(value); break;
    case DType::int32: static_cast<int32_t*>(out)[i] = static_cast<int32_t>(value); break;
    case DType::int64: static_cast<int64_t*>(out)[i] = static_cast<int64_t>(value); break;
    case DType::uint8: static_cast<uint8_t*>(out)[i] = static_cast<uint8_t>(value); break;
  }
}
}  // namespace

void fill(void* out, DType dtype, int64_t n, double value) {
  if (dtype == DType::float32) {
    float* o = static_cast<float*>(out);
    const float v = static_cast<float>(value);
#pragma omp parallel for schedule(static) if (n > (1 << 16))
    for (int64_t i = 0; i < n; ++i) o[i] = v;
    return;
  }
#pragma omp parallel for schedule(static) if (n > (1 << 16))
  for (int64_t i = 0; i < n; ++i) store_as(out, dtype, i, value);
}

void randn(void* out, DType dtype, int64_t n, uint64_t seed, float mean, float stddev) {
  BENCHSUITE_CHECK_ARG(is_floating(dtype), "randn: dtype=", dtype_name(dtype), " must be a floating type");
#pragma omp parallel for schedule(static) if (n > (1 << 14))
  for (int64_t i = 0; i < n; ++i)
    store_as(out, dtype, i, mean + stddev * rng_normal(seed, static_cast<uint64_t>(i)));
}

void uniform(void* out, DType dtype, int64_t n, uint64_t seed, float low, float high) {
#pragma omp parallel for schedule(static) if (n > (1 << 14))
  for (int64_t i = 0; i < n; ++i) store_as(out, dtype, i, rng_uniform(seed, static_cast<uint64_t>(i), low, high));
}

void spin_for(int64_t nanoseconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::nanoseconds(nanoseconds);
  while (std::chrono::steady_clock::now() < end) {
  }
}

}  // namespace benchsuite::cpu
