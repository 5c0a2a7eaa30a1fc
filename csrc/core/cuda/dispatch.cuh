// Host side of a launcher templated on the storage type: the DType of a tensor to the CUDA
// element type its kernel is instantiated for.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "core/dtype.h"
#include "core/error.h"

namespace benchsuite::cuda::detail {

// Calls fn(T{}) with T = float, __half or __nv_bfloat16 for `dtype` (in fn: using T =
// decltype(tag)); any other dtype is unsupported, named with `op` (op layers check dtypes
// first, so this is a last guard).
template <class Fn>
void dispatch_float(DType dtype, const char* op, Fn&& fn) {
  switch (dtype) {
    case DType::float32: fn(float{}); return;
    case DType::float16: fn(__half{}); return;
    case DType::bfloat16: fn(__nv_bfloat16{}); return;
    default: BENCHSUITE_UNSUPPORTED("unsupported_dtype", op, " (cuda): dtype=", dtype_name(dtype),
                                    " is not supported (supported: float32, float16, bfloat16)");
  }
}

}  // namespace benchsuite::cuda::detail
