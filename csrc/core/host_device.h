// HOST_DEVICE marks helpers shared by CPU and CUDA code; it is empty without nvcc so the
// same header compiles in plain C++ translation units.
#pragma once
#if defined(__CUDACC__)
#define BENCHSUITE_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define BENCHSUITE_HOST_DEVICE inline
#endif
