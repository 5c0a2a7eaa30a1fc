// A host wait of known length for validating the harness (a steady_clock loop, not a
// sleep, so the thread stays busy for the whole time), and the measured compute ceilings:
// fp32 FMA, bf16 and int8 dot products.
#include <algorithm>
#include <chrono>

#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__AVX512F__) || defined(__FMA__) || defined(__x86_64__)
#include <immintrin.h>
#endif

#include "core/cpu_features.h"
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

namespace {
// The best rate of five bursts (~10 ms each at 1 << 20 steps) after a short one that wakes
// the threads and the wide units.
double best_rate(double (*burst)(int64_t)) {
  burst(1 << 12);
  double best = 0;
  for (int i = 0; i < 5; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    const double ops = burst(1 << 20);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (seconds > 0) best = std::max(best, ops / seconds);
  }
  return best;
}

#ifdef BENCHSUITE_X86_TARGET_KERNELS
constexpr int kDotChains = 12;  // as kChains: > latency x pipes of either instruction on Zen 4 / Sapphire Rapids

// Operands are fixed per burst and the accumulators grow by a constant each step: bf16
// 1/256 x 1/256 pairs add 2^-15 per lane per step (no overflow in 2^20 steps); int8 1 x 1
// quads add 4 (integer wrap-around, never undefined, in any case).
__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16"))) double bf16_dot_burst(int64_t iterations) {
  int threads = 1;
#pragma omp parallel
  {
#ifdef _OPENMP
#pragma omp single
    threads = omp_get_num_threads();
#endif
    __m512 acc[kDotChains];
    for (int c = 0; c < kDotChains; ++c) acc[c] = _mm512_set1_ps(static_cast<float>(c));
    const __m512bh x = (__m512bh)_mm512_set1_epi16(0x3b80);  // 2^-8 in bfloat16
    for (int64_t it = 0; it < iterations; ++it)
      for (int c = 0; c < kDotChains; ++c) acc[c] = _mm512_dpbf16_ps(acc[c], x, x);
    float sum = 0;
    for (int c = 0; c < kDotChains; ++c) sum += _mm512_reduce_add_ps(acc[c]);
    g_sink = sum;
  }
  return 64.0 * kDotChains * static_cast<double>(iterations) * threads;  // 16 lanes x 2 pairs x 2
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni"))) double int8_dot_burst(int64_t iterations) {
  int threads = 1;
#pragma omp parallel
  {
#ifdef _OPENMP
#pragma omp single
    threads = omp_get_num_threads();
#endif
    __m512i acc[kDotChains];
    for (int c = 0; c < kDotChains; ++c) acc[c] = _mm512_set1_epi32(c);
    const __m512i ones = _mm512_set1_epi8(1);
    for (int64_t it = 0; it < iterations; ++it)
      for (int c = 0; c < kDotChains; ++c) acc[c] = _mm512_dpbusd_epi32(acc[c], ones, ones);
    int sum = 0;
    for (int c = 0; c < kDotChains; ++c) sum += _mm512_reduce_add_epi32(acc[c]);
    g_sink = static_cast<float>(sum);
  }
  return 128.0 * kDotChains * static_cast<double>(iterations) * threads;  // 16 lanes x 4 products x 2
}
#endif
}  // namespace

double fma_peak_flop_per_s() { return best_rate(fma_burst); }

double bf16_dot_peak_flop_per_s() {
#ifdef BENCHSUITE_X86_TARGET_KERNELS
  if (has_avx512_bf16()) return best_rate(bf16_dot_burst);
#endif
  return 0;
}

double int8_dot_peak_ops_per_s() {
#ifdef BENCHSUITE_X86_TARGET_KERNELS
  if (has_avx512_vnni()) return best_rate(int8_dot_burst);
#endif
  return 0;
}

}  // namespace benchsuite::cpu
