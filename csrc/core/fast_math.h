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
typedef float v16f __attribute__((vector_size(64)));
typedef int32_t v16i __attribute__((vector_size(64)));

inline v8f splat(float v) { return v8f{} + v; }

// The body for any lane count (V: a float vector, I: the int32 vector of the same lanes).
template <class V, class I>
inline V exp_lanes(V x) {
  const V lo = V{} - 87.3f, hi = V{} + 88.3f;
  V c = x < lo ? lo : x;
  c = c > hi ? hi : c;
  const V t = c * 1.44269504088896341f;
  const I n_int = __builtin_convertvector(t + (t < 0 ? V{} - 0.5f : V{} + 0.5f), I);  // round to nearest
  const V n = __builtin_convertvector(n_int, V);
  V r = c - n * 0.693359375f;  // ln2 split in two so that n*ln2 subtracts exactly
  r = r - n * -2.12194440e-4f;
  V p = V{} + 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const V scale = reinterpret_cast<const V&>(static_cast<const I&>((n_int + 127) << 23));
  const V result = p * scale;
  return x < lo ? V{} : (x > 88.72283935546875f ? V{} + __builtin_inff() : result);
}

inline v8f exp8(v8f x) { return exp_lanes<v8f, v8i>(x); }
// 16 lanes (one AVX-512 register) for the kernels that tile on 16-float vectors.
inline v16f exp16(v16f x) { return exp_lanes<v16f, v16i>(x); }

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
