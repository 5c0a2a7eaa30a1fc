// CPU elementwise kernels.
#include "kernels/cpu/cpu_kernels.h"

namespace benchsuite::cpu {

void add_f32(const float* a, const float* b, float* out, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > (1 << 16))
  for (int64_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

}  // namespace benchsuite::cpu
