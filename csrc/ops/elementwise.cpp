// Elementwise ops: add and mul (same shape, or b a row vector over a's last axis), axpy,
// and the activations relu, gelu (tanh form), silu with their backward.
#include <cmath>

#include "common/activations.h"
#include "common/error.h"
#include "kernels/cpu/cpu_kernels.h"
#include "ops/ops.h"
#ifdef BENCHSUITE_WITH_CUDA
#include "kernels/cuda/cuda_kernels.h"
#endif

namespace benchsuite::ops {

namespace {

// Shape bookkeeping for a (same shape or row-broadcast) binary op.
struct BinaryShape {
  int64_t rows, cols;
  bool b_is_row;
};
BinaryShape binary_shape(const Tensor& a, const Tensor& b) {
  const int64_t cols = cols_of(a);
  const bool row = b.shape() != a.shape();
  return {cols == 0 ? 0 : a.numel() / cols, cols, row};
}

template <BinaryOp kOp>
void binary_cpu(const Tensor& a, const Tensor& b, const Tensor& out, StreamHandle) {
  const BinaryShape s = binary_shape(a, b);
  cpu::binary_f32(kOp, a.data<float>(), b.data<float>(), out.data<float>(), s.rows, s.cols, s.b_is_row);
}
template <Activation kKind>
void activation_cpu_v1(const Tensor& x, const Tensor& y, StreamHandle) {
  cpu::activation_reference(kKind, x.data<float>(), y.data<float>(), x.numel());
}
template <Activation kKind>
void activation_cpu_v2(const Tensor& x, const Tensor& y, StreamHandle) {
  cpu::activation_f32(kKind, x.data<float>(), y.data<float>(), x.numel());
}
template <Activation kKind>
void activation_cpu_v3(const Tensor& x, const Tensor& y, StreamHandle) {
  cpu::activation_f32_vectorized(kKind, x.data<float>(), y.data<float>(), x.numel());
}
template <Activation kKind>
void activation_backward_cpu(const Tensor& x, const Tensor& dy, const Tensor& dx, StreamHandle) {
  cpu::activation_backward_f32(kKind, x.data<float>(), dy.data<float>(), dx.data<float>(), x.numel());
}
void axpy_cpu(float alpha, const Tensor& x, const Tensor& y, const Tensor& out, StreamHandle) {
  cpu::axpy_f32(alpha, x.data<float>(), y.data<float>(), out.data<float>(), x.numel());
}
#ifdef BENCHSUITE_WITH_CUDA
template <BinaryOp kOp>
void binary_cuda(const Tensor& a, const Tensor& b, const Tensor& out, StreamHandle s) {
  const BinaryShape sh = binary_shape(a, b);
  cuda::binary_f32(kOp, a.data<float>(), b.data<float>(), out.data<float>(), sh.rows, sh.cols, sh.b_is_row, s);
}
template <Activation kKind>
void activation_cuda(const Tensor& x, const Tensor& y, StreamHandle s) {
  cuda::activation_f32(kKind, x.data<float>(), y.data<float>(), x.numel(), s);
}
template <Activation kKind>
void activation_backward_cuda(const Tensor& x, const Tensor& dy, const Tensor& dx, StreamHandle s) {
  cuda::activation_backward_f32(kKind, x.data<float>(), dy.data<float>(), dx.data<float>(), x.numel(), s);
}
void axpy_cuda(float alpha, const Tensor& x, const Tensor& y, const Tensor& out, StreamHandle s) {
  cuda::axpy_f32(alpha, x.data<float>(), y.data<float>(), out.data<float>(), x.numel(), s);
}
#endif

const std::vector<DType> kF32 = {DType::float32};

template <Activation kKind>
void register_activation(std::vector<OpVersion>& t) {
  const std::string name = activation_name(kKind);
  t.push_back({name, "v1", "reference: scalar loop in double", DeviceType::cpu, kF32, true, activation_cpu_v1<kKind>});
  t.push_back({name, "v2", "float, OpenMP over chunks, simd loop", DeviceType::cpu, kF32, false,
               activation_cpu_v2<kKind>});
  if (kKind != Activation::relu)  // relu has no transcendental to vectorise
    t.push_back({name, "v3", "float, exp/tanh from a vectorisable polynomial, OpenMP simd", DeviceType::cpu, kF32,
                 false, activation_cpu_v3<kKind>});
  t.push_back({name + "_backward", "v1", "dx = dy * f'(x), OpenMP", DeviceType::cpu, kF32, true, nullptr,
               activation_backward_cpu<kKind>});
#ifdef BENCHSUITE_WITH_CUDA
  t.push_back({name, "v1", "grid-stride loop, float4 when 16-byte aligned", DeviceType::cuda, kF32, false,
               activation_cuda<kKind>});
  t.push_back({name + "_backward", "v1", "grid-stride dx = dy * f'(x)", DeviceType::cuda, kF32, false, nullptr,
               activation_backward_cuda<kKind>});
#endif
}

void check_same(const char* op, const char* a_name, const Tensor& a, const char* b_name, const Tensor& b) {
  BENCHSUITE_CHECK_ARG(a.device() == b.device(), op, ": ", a_name, " is on ", a.device().str(), " but ", b_name,
                       " is on ", b.device().str());
  BENCHSUITE_CHECK_ARG(a.dtype() == b.dtype(), op, ": ", a_name, ".dtype=", dtype_name(a.dtype()), " differs from ",
                       b_name, ".dtype=", dtype_name(b.dtype()));
}

Tensor run_activation(const std::string& op, const Tensor& x, const std::string& impl) {
  BENCHSUITE_CHECK_ARG(is_floating(x.dtype()), op, ": x.dtype=", dtype_name(x.dtype()), " must be a floating type");
  const OpVersion& version = select_version(op, x.device(), x.dtype(), impl);
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  run_unary(version, x.contiguous(), out);
  return out;
}
}  // namespace

void register_elementwise_versions(std::vector<OpVersion>& t) {
  t.push_back({"add", "v1", "OpenMP simd loop, row-vector broadcast", DeviceType::cpu, kF32, true, nullptr,
               binary_cpu<BinaryOp::add>});
  t.push_back({"mul", "v1", "OpenMP simd loop, row-vector broadcast", DeviceType::cpu, kF32, true, nullptr,
               binary_cpu<BinaryOp::mul>});
  OpVersion axpy{"axpy", "v1", "out = alpha*x + y, OpenMP simd loop", DeviceType::cpu, kF32, true};
  axpy.impl = erase_impl(&axpy_cpu);
  t.push_back(axpy);
#ifdef BENCHSUITE_WITH_CUDA
  t.push_back({"add", "v1", "grid-stride loop, float4 when aligned, row-vector broadcast", DeviceType::cuda, kF32,
               false, nullptr, binary_cuda<BinaryOp::add>});
  t.push_back({"mul", "v1", "grid-stride loop, float4 when aligned, row-vector broadcast", DeviceType::cuda, kF32,
               false, nullptr, binary_cuda<BinaryOp::mul>});
  OpVersion axpy_gpu{"axpy", "v1", "grid-stride loop, float4 when aligned", DeviceType::cuda, kF32, false};
  axpy_gpu.impl = erase_impl(&axpy_cuda);
  t.push_back(axpy_gpu);
#endif
  register_activation<Activation::relu>(t);
  register_activation<Activation::gelu>(t);
  register_activation<Activation::silu>(t);
}

void check_binary_args(const char* op, const Tensor& a, const Tensor& b) {
  check_same(op, "a", a, "b", b);
  const bool row = b.ndim() >= 1 && b.numel() == (a.ndim() ? a.shape().back() : 1) &&
                   (b.ndim() == 1 || (b.ndim() == 2 && b.shape()[0] == 1));
  BENCHSUITE_CHECK_ARG(a.shape() == b.shape() || (a.ndim() >= 1 && row), op, ": b.shape=", shape_str(b.shape()),
                       " must equal a.shape=", shape_str(a.shape()), " or be a row vector of a's last dimension");
}

void check_add_args(const Tensor& a, const Tensor& b) { check_binary_args("add", a, b); }

static Tensor binary_op(const char* op, const Tensor& a, const Tensor& b, const std::string& impl) {
  check_binary_args(op, a, b);
  const OpVersion& version = select_version(op, a.device(), a.dtype(), impl);
  Tensor out = Tensor::empty(a.shape(), a.dtype(), a.device());
  run_binary(version, a.contiguous(), b.contiguous(), out);
  return out;
}

Tensor add(const Tensor& a, const Tensor& b, const std::string& impl) { return binary_op("add", a, b, impl); }
Tensor mul(const Tensor& a, const Tensor& b, const std::string& impl) { return binary_op("mul", a, b, impl); }

Tensor axpy(double alpha, const Tensor& x, const Tensor& y, const std::string& impl) {
  BENCHSUITE_CHECK_ARG(std::isfinite(alpha), "axpy: alpha=", alpha, " must be finite");
  check_same("axpy", "x", x, "y", y);
  BENCHSUITE_CHECK_ARG(x.shape() == y.shape(), "axpy: x.shape=", shape_str(x.shape()), " differs from y.shape=",
                       shape_str(y.shape()));
  const OpVersion& version = select_version("axpy", x.device(), x.dtype(), impl);
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (out.device().is_cuda()) cuda_set_device(out.device().index);
  version.impl_as<AxpyImpl>()(static_cast<float>(alpha), x.contiguous(), y.contiguous(), out, nullptr);
  return out;
}

Tensor activation(Activation kind, const Tensor& x, const std::string& impl) {
  return run_activation(activation_name(kind), x, impl);
}

Tensor activation_backward(Activation kind, const Tensor& x, const Tensor& dy, const std::string& impl) {
  const std::string op = std::string(activation_name(kind)) + "_backward";
  check_same(op.c_str(), "x", x, "dy", dy);
  BENCHSUITE_CHECK_ARG(x.shape() == dy.shape(), op, ": dy.shape=", shape_str(dy.shape()), " differs from x.shape=",
                       shape_str(x.shape()));
  const OpVersion& version = select_version(op, x.device(), x.dtype(), impl);
  Tensor dx = Tensor::empty(x.shape(), x.dtype(), x.device());
  run_binary(version, x.contiguous(), dy.contiguous(), dx);
  return dx;
}

}  // namespace benchsuite::ops
