// Widening 16-bit float buffers to fp32 and rounding fp32 back (core/float_convert.h).
#include "core/float_convert.h"

#include <cstring>
#if defined(__F16C__) || defined(__AVX2__)
#include <immintrin.h>
#endif

namespace benchsuite::cpu {

void widen_to_f32(const void* in, DType dtype, float* out, int64_t n) {
  if (n <= 0) return;
  if (dtype == DType::float32) {
    std::memcpy(out, in, static_cast<size_t>(n) * sizeof(float));
    return;
  }
  const uint16_t* src = static_cast<const uint16_t*>(in);
  if (dtype == DType::bfloat16) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) {
      const uint32_t bits = static_cast<uint32_t>(src[i]) << 16;
      float v;
      std::memcpy(&v, &bits, sizeof(v));
      out[i] = v;
    }
    return;
  }
  int64_t i = 0;
#if defined(__F16C__)
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
#endif
  for (; i < n; ++i) out[i] = half_bits_to_float(src[i]);
}

void narrow_from_f32(const float* in, void* out, DType dtype, int64_t n) {
  if (n <= 0) return;
  if (dtype == DType::float32) {
    std::memcpy(out, in, static_cast<size_t>(n) * sizeof(float));
    return;
  }
  uint16_t* dst = static_cast<uint16_t*>(out);
  if (dtype == DType::bfloat16) {
    int64_t i = 0;
#if defined(__AVX2__)
    // The scalar loop below, 8 lanes at a time (GCC's own vectorisation of the 32->16-bit
    // narrowing store was 3x slower).
    const __m256i bias = _mm256_set1_epi32(0x7fff), one = _mm256_set1_epi32(1), abs_mask = _mm256_set1_epi32(0x7fffffff),
                  inf = _mm256_set1_epi32(0x7f800000), quiet = _mm256_set1_epi32(0x40);
    for (; i + 8 <= n; i += 8) {
      const __m256i bits = _mm256_castps_si256(_mm256_loadu_ps(in + i));
      const __m256i high = _mm256_srli_epi32(bits, 16);
      const __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(bits, bias), _mm256_and_si256(high, one)), 16);
      const __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(bits, abs_mask), inf);
      const __m256i r = _mm256_blendv_epi8(rounded, _mm256_or_si256(high, quiet), nan);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i),
                       _mm_packus_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1)));
    }
#endif
    for (; i < n; ++i) {
      uint32_t bits;
      std::memcpy(&bits, in + i, sizeof(bits));
      const uint32_t rounded = (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16;
      const uint32_t nan = (bits >> 16) | 0x40u;  // quiet NaN, as float_to_bf16_bits
      dst[i] = static_cast<uint16_t>((bits & 0x7fffffffu) > 0x7f800000u ? nan : rounded);
    }
    return;
  }
  int64_t i = 0;
#if defined(__F16C__)
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
#endif
  for (; i < n; ++i) dst[i] = float_to_half_bits(in[i]);
}

}  // namespace benchsuite::cpu
