// Running a selected version: make its device current, then call it (ops/dispatch.h).
#include "core/cuda_runtime.h"
#include "core/error.h"
#include "ops/dispatch.h"

namespace benchsuite::ops {

int64_t cols_of(const Tensor& x) { return x.ndim() == 0 ? 1 : x.shape().back(); }

int64_t rows_of(const Tensor& x) {
  int64_t rows = 1;
  for (int64_t d = 0; d + 1 < x.ndim(); ++d) rows *= x.shape()[d];
  return rows;
}

void check_same_device(const char* op, const char* name, const Tensor& t, const char* other_name,
                       const Tensor& other) {
  BENCHSUITE_CHECK_ARG(t.device() == other.device(), op, ": ", name, " is ", t.describe(), " but ", other_name, " is ",
                       other.describe(), " (they must be on one device)");
}

void check_version_dtype(const OpVersion& version, DType dtype) {
  if (version.supports(dtype)) return;
  std::string supported;
  for (DType d : version.dtypes) supported += (supported.empty() ? "" : ", ") + std::string(dtype_name(d));
  BENCHSUITE_UNSUPPORTED("unsupported_dtype", version.op, " ", version.version, " on ",
                         version.device == DeviceType::cuda ? "cuda" : "cpu", ": dtype=", dtype_name(dtype),
                         " is not supported (supported: ", supported, ")");
}

void make_current(const Tensor& t) {
  if (t.device().is_cuda()) cuda_set_device(t.device().index);
}

void run_unary(const OpVersion& version, const Tensor& x, const Tensor& out, StreamHandle stream) {
  check_version_dtype(version, x.dtype());
  make_current(out);
  version.fn<UnarySignature>()(x, out, stream);
}

void run_binary(const OpVersion& version, const Tensor& a, const Tensor& b, const Tensor& out, StreamHandle stream) {
  check_version_dtype(version, a.dtype());
  make_current(out);
  version.fn<BinarySignature>()(a, b, out, stream);
}

void run_creation(const OpVersion& version, const Tensor& out, const CreationParams& params, StreamHandle stream) {
  make_current(out);
  version.fn<CreationSignature>()(out, params, stream);
}

}  // namespace benchsuite::ops
