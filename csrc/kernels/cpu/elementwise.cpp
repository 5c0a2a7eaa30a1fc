// CPU elementwise kernels. Binary ops broadcast a row vector b[cols] over a[rows, cols]
// when b_is_row is set. Activation v1 computes in double (the reference); v2 in float
// with OpenMP and simd.
#include "common/activations.h"
#include "common/fast_math.h"
#include "kernels/cpu/cpu_kernels.h"

#include <cstring>
#if defined(__F16C__) || defined(__AVX2__)
#include <immintrin.h>
#endif

namespace benchsuite {

const char* activation_name(Activation kind) {
  switch (kind) {
    case Activation::relu: return "relu";
    case Activation::gelu: return "gelu";
    case Activation::silu: return "silu";
  }
  return "unknown";
}

namespace cpu {

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

void binary_f32(BinaryOp op, const float* a, const float* b, float* out, int64_t rows, int64_t cols,
                bool b_is_row) {
  const int64_t n = rows * cols;
  // `parallel for`, not `parallel for simd`: GCC vectorises these loops either way, and
  // the combined simd construct ran them 3-5x slower on L2-resident blocks (the 16-bit
  // paths call these on 16K-element blocks).
  if (!b_is_row) {
    if (op == BinaryOp::add) {
#pragma omp parallel for schedule(static) if (n > (1 << 16))
      for (int64_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
    } else {
#pragma omp parallel for schedule(static) if (n > (1 << 16))
      for (int64_t i = 0; i < n; ++i) out[i] = a[i] * b[i];
    }
    return;
  }
#pragma omp parallel for schedule(static) if (n > (1 << 16))
  for (int64_t r = 0; r < rows; ++r) {
    const float* ar = a + r * cols;
    float* orow = out + r * cols;
    if (op == BinaryOp::add) {
#pragma omp simd
      for (int64_t c = 0; c < cols; ++c) orow[c] = ar[c] + b[c];
    } else {
#pragma omp simd
      for (int64_t c = 0; c < cols; ++c) orow[c] = ar[c] * b[c];
    }
  }
}

void add_f32(const float* a, const float* b, float* out, int64_t n) { binary_f32(BinaryOp::add, a, b, out, 1, n, false); }

void axpy_f32(float alpha, const float* x, const float* y, float* out, int64_t n) {
#pragma omp parallel for schedule(static) if (n > (1 << 16))
  for (int64_t i = 0; i < n; ++i) out[i] = alpha * x[i] + y[i];
}

void activation_reference(Activation kind, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(activation<double>(kind, x[i]));
}

void activation_f32(Activation kind, const float* x, float* y, int64_t n) {
  // One loop per kind so each body is a straight line the compiler can vectorise.
  switch (kind) {
    case Activation::relu:
#pragma omp parallel for schedule(static) if (n > (1 << 16))
      for (int64_t i = 0; i < n; ++i) y[i] = activation<float>(Activation::relu, x[i]);
      break;
    case Activation::gelu:
#pragma omp parallel for simd schedule(static) if (n > (1 << 14))
      for (int64_t i = 0; i < n; ++i) y[i] = activation<float>(Activation::gelu, x[i]);
      break;
    case Activation::silu:
#pragma omp parallel for simd schedule(static) if (n > (1 << 14))
      for (int64_t i = 0; i < n; ++i) y[i] = activation<float>(Activation::silu, x[i]);
      break;
  }
}

void activation_f32_vectorized(Activation kind, const float* x, float* y, int64_t n) {
  using namespace fast_math;
  if (kind == Activation::relu) return activation_f32(kind, x, y, n);
  const bool gelu = kind == Activation::gelu;
  const int64_t blocks = n / 8;
  // Contiguous 8-lane blocks over OpenMP threads, then the scalar tail.
#pragma omp parallel for schedule(static) if (n > (1 << 14))
  for (int64_t b = 0; b < blocks; ++b) {
    const v8f v = load8(x + 8 * b);
    const v8f out = gelu ? 0.5f * v * (1.0f + tanh8(0.7978845608028654f * (v + 0.044715f * v * v * v)))
                         : v / (1.0f + exp8(-v));
    store8(y + 8 * b, out);
  }
  for (int64_t i = 8 * blocks; i < n; ++i) {
    const float v = x[i];
    y[i] = gelu ? 0.5f * v * (1.0f + fast_math::tanh(0.7978845608028654f * (v + 0.044715f * v * v * v)))
                : v / (1.0f + fast_math::exp(-v));
  }
}

void activation_backward_f32(Activation kind, const float* x, const float* dy, float* dx, int64_t n) {
#pragma omp parallel for schedule(static) if (n > (1 << 14))
  for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * activation_grad<float>(kind, x[i]);
}

}  // namespace cpu
}  // namespace benchsuite
