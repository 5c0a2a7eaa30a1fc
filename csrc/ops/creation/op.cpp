// Creation ops: fill, randn, uniform on CPU and CUDA (same numbers for the same seed).
#include <cmath>

#include "core/error.h"
#include "ops/creation/creation.h"
#include "ops/dispatch.h"

namespace benchsuite::ops {

namespace {
void fill_cpu(const Tensor& out, const CreationParams& p, StreamHandle) {
  cpu::fill(out.data_ptr(), out.dtype(), out.numel(), p.value);
}
void randn_cpu(const Tensor& out, const CreationParams& p, StreamHandle) {
  cpu::randn(out.data_ptr(), out.dtype(), out.numel(), p.seed, p.a, p.b);
}
void uniform_cpu(const Tensor& out, const CreationParams& p, StreamHandle) {
  cpu::uniform(out.data_ptr(), out.dtype(), out.numel(), p.seed, p.a, p.b);
}
#ifdef BENCHSUITE_WITH_CUDA
void fill_cuda(const Tensor& out, const CreationParams& p, StreamHandle s) {
  cuda::fill(out.data_ptr(), out.dtype(), out.numel(), p.value, s);
}
void randn_cuda(const Tensor& out, const CreationParams& p, StreamHandle s) {
  cuda::randn(out.data_ptr(), out.dtype(), out.numel(), p.seed, p.a, p.b, s);
}
void uniform_cuda(const Tensor& out, const CreationParams& p, StreamHandle s) {
  cuda::uniform(out.data_ptr(), out.dtype(), out.numel(), p.seed, p.a, p.b, s);
}
#endif

void cast_cpu(const Tensor& x, const Tensor& out, StreamHandle) {
  cpu::cast(x.data_ptr(), x.dtype(), out.data_ptr(), out.dtype(), x.numel());
}
#ifdef BENCHSUITE_WITH_CUDA
void cast_cuda(const Tensor& x, const Tensor& out, StreamHandle s) {
  cuda::cast(x.data_ptr(), x.dtype(), out.data_ptr(), out.dtype(), x.numel(), s);
}
#endif

const std::vector<DType> kFloats = {DType::float32, DType::float16, DType::bfloat16, DType::float64};

Tensor create(const char* op, const Shape& shape, DType dtype, Device device, const std::string& impl,
              const CreationParams& params) {
  const OpVersion& version = select_version(op, device, dtype, impl);
  Tensor out = Tensor::empty(shape, dtype, device);
  run_creation(version, out, params);
  return out;
}

// randn: a = mean, b = stddev; uniform: a = low, b = high.
CreationParams random_params(uint64_t seed, float a, float b) {
  CreationParams p;
  p.seed = seed;
  p.a = a;
  p.b = b;
  return p;
}

void check_finite(const char* op, const char* name, double value) {
  BENCHSUITE_CHECK_ARG(std::isfinite(value), op, ": ", name, "=", value, " must be finite");
}

// The integers an integer dtype holds, as doubles: [lo, hi_excl). Stores truncate toward
// zero, and converting a double outside that range to the integer type is undefined.
void int_range(DType dtype, double& lo, double& hi_excl) {
  switch (dtype) {
    case DType::int8: lo = -128.0, hi_excl = 128.0; return;
    case DType::uint8: lo = 0.0, hi_excl = 256.0; return;
    case DType::int32: lo = -2147483648.0, hi_excl = 2147483648.0; return;
    default: lo = -9223372036854775808.0, hi_excl = 9223372036854775808.0; return;  // int64
  }
}

// A value an integer dtype holds after truncation (NaN and infinities never).
bool fits_integer(DType dtype, double value) {
  double lo, hi_excl;
  int_range(dtype, lo, hi_excl);
  const double t = std::trunc(value);
  return std::isfinite(value) && t >= lo && t < hi_excl;
}
}  // namespace

BENCHSUITE_REGISTER_VERSIONS(creation) {
  // One version per op and device: each is the default for all of its dtypes.
  const std::vector<DType> all = all_dtypes();
  table.add<FillOp>({"v1", "OpenMP loop storing one constant", DeviceType::cpu, all, kReference | kDefault},
                    fill_cpu);
  table.add<RandnOp>({"v1", "one Philox4x32-10 block and two Box-Muller pairs per 4 elements, OpenMP",
                      DeviceType::cpu, kFloats, kReference | kDefault},
                     randn_cpu);
  table.add<UniformOp>({"v1", "Philox4x32-10, 24-bit uniforms, OpenMP", DeviceType::cpu, all, kReference | kDefault},
                       uniform_cpu);
  table.add<CastOp>({"v1", "element loop through double, OpenMP", DeviceType::cpu, all, kReference | kDefault},
                    cast_cpu);
#ifdef BENCHSUITE_WITH_CUDA
  table.add<CastOp>({"v1", "grid-stride element loop through double", DeviceType::cuda, all, kDefault}, cast_cuda);
  table.add<FillOp>({"v1", "grid-stride loop storing one constant", DeviceType::cuda, all, kDefault}, fill_cuda);
  table.add<RandnOp>({"v1", "grid-stride Philox4x32-10 + Box-Muller per element", DeviceType::cuda, kFloats,
                      kDefault},
                     randn_cuda);
  table.add<UniformOp>({"v1", "grid-stride Philox4x32-10, 24-bit uniforms", DeviceType::cuda, all, kDefault},
                       uniform_cuda);
#endif
}

Tensor cast(const Tensor& x, DType dtype, const std::string& impl) {
  // Versions are chosen by the source dtype; every version writes every target dtype.
  const OpVersion& version = select_version(CastOp::name, x.device(), x.dtype(), impl);
  Tensor out = Tensor::empty(x.shape(), dtype, x.device());
  run_unary(version, x.contiguous(), out);
  return out;
}

Tensor fill(const Shape& shape, double value, DType dtype, Device device, const std::string& impl) {
  BENCHSUITE_CHECK_ARG(is_floating(dtype) || fits_integer(dtype, value), "fill: value=", value,
                       " is not representable in dtype=", dtype_name(dtype));
  CreationParams p;
  p.value = value;
  return create(FillOp::name, shape, dtype, device, impl, p);
}

Tensor randn(const Shape& shape, uint64_t seed, DType dtype, Device device, float mean, float stddev,
             const std::string& impl) {
  check_finite("randn", "mean", mean);
  check_finite("randn", "std", stddev);
  BENCHSUITE_CHECK_ARG(stddev >= 0.0f, "randn: std=", stddev, " must be >= 0");
  return create(RandnOp::name, shape, dtype, device, impl, random_params(seed, mean, stddev));
}

Tensor uniform(const Shape& shape, uint64_t seed, DType dtype, Device device, float low, float high,
               const std::string& impl) {
  check_finite("uniform", "low", low);
  check_finite("uniform", "high", high);
  BENCHSUITE_CHECK_ARG(low <= high, "uniform: low=", low, " must be <= high=", high);
  if (!is_floating(dtype)) {  // draws in [low, high) are truncated into the dtype: both ends must fit it
    double lo, hi_excl;
    int_range(dtype, lo, hi_excl);
    BENCHSUITE_CHECK_ARG(fits_integer(dtype, low), "uniform: low=", low, " is out of the range of dtype=",
                         dtype_name(dtype), " [", lo, ", ", hi_excl - 1, "]");
    BENCHSUITE_CHECK_ARG(fits_integer(dtype, high), "uniform: high=", high,
                         " is out of the range of dtype=", dtype_name(dtype), " [", lo, ", ", hi_excl - 1, "]");
  }
  return create(UniformOp::name, shape, dtype, device, impl, random_params(seed, low, high));
}

}  // namespace benchsuite::ops
