// Device helpers shared by the attention .cu files: float32/float16/bfloat16 element loads
// widened to float and stores rounded from float, and a host-side dispatch on DType.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "common/dtype.h"
#include "common/error.h"

namespace benchsuite::cuda::attn {

template <class T>
__device__ __forceinline__ float to_float(T x);
template <>
__device__ __forceinline__ float to_float<float>(float x) {
  return x;
}
template <>
__device__ __forceinline__ float to_float<__half>(__half x) {
  return __half2float(x);
}
template <>
__device__ __forceinline__ float to_float<__nv_bfloat16>(__nv_bfloat16 x) {
  return __bfloat162float(x);
}

template <class T>
__device__ __forceinline__ T from_float(float x);
template <>
__device__ __forceinline__ float from_float<float>(float x) {
  return x;
}
template <>
__device__ __forceinline__ __half from_float<__half>(float x) {
  return __float2half_rn(x);
}
template <>
__device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float x) {
  return __float2bfloat16_rn(x);
}

template <class T>
struct TypeTag {
  using type = T;
};

// Calls fn(TypeTag<T>{}) with T the CUDA element type of `dtype` (float32/float16/bfloat16);
// `what` names the launcher in the error for any other dtype (the op layer rejects those first).
template <class Fn>
void dispatch_float(DType dtype, const char* what, Fn&& fn) {
  switch (dtype) {
    case DType::float32:
      fn(TypeTag<float>{});
      return;
    case DType::float16:
      fn(TypeTag<__half>{});
      return;
    case DType::bfloat16:
      fn(TypeTag<__nv_bfloat16>{});
      return;
    default:
      BENCHSUITE_THROW_ARG(what, ": dtype=", dtype_name(dtype), " must be float32, float16 or bfloat16");
  }
}

}  // namespace benchsuite::cuda::attn
