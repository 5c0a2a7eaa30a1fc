// CPU kernels of dropout: the element-at-a-time reference and the blocked version (one
// Philox call yields the draws of four consecutive elements). Both keep element i when its
// 24-bit uniform u_i = rng_uniform(seed, i) is >= p, so they agree bit for bit.
#include "core/rng.h"
#include "ops/dropout/dropout.h"

namespace benchsuite::cpu {

template <class T>
void dropout_reference(const T* x, T* y, int64_t n, double p, uint64_t seed) {
  const double scale = 1.0 / (1.0 - p);
  for (int64_t i = 0; i < n; ++i) {
    const bool keep = static_cast<double>(rng_uniform(seed, static_cast<uint64_t>(i), 0.0f, 1.0f)) >= p;
    y[i] = keep ? static_cast<T>(static_cast<double>(x[i]) * scale) : T(0);
  }
}
template void dropout_reference(const float*, float*, int64_t, double, uint64_t);
template void dropout_reference(const double*, double*, int64_t, double, uint64_t);

void dropout_f32(const float* x, float* y, int64_t n, double p, uint64_t seed) {
  // In double so that x * scale rounds once, as the reference does.
  const double scale = 1.0 / (1.0 - p);
  const int64_t blocks = (n + 3) / 4;
#pragma omp parallel for schedule(static) if (n > (1 << 15))
  for (int64_t b = 0; b < blocks; ++b) dropout_block(x, y, n, p, scale, seed, b);
}

}  // namespace benchsuite::cpu
