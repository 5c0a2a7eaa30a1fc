// CPU kernels of the sigmoid family: the double-precision references and the 8-lane
// versions (fast_math::exp8, relative error ~1e-7, so the fp32 result is within rounding).
#include <cmath>

#include "core/fast_math.h"
#include "ops/sigmoid/sigmoid.h"

namespace benchsuite::cpu {

template <class T>
void sigmoid_reference(const T* x, T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<T>(1.0 / (1.0 + std::exp(-static_cast<double>(x[i]))));
}
template void sigmoid_reference(const float*, float*, int64_t);
template void sigmoid_reference(const double*, double*, int64_t);

void sigmoid_f32(const float* x, float* y, int64_t n) {
  using namespace fast_math;
  const int64_t blocks = n / 8;
  // Contiguous 8-lane blocks over OpenMP threads, then the scalar tail. exp8 saturates (and
  // is +inf past 88.7), so the limits are exact: sigmoid(-inf) = 0, sigmoid(inf) = 1.
#pragma omp parallel for schedule(static) if (n > (1 << 14))
  for (int64_t b = 0; b < blocks; ++b) store8(y + 8 * b, 1.0f / (1.0f + exp8(-load8(x + 8 * b))));
  for (int64_t i = 8 * blocks; i < n; ++i) y[i] = 1.0f / (1.0f + fast_math::exp(-x[i]));
}

template <class T>
void sigmoid_backward_reference(const T* y, const T* dy, T* dx, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const double s = y[i];
    dx[i] = static_cast<T>(static_cast<double>(dy[i]) * s * (1.0 - s));
  }
}
template void sigmoid_backward_reference(const float*, const float*, float*, int64_t);
template void sigmoid_backward_reference(const double*, const double*, double*, int64_t);

void sigmoid_backward_f32(const float* y, const float* dy, float* dx, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > (1 << 14))
  for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * y[i] * (1.0f - y[i]);
}

}  // namespace benchsuite::cpu
