// Elementwise ops: add and mul (same shape, or b a row vector over a's last axis), axpy,
// and the activations relu, gelu (tanh form), silu with their backward.
#include <cmath>

#include "core/activations.h"
#include "core/error.h"
#include "ops/dispatch.h"
#include "ops/elementwise/elementwise.h"
#include "ops/fp32_blocks.h"

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

// CPU: float32 runs the fp32 kernels directly; float16/bfloat16 go through them a block
// of elements at a time (widened to fp32 scratch, rounded back: ops/fp32_blocks.h).
// parallel=false (the references): the whole tensor as one block on one thread.
template <class Kernel>  // kernel(const float* x, float* y, int64_t n)
void unary_elements(const Tensor& x, const Tensor& y, bool parallel, Kernel kernel) {
  fp32::unary_elements(x.data_ptr(), y.data_ptr(), x.dtype(), x.numel(), parallel, kernel);
}
template <class Kernel>  // kernel(const float* a, const float* b, float* out, int64_t n)
void binary_elements(const Tensor& a, const Tensor& b, const Tensor& out, Kernel kernel) {
  fp32::binary_elements(a.data_ptr(), b.data_ptr(), out.data_ptr(), a.dtype(), a.numel(), true, kernel);
}

template <BinaryOp kOp>
void binary_cpu(const Tensor& a, const Tensor& b, const Tensor& out, StreamHandle) {
  const BinaryShape s = binary_shape(a, b);
  if (a.dtype() == DType::float64) {
    cpu::binary_f64(kOp, a.data<double>(), b.data<double>(), out.data<double>(), s.rows, s.cols, s.b_is_row);
  } else if (!s.b_is_row) {
    binary_elements(a, b, out, [](const float* x, const float* y, float* o, int64_t n) {
      cpu::binary_f32(kOp, x, y, o, 1, n, false);
    });
  } else if (a.dtype() == DType::float32) {
    cpu::binary_f32(kOp, a.data<float>(), b.data<float>(), out.data<float>(), s.rows, s.cols, true);
  } else {
    const std::vector<float> row = fp32::widened(b.data_ptr(), b.dtype(), s.cols);
    const fp32::In ins[] = {{a.data_ptr(), a.dtype(), s.cols}};
    const fp32::Out outs[] = {{out.data_ptr(), out.dtype(), s.cols}};
    fp32::row_blocks(s.rows, ins, outs, true, [&](int64_t, int64_t n, const float* const* in, float* const* o) {
      cpu::binary_f32(kOp, in[0], row.data(), o[0], n, s.cols, true);
    });
  }
}
template <Activation kKind>
void activation_cpu_v1(const Tensor& x, const Tensor& y, StreamHandle) {
  if (x.dtype() == DType::float64) return cpu::activation_f64(kKind, x.data<double>(), y.data<double>(), x.numel());
  unary_elements(x, y, false, [](const float* in, float* out, int64_t n) { cpu::activation_reference(kKind, in, out, n); });
}
template <Activation kKind>
void activation_cpu_v2(const Tensor& x, const Tensor& y, StreamHandle) {
  unary_elements(x, y, true, [](const float* in, float* out, int64_t n) { cpu::activation_f32(kKind, in, out, n); });
}
template <Activation kKind>
void activation_cpu_v3(const Tensor& x, const Tensor& y, StreamHandle) {
  unary_elements(x, y, true,
                 [](const float* in, float* out, int64_t n) { cpu::activation_f32_vectorized(kKind, in, out, n); });
}
template <Activation kKind>
void activation_backward_cpu(const Tensor& x, const Tensor& dy, const Tensor& dx, StreamHandle) {
  if (x.dtype() == DType::float64)
    return cpu::activation_backward_f64(kKind, x.data<double>(), dy.data<double>(), dx.data<double>(), x.numel());
  binary_elements(x, dy, dx, [](const float* a, const float* g, float* o, int64_t n) {
    cpu::activation_backward_f32(kKind, a, g, o, n);
  });
}
void axpy_cpu(float alpha, const Tensor& x, const Tensor& y, const Tensor& out, StreamHandle) {
  if (x.dtype() == DType::float64)
    return cpu::axpy_f64(alpha, x.data<double>(), y.data<double>(), out.data<double>(), x.numel());
  binary_elements(x, y, out, [alpha](const float* a, const float* b, float* o, int64_t n) {
    cpu::axpy_f32(alpha, a, b, o, n);
  });
}
#ifdef BENCHSUITE_WITH_CUDA
template <BinaryOp kOp>
void binary_cuda(const Tensor& a, const Tensor& b, const Tensor& out, StreamHandle s) {
  const BinaryShape sh = binary_shape(a, b);
  cuda::binary(kOp, a.dtype(), a.data_ptr(), b.data_ptr(), out.data_ptr(), sh.rows, sh.cols, sh.b_is_row, s);
}
template <Activation kKind>
void activation_cuda(const Tensor& x, const Tensor& y, StreamHandle s) {
  cuda::activation(kKind, x.dtype(), x.data_ptr(), y.data_ptr(), x.numel(), s);
}
template <Activation kKind>
void activation_backward_cuda(const Tensor& x, const Tensor& dy, const Tensor& dx, StreamHandle s) {
  cuda::activation_backward(kKind, x.dtype(), x.data_ptr(), dy.data_ptr(), dx.data_ptr(), x.numel(), s);
}
void axpy_cuda(float alpha, const Tensor& x, const Tensor& y, const Tensor& out, StreamHandle s) {
  cuda::axpy(alpha, x.dtype(), x.data_ptr(), y.data_ptr(), out.data_ptr(), x.numel(), s);
}
#endif

