// CPU creation kernels: constant fill and counter-based random streams (the same
// numbers as the CUDA kernels for the same seed, see core/rng.h).
#include <cstring>

#include "core/error.h"
#include "core/rng.h"
#include "ops/creation/creation.h"

namespace benchsuite::cpu {

void fill(void* out, DType dtype, int64_t n, double value) {
  if (dtype == DType::float32) {  // the common case as a plain loop the compiler vectorises
    float* o = static_cast<float*>(out);
    const float v = static_cast<float>(value);
#pragma omp parallel for simd schedule(static) if (n > (1 << 16))
    for (int64_t i = 0; i < n; ++i) o[i] = v;
    return;
  }
#pragma omp parallel for schedule(static) if (n > (1 << 16))
  for (int64_t i = 0; i < n; ++i) store_as(out, dtype, i, value);
}

void randn(void* out, DType dtype, int64_t n, uint64_t seed, float mean, float stddev) {
  BENCHSUITE_CHECK_ARG(is_floating(dtype), "randn: dtype=", dtype_name(dtype), " must be a floating type");
  const int64_t blocks = (n + 3) / 4;
#pragma omp parallel for schedule(static) if (n > (1 << 14))
  for (int64_t b = 0; b < blocks; ++b) {
    float normals[4];
    rng_normal4(seed, static_cast<uint64_t>(b), normals);
    for (int64_t lane = 0; lane < 4 && 4 * b + lane < n; ++lane)
      store_as(out, dtype, 4 * b + lane, mean + stddev * normals[lane]);
  }
}

void uniform(void* out, DType dtype, int64_t n, uint64_t seed, float low, float high) {
#pragma omp parallel for schedule(static) if (n > (1 << 14))
  for (int64_t i = 0; i < n; ++i) store_as(out, dtype, i, rng_uniform(seed, static_cast<uint64_t>(i), low, high));
}

void cast(const void* in, DType from, void* out, DType to, int64_t n) {
#pragma omp parallel for schedule(static) if (n > (1 << 16))
  for (int64_t i = 0; i < n; ++i) store_as(out, to, i, load_as(in, from, i));
}

}  // namespace benchsuite::cpu
