// CPU reductions over the last axis (or, with rows = 1, over every element).
// v1 accumulates in double, element by element: the reference.
// v2 accumulates 256-element blocks in float across 8 independent lanes (vectorised),
//    then the blocks in double, so the error stays near a pairwise sum's while the inner
//    loop runs at memory speed; a single long row is split across OpenMP threads.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/fast_math.h"
#include "ops/reduce/reduce.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace benchsuite::cpu {

namespace {
constexpr int64_t kBlock = 256;

double block_sum(const float* x, int64_t n) {
  double total = 0.0;
  for (int64_t start = 0; start < n; start += kBlock) {
    const int64_t len = std::min(kBlock, n - start);
    float lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 8 <= len; i += 8)
      for (int l = 0; l < 8; ++l) lanes[l] += x[start + i + l];
    float tail = 0.0f;
    for (; i < len; ++i) tail += x[start + i];
    total += static_cast<double>(((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) +
                                 ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]))) + tail;
  }
  return total;
}

// Eight running maxima on a GCC vector type (the compiler does not vectorise a max
// reduction through std::max). A NaN wins, as in NumPy and the reference.
float block_max(const float* x, int64_t n) {
  using fast_math::v8f;
  v8f lanes = fast_math::splat(-std::numeric_limits<float>::infinity());
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const v8f v = fast_math::load8(x + i);
    lanes = (v > lanes) | (v != v) ? v : lanes;
  }
  float m = -std::numeric_limits<float>::infinity();
  for (int l = 0; l < 8; ++l) m = (lanes[l] > m || lanes[l] != lanes[l]) ? lanes[l] : m;
  for (; i < n; ++i) m = (x[i] > m || x[i] != x[i]) ? x[i] : m;
  return m;
}

float finish(Reduction kind, double sum_or_max, int64_t cols) {
  if (kind == Reduction::mean) return static_cast<float>(sum_or_max / static_cast<double>(cols));
  return static_cast<float>(sum_or_max);
}
}  // namespace

template <class T>
void reduce_reference(Reduction kind, const T* x, T* out, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    if (kind == Reduction::max) {
      double m = -std::numeric_limits<double>::infinity();
      for (int64_t c = 0; c < cols; ++c) m = std::isnan(xr[c]) || xr[c] > m ? static_cast<double>(xr[c]) : m;
      out[r] = static_cast<T>(m);
    } else {
      double s = 0.0;
      for (int64_t c = 0; c < cols; ++c) s += xr[c];
      out[r] = static_cast<T>(kind == Reduction::mean ? s / static_cast<double>(cols) : s);
    }
  }
}
template void reduce_reference(Reduction, const float*, float*, int64_t, int64_t);
template void reduce_reference(Reduction, const double*, double*, int64_t, int64_t);

void reduce_f32(Reduction kind, const float* x, float* out, int64_t rows, int64_t cols) {
  if (rows == 1 && cols > (int64_t{1} << 16)) {
    // One long row: threads take contiguous chunks, the partials combine in double.
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    std::vector<double> partial(static_cast<size_t>(threads),
                                kind == Reduction::max ? -std::numeric_limits<double>::infinity() : 0.0);
#pragma omp parallel num_threads(threads)
    {
      int t = 0, count = 1;
#ifdef _OPENMP
      t = omp_get_thread_num();
      count = omp_get_num_threads();
#endif
      const int64_t chunk = ((cols + count - 1) / count + kBlock - 1) / kBlock * kBlock;
      const int64_t begin = std::min(cols, t * chunk), end = std::min(cols, begin + chunk);
      if (end > begin)
        partial[t] = kind == Reduction::max ? block_max(x + begin, end - begin) : block_sum(x + begin, end - begin);
    }
    double total = kind == Reduction::max ? -std::numeric_limits<double>::infinity() : 0.0;
    for (double p : partial) total = kind == Reduction::max ? std::max(total, p) : total + p;
    out[0] = finish(kind, total, cols);
    return;
  }
#pragma omp parallel for schedule(static) if (rows * cols > (1 << 15))
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    out[r] = kind == Reduction::max ? block_max(xr, cols) : finish(kind, block_sum(xr, cols), cols);
  }
}

}  // namespace benchsuite::cpu