// Every version of these ops: storage in the tensor's dtype, math in fp32 (the v1
// references in double), outputs rounded once to the dtype.
const std::vector<DType> kAll = {DType::float32, DType::float16, DType::bfloat16};
const std::vector<DType> kReferenceDtypes = {DType::float32, DType::float16, DType::bfloat16, DType::float64};

// relu, gelu, silu, gelu_erf, tanh: the same versions each; the CPU default is the fastest
// (v3 for gelu, silu and gelu_erf, else v2).
template <Activation kKind, class Op, class BackwardOp>
void register_activation(VersionTable& table) {
  table.add<Op>({"v1", "reference: scalar loop in double", DeviceType::cpu, kReferenceDtypes, kReference},
                activation_cpu_v1<kKind>);
  const unsigned v2 = kKind == Activation::relu ? kDefault : kNoFlags;
  table.add<Op>({"v2", "float, OpenMP over chunks, simd loop", DeviceType::cpu, kAll, v2}, activation_cpu_v2<kKind>);
  if (kKind != Activation::relu)  // relu has no transcendental to vectorise
    table.add<Op>({"v3", "float, exp/tanh from a vectorisable polynomial, OpenMP simd", DeviceType::cpu, kAll,
                   kDefault},
                  activation_cpu_v3<kKind>);
  table.add<BackwardOp>({"v1", "dx = dy * f'(x), OpenMP (float64: one thread)", DeviceType::cpu, kReferenceDtypes,
                         kReference | kDefault},
                        activation_backward_cpu<kKind>);
#ifdef BENCHSUITE_WITH_CUDA
  table.add<Op>({"v1", "grid-stride loop, 16-byte vectors (4 floats / 8 halves) when aligned, fp32 math",
                 DeviceType::cuda, kAll, kDefault},
                activation_cuda<kKind>);
  table.add<BackwardOp>({"v1", "grid-stride dx = dy * f'(x), 16-byte vectors when aligned", DeviceType::cuda, kAll,
                         kDefault},
                        activation_backward_cuda<kKind>);
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

BENCHSUITE_REGISTER_VERSIONS(elementwise) {
  // One version per op and device but for the activations (register_activation).
  table.add<AddOp>({"v1", "OpenMP simd loop, row-vector broadcast", DeviceType::cpu, kReferenceDtypes,
                    kReference | kDefault},
                   binary_cpu<BinaryOp::add>);
  table.add<MulOp>({"v1", "OpenMP simd loop, row-vector broadcast", DeviceType::cpu, kReferenceDtypes,
                    kReference | kDefault},
                   binary_cpu<BinaryOp::mul>);
  table.add<AxpyOp>({"v1", "out = alpha*x + y, OpenMP simd loop", DeviceType::cpu, kReferenceDtypes,
                     kReference | kDefault},
                    axpy_cpu);
#ifdef BENCHSUITE_WITH_CUDA
  table.add<AddOp>({"v1", "grid-stride loop, 16-byte vectors when aligned, row-vector broadcast", DeviceType::cuda,
                    kAll, kDefault},
                   binary_cuda<BinaryOp::add>);
  table.add<MulOp>({"v1", "grid-stride loop, 16-byte vectors when aligned, row-vector broadcast", DeviceType::cuda,
                    kAll, kDefault},
                   binary_cuda<BinaryOp::mul>);
  table.add<AxpyOp>({"v1", "grid-stride loop, 16-byte vectors when aligned", DeviceType::cuda, kAll, kDefault},
                    axpy_cuda);
#endif
  register_activation<Activation::relu, ReluOp, ReluBackwardOp>(table);
  register_activation<Activation::gelu, GeluOp, GeluBackwardOp>(table);
  register_activation<Activation::silu, SiluOp, SiluBackwardOp>(table);
  register_activation<Activation::gelu_erf, GeluErfOp, GeluErfBackwardOp>(table);
  register_activation<Activation::tanh, TanhOp, TanhBackwardOp>(table);
}

void check_binary_args(const char* op, const Tensor& a, const Tensor& b) {
  check_same(op, "a", a, "b", b);
  const bool row = b.ndim() >= 1 && b.numel() == (a.ndim() ? a.shape().back() : 1) &&
                   (b.ndim() == 1 || (b.ndim() == 2 && b.shape()[0] == 1));
  BENCHSUITE_CHECK_ARG(a.shape() == b.shape() || (a.ndim() >= 1 && row), op, ": b.shape=", shape_str(b.shape()),
                       " must equal a.shape=", shape_str(a.shape()), " or be a row vector of a's last dimension");
}

void check_add_args(const Tensor& a, const Tensor& b) { check_binary_args(AddOp::name, a, b); }

static Tensor binary_op(const char* op, const Tensor& a, const Tensor& b, const std::string& impl) {
  check_binary_args(op, a, b);
  const OpVersion& version = select_version(op, a.device(), a.dtype(), impl);
  Tensor out = Tensor::empty(a.shape(), a.dtype(), a.device());
  run_binary(version, a.contiguous(), b.contiguous(), out);
  return out;
}

Tensor add(const Tensor& a, const Tensor& b, const std::string& impl) { return binary_op(AddOp::name, a, b, impl); }
Tensor mul(const Tensor& a, const Tensor& b, const std::string& impl) { return binary_op(MulOp::name, a, b, impl); }

Tensor axpy(double alpha, const Tensor& x, const Tensor& y, const std::string& impl) {
  BENCHSUITE_CHECK_ARG(std::isfinite(alpha), "axpy: alpha=", alpha, " must be finite");
  check_same("axpy", "x", x, "y", y);
  BENCHSUITE_CHECK_ARG(x.shape() == y.shape(), "axpy: x.shape=", shape_str(x.shape()), " differs from y.shape=",
                       shape_str(y.shape()));
  const OpVersion& version = select_version(AxpyOp::name, x.device(), x.dtype(), impl);
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  make_current(out);
  version.fn<AxpySignature>()(static_cast<float>(alpha), x.contiguous(), y.contiguous(), out, nullptr);
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
