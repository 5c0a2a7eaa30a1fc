// Float exp and tanh for CPU loops, written on GCC vector types so that they run 8 lanes
// at a time whatever the auto-vectoriser makes of a loop (libm's expf is an opaque call that
// keeps a loop scalar). Cephes' expf scheme: x = n ln2 + r with |r| <= ln2/2, a degree-6
// polynomial for e^r, 2^n built in the exponent bits. Relative error below 1e-7 over the
// normal range; exp(x) = 0 below -87.3 (where expf underflows), saturates at exp(88.3) ~ 2.2e38
// up to 88.72 (so 2^n stays a finite float) and is +inf past that, where expf overflows (so
// silu(-inf) = -inf / inf is NaN, as in the scalar versions).
#pragma once
#include <cstdint>
#include <cstring>

namespace benchsuite::fast_math {

typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));

inline v8f splat(float v) { return v8f{} + v; }

inline v8f exp8(v8f x) {
  const v8f lo = splat(-87.3f), hi = splat(88.3f);
  v8f c = x < lo ? lo : x;
  c = c > hi ? hi : c;
  const v8f t = c * 1.44269504088896341f;
  const v8i n_int = __builtin_convertvector(t + (t < 0 ? splat(-0.5f) : splat(0.5f)), v8i);  // round to nearest
  const v8f n = __builtin_convertvector(n_int, v8f);
  v8f r = c - n * 0.693359375f;  // ln2 split in two so that n*ln2 subtracts exactly
  r = r - n * -2.12194440e-4f;
  v8f p = splat(1.9875691500e-4f);
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const v8f scale = reinterpret_cast<const v8f&>(static_cast<const v8i&>((n_int + 127) << 23));
  const v8f result = p * scale;
  return x < lo ? v8f{} : (x > 88.72283935546875f ? splat(__builtin_inff()) : result);
}

// erf(x) by Abramowitz & Stegun 7.1.26 (t = 1 / (1 + p|x|), a degree-5 polynomial in t times
// exp(-x^2)): absolute error below 1.5e-7, exact limits; NaN stays NaN.
inline v8f erf8(v8f x) {
  const v8f ax = x < 0 ? -x : x;
  const v8f t = 1.0f / (1.0f + 0.3275911f * ax);
  v8f y = splat(1.061405429f);
  y = y * t - 1.453152027f;
  y = y * t + 1.421413741f;
  y = y * t - 0.284496736f;
  y = y * t + 0.254829592f;
  y = 1.0f - y * t * exp8(-ax * ax);
  return x < 0 ? -y : (x == x ? y : x);
}

// tanh(x) = 1 - 2 / (exp(2x) + 1): exact limits, absolute error ~1e-7.
inline v8f tanh8(v8f x) { return 1.0f - 2.0f / (exp8(2.0f * x) + 1.0f); }

inline v8f load8(const float* p) {
  v8f v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
inline void store8(float* p, v8f v) { std::memcpy(p, &v, sizeof(v)); }
inline float sum8(v8f v) { return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7])); }

// Scalar forms for loop tails: the same arithmetic in lane 0.
inline float exp(float x) { return exp8(splat(x))[0]; }
inline float tanh(float x) { return tanh8(splat(x))[0]; }

}  // namespace benchsuite::fast_math
