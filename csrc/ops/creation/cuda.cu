// CUDA creation kernels: constant fill and counter-based random streams matching
// ops/creation/cpu.cpp element for element.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "core/rng.h"
#include "core/cuda/launch.cuh"
#include "ops/creation/creation.h"

namespace benchsuite::cuda {

namespace {
constexpr int kThreads = 256;

__global__ void fill_kernel(void* out, DType dtype, int64_t n, double value) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    store_as(out, dtype, i, value);
}

__global__ void randn_kernel(void* out, DType dtype, int64_t n, uint64_t seed, float mean, float stddev) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    store_as(out, dtype, i, mean + stddev * rng_normal(seed, static_cast<uint64_t>(i)));
}

__global__ void uniform_kernel(void* out, DType dtype, int64_t n, uint64_t seed, float low, float high) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    store_as(out, dtype, i, rng_uniform(seed, static_cast<uint64_t>(i), low, high));
}
__global__ void cast_kernel(const void* in, DType from, void* out, DType to, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    store_as(out, to, i, load_as(in, from, i));
}
}  // namespace

void cast(const void* in, DType from, void* out, DType to, int64_t n, StreamHandle stream) {
  if (n == 0) return;
  cast_kernel<<<detail::grid_for(n, kThreads), kThreads, 0, detail::as_stream(stream)>>>(in, from, out, to, n);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

void fill(void* out, DType dtype, int64_t n, double value, StreamHandle stream) {
  if (n == 0) return;
  fill_kernel<<<detail::grid_for(n, kThreads), kThreads, 0, detail::as_stream(stream)>>>(out, dtype, n, value);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

void randn(void* out, DType dtype, int64_t n, uint64_t seed, float mean, float stddev, StreamHandle stream) {
  if (n == 0) return;
  randn_kernel<<<detail::grid_for(n, kThreads), kThreads, 0, detail::as_stream(stream)>>>(out, dtype, n, seed, mean,
                                                                                          stddev);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

void uniform(void* out, DType dtype, int64_t n, uint64_t seed, float low, float high, StreamHandle stream) {
  if (n == 0) return;
  uniform_kernel<<<detail::grid_for(n, kThreads), kThreads, 0, detail::as_stream(stream)>>>(out, dtype, n, seed, low,
                                                                                            high);
  BENCHSUITE_CUDA_CHECK_LAUNCH();
}

}  // namespace benchsuite::cuda
