// CPU elementwise kernels. Binary ops broadcast a row vector b[cols] over a[rows, cols]
// when b_is_row is set. Activation v1 computes in double (the reference); v2 in float
// with OpenMP and simd.
#include "core/activations.h"
#include "core/fast_math.h"
#include "ops/elementwise/elementwise.h"

namespace benchsuite {

const char* activation_name(Activation kind) {
  switch (kind) {
    case Activation::relu: return "relu";
    case Activation::gelu: return "gelu";
    case Activation::silu: return "silu";
    case Activation::gelu_erf: return "gelu_erf";
    case Activation::tanh: return "tanh";
  }
  return "unknown";
}

namespace cpu {

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

void binary_f64(BinaryOp op, const double* a, const double* b, double* out, int64_t rows, int64_t cols,
                bool b_is_row) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      const int64_t i = r * cols + c;
      const double y = b[b_is_row ? c : i];
      out[i] = op == BinaryOp::add ? a[i] + y : a[i] * y;
    }
}

void axpy_f64(double alpha, const double* x, const double* y, double* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = alpha * x[i] + y[i];
}

void activation_f64(Activation kind, const double* x, double* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = activation<double>(kind, x[i]);
}

void activation_backward_f64(Activation kind, const double* x, const double* dy, double* dx, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * activation_grad<double>(kind, x[i]);
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
    case Activation::gelu_erf:
#pragma omp parallel for simd schedule(static) if (n > (1 << 14))
      for (int64_t i = 0; i < n; ++i) y[i] = activation<float>(Activation::gelu_erf, x[i]);
      break;
    case Activation::tanh:
#pragma omp parallel for simd schedule(static) if (n > (1 << 14))
      for (int64_t i = 0; i < n; ++i) y[i] = activation<float>(Activation::tanh, x[i]);
      break;
  }
}

void activation_f32_vectorized(Activation kind, const float* x, float* y, int64_t n) {
  using namespace fast_math;
  if (kind == Activation::gelu_erf) {
    const int64_t blocks = n / 8;
#pragma omp parallel for schedule(static) if (n > (1 << 14))
    for (int64_t b = 0; b < blocks; ++b) {
      const v8f v = load8(x + 8 * b);
      store8(y + 8 * b, 0.5f * v * (1.0f + erf8(v * 0.7071067811865476f)));
    }
    for (int64_t i = 8 * blocks; i < n; ++i) {
      const v8f v = splat(x[i]);
      y[i] = (0.5f * v * (1.0f + erf8(v * 0.7071067811865476f)))[0];
    }
    return;
  }
  // gelu, silu and gelu_erf only (op.cpp registers no v3 for the others): the rest take v2.
  if (kind != Activation::gelu && kind != Activation::silu) return activation_f32(kind, x, y, n);
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
