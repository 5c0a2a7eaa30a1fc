// Between the emulator's parts: the fiber scheduler (emu_core.cpp), the CUDA runtime
// (emu_cudart.cpp) and cuBLAS (emu_cublas.cpp).
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>
#include <functional>
#include <string>

namespace emu {

// Emulated device: what cudaGetDeviceProperties reports (an H100-like shape, so kernels pick
// the same paths as on the real target) and the limits launches are checked against.
constexpr int kSmCount = 132;
constexpr int kClockKhz = 1755000;
constexpr int kMemoryClockKhz = 2619000;
constexpr int kL2Bytes = 4 << 20;  // small: cold-mode flushes memset this much per sample
constexpr size_t kStaticSmemLimit = 48 * 1024;
constexpr size_t kSmemOptinLimit = 227 * 1024;
constexpr size_t kTotalMemory = size_t{16} << 30;

// A stream operation: run now, or recorded when the stream is being captured into a graph.
void enqueue(cudaStream_t stream, std::function<void()> op);

// The dynamic shared memory a kernel may use (cudaFuncSetAttribute raises it over 48 KiB).
size_t max_dynamic_smem(const void* kernel);

// The launch error of the last failed launch (cudaGetLastError returns and clears it) and
// its description, which cudaGetErrorString gives while it is the latest.
void set_launch_error(cudaError_t err, std::string detail);
const char* launch_error_detail(cudaError_t err);

// Device allocations: a description of the one nearest to an address (for fault reports).
std::string describe_address(const void* address);
// Writes past the end of an allocation that stayed inside its padding to the next 256
// bytes (the guard page catches the rest): a description of the first, or "" (and the
// padding is refilled).
std::string check_allocation_tails();

}  // namespace emu
