// A host wait of known length for validating the harness: a steady_clock loop, not a
// sleep, so the thread stays busy for the whole time.
#include <algorithm>
#include <chrono>

#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__AVX512F__) || defined(__FMA__)
#include <immintrin.h>
#endif

#include "ops/calibration/calibration.h"

namespace benchsuite::cpu {

void spin_for(int64_t nanoseconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::nanoseconds(nanoseconds);
  while (std::chrono::steady_clock::now() < end) {
  }
}


namespace {
constexpr int kChains = 12;  // > FMA latency x pipes (4 x 2): every pipe busy every cycle
#if defined(__AVX512F__)
using Vec = __m512;
constexpr int kLanes = 16;
inline Vec splat(float x) { return _mm512_set1_ps(x); }
inline Vec fma(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
inline float lane_sum(Vec v) { return _mm512_reduce_add_ps(v); }
#elif defined(__FMA__)
using Vec = __m256;
constexpr int kLanes = 8;
inline Vec splat(float x) { return _mm256_set1_ps(x); }
inline Vec fma(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
inline float lane_sum(Vec v) {
  alignas(32) float e[8];
  _mm256_store_ps(e, v);
  float s = 0;
  for (float x : e) s += x;
  return s;
}
#else
using Vec = float;
constexpr int kLanes = 1;
inline Vec splat(float x) { return x; }
inline Vec fma(Vec a, Vec b, Vec c) { return a * b + c; }
inline float lane_sum(Vec v) { return v; }
#endif
volatile float g_sink = 0;  // keeps the chains' results alive
}  // namespace

double fma_burst(int64_t iterations) {
  int threads = 1;
#pragma omp parallel
  {
#ifdef _OPENMP
#pragma omp single
    threads = omp_get_num_threads();
#endif
    Vec acc[kChains];
    for (int c = 0; c < kChains; ++c) acc[c] = splat(1.0f + 0.001f * static_cast<float>(c));
    const Vec mul = splat(0.9999999f), add = splat(1e-7f);  // a fixed point near 1: no overflow
    for (int64_t it = 0; it < iterations; ++it)
      for (int c = 0; c < kChains; ++c) acc[c] = fma(acc[c], mul, add);
    float sum = 0;
    for (int c = 0; c < kChains; ++c) sum += lane_sum(acc[c]);
    g_sink = sum;
  }
  return 2.0 * kLanes * kChains * static_cast<double>(iterations) * threads;
}

double fma_peak_flop_per_s() {
  fma_burst(1 << 12);  // wakes the threads and the wide units
  double best = 0;
  for (int i = 0; i < 5; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    const double flops = fma_burst(1 << 20);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (seconds > 0) best = std::max(best, flops / seconds);
  }
  return best;
}

}  // namespace benchsuite::cpu
