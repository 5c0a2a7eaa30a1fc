// Pointwise functions shared by the CPU and CUDA kernels, so both backends compute the
// same formula: ReLU, GELU in its tanh form (as GPT-2 and PyTorch's approximate='tanh'),
// GELU in its exact erf form (BERT, PyTorch's default), SiLU (x * sigmoid(x)), tanh, and
// their derivatives.
#pragma once
#include <cmath>

#include "core/host_device.h"

namespace benchsuite {

enum class Activation { relu, gelu, silu, gelu_erf, tanh };
enum class BinaryOp { add, mul };
enum class Reduction { sum, mean, max };

// Explicit float/double overloads: an unqualified tanh(float) would pick the double
// version on the host and a different overload set on the device.
BENCHSUITE_HOST_DEVICE float tanh_of(float x) { return tanhf(x); }
BENCHSUITE_HOST_DEVICE double tanh_of(double x) { return tanh(x); }
BENCHSUITE_HOST_DEVICE float exp_of(float x) { return expf(x); }
BENCHSUITE_HOST_DEVICE double exp_of(double x) { return exp(x); }
BENCHSUITE_HOST_DEVICE float erf_of(float x) { return erff(x); }
BENCHSUITE_HOST_DEVICE double erf_of(double x) { return erf(x); }

template <class T>
BENCHSUITE_HOST_DEVICE T activation(Activation kind, T x) {
  switch (kind) {
    case Activation::relu: return x < T(0) ? T(0) : x;  // NaN stays NaN (as NumPy's maximum, torch.relu)
    case Activation::gelu: {
      const T inner = T(0.7978845608028654) * (x + T(0.044715) * x * x * x);  // sqrt(2/pi)
      return T(0.5) * x * (T(1) + tanh_of(inner));
    }
    case Activation::silu: return x / (T(1) + exp_of(-x));
    case Activation::gelu_erf: return T(0.5) * x * (T(1) + erf_of(x * T(0.7071067811865476)));  // 1/sqrt(2)
    case Activation::tanh: return tanh_of(x);
  }
  return x;
}

// d activation(x) / dx
template <class T>
BENCHSUITE_HOST_DEVICE T activation_grad(Activation kind, T x) {
  switch (kind) {
    case Activation::relu: return x > T(0) ? T(1) : T(0);
    case Activation::gelu: {
      const T k = T(0.7978845608028654);
      const T inner = k * (x + T(0.044715) * x * x * x);
      const T t = tanh_of(inner);
      return T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * k * (T(1) + T(3) * T(0.044715) * x * x);
    }
    case Activation::silu: {
      const T s = T(1) / (T(1) + exp_of(-x));
      return s * (T(1) + x * (T(1) - s));
    }
    case Activation::gelu_erf:  // Phi(x) + x * phi(x)
      return T(0.5) * (T(1) + erf_of(x * T(0.7071067811865476))) +
             x * T(0.3989422804014327) * exp_of(T(-0.5) * x * x);  // 1/sqrt(2 pi)
    case Activation::tanh: {
      const T t = tanh_of(x);
      return T(1) - t * t;
    }
  }
  return T(1);
}

template <class T>
BENCHSUITE_HOST_DEVICE T binary(BinaryOp op, T a, T b) {
  return op == BinaryOp::add ? a + b : a * b;
}

const char* activation_name(Activation kind);

}  // namespace benchsuite
