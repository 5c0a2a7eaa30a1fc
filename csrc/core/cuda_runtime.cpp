// The CUDA runtime view declared in cuda_runtime.h: real calls in a CUDA build, clear
// "unavailable" errors in a CPU-only one.
#include "core/cuda_runtime.h"

#include "core/error.h"

#ifdef BENCHSUITE_WITH_CUDA
#include <cuda_runtime_api.h>

#include "core/cuda_check.h"
#endif

namespace benchsuite {

#ifdef BENCHSUITE_WITH_CUDA

CudaStatus cuda_status() {
  CudaStatus status;
  status.compiled = true;
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    cudaGetLastError();  // clear the sticky-free error so later calls start clean
    if (err == cudaErrorNoDevice)
      status.reason = "no CUDA device";
    else if (err == cudaErrorInsufficientDriver)
      status.reason = "no CUDA driver (or driver older than the CUDA runtime)";
    else
      status.reason = std::string("CUDA initialisation failed: ") + cudaGetErrorString(err);
    return status;
  }
  status.device_count = count;
  status.available = count > 0;
  if (!status.available) status.reason = "no CUDA device";
  return status;
}

std::vector<CudaDeviceInfo> cuda_devices() {
  std::vector<CudaDeviceInfo> devices;
  CudaStatus status = cuda_status();
  for (int i = 0; i < status.device_count; ++i) devices.push_back(cuda_device_info(i));
  return devices;
}

CudaDeviceInfo cuda_device_info(int device) {
  require_cuda("cuda_device_info");
  CudaDeviceInfo info;
  cudaDeviceProp prop{};
  BENCHSUITE_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  info.index = device;
  info.name = prop.name;
  info.cc_major = prop.major;
  info.cc_minor = prop.minor;
  info.sm_count = prop.multiProcessorCount;
  info.total_memory = prop.totalGlobalMem;
  info.l2_cache_bytes = prop.l2CacheSize;
  info.memory_bus_width_bits = prop.memoryBusWidth;
  info.max_threads_per_block = prop.maxThreadsPerBlock;
  info.shared_memory_per_block_optin = prop.sharedMemPerBlockOptin;
  info.shared_memory_per_sm = prop.sharedMemPerMultiprocessor;
  info.warp_size = prop.warpSize;
  info.ecc_enabled = prop.ECCEnabled != 0;
  // Clock rates left cudaDeviceProp in CUDA 13; the attributes remain.
  BENCHSUITE_CUDA_CHECK(cudaDeviceGetAttribute(&info.sm_clock_khz, cudaDevAttrClockRate, device));
  BENCHSUITE_CUDA_CHECK(cudaDeviceGetAttribute(&info.memory_clock_khz, cudaDevAttrMemoryClockRate, device));
  char bus_id[32] = {0};
  if (cudaDeviceGetPCIBusId(bus_id, sizeof(bus_id), device) == cudaSuccess) info.pci_bus_id = bus_id;
  BENCHSUITE_CUDA_CHECK(cudaDriverGetVersion(&info.driver_version));
  BENCHSUITE_CUDA_CHECK(cudaRuntimeGetVersion(&info.runtime_version));
  return info;
}

void* cuda_malloc(size_t bytes, int device) {
  require_cuda("cuda_malloc");
  BENCHSUITE_CUDA_CHECK(cudaSetDevice(device));
  void* ptr = nullptr;
  cudaError_t err = cudaMalloc(&ptr, bytes == 0 ? 1 : bytes);
  if (err == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    throw Error(ErrorKind::unsupported,
                detail::str_cat("out of CUDA memory allocating ", bytes, " bytes on cuda:", device), __FILE__,
                __LINE__, "oom");
  }
  BENCHSUITE_CUDA_CHECK(err);
  return ptr;
}

void cuda_free(void* ptr, int device) noexcept {
  if (ptr == nullptr) return;
  int previous = 0;
  cudaGetDevice(&previous);
  cudaSetDevice(device);
  cudaFree(ptr);  // errors here are not actionable during destruction
  cudaSetDevice(previous);
}

void cuda_set_device(int device) {
  require_cuda("cuda_set_device");
  BENCHSUITE_CUDA_CHECK(cudaSetDevice(device));
}
void cuda_memcpy_h2d(void* dst, const void* src, size_t bytes) {
  BENCHSUITE_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
}
void cuda_memcpy_d2h(void* dst, const void* src, size_t bytes) {
  BENCHSUITE_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost));
}
void cuda_memcpy_d2d(void* dst, const void* src, size_t bytes) {
  BENCHSUITE_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToDevice));
}
void cuda_memcpy_d2d_async(void* dst, const void* src, size_t bytes, StreamHandle stream) {
  BENCHSUITE_CUDA_CHECK(
      cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, static_cast<cudaStream_t>(stream)));
}
void cuda_synchronize(int device) {
  require_cuda("cuda_synchronize");
  BENCHSUITE_CUDA_CHECK(cudaSetDevice(device));
  BENCHSUITE_CUDA_CHECK(cudaDeviceSynchronize());
}
void cuda_stream_wait_default(StreamHandle consumer) {
  cudaEvent_t event;
  BENCHSUITE_CUDA_CHECK(cudaEventCreateWithFlags(&event, cudaEventDisableTiming));
  BENCHSUITE_CUDA_CHECK(cudaEventRecord(event, cudaStreamLegacy));
  BENCHSUITE_CUDA_CHECK(cudaStreamWaitEvent(static_cast<cudaStream_t>(consumer), event, 0));
  BENCHSUITE_CUDA_CHECK(cudaEventDestroy(event));
}
void cuda_mem_info(int device, size_t* free_bytes, size_t* total_bytes) {
  require_cuda("cuda_mem_info");
  BENCHSUITE_CUDA_CHECK(cudaSetDevice(device));
  BENCHSUITE_CUDA_CHECK(cudaMemGetInfo(free_bytes, total_bytes));
}

#else  // CPU-only build

CudaStatus cuda_status() {
  CudaStatus status;
  status.reason = "built without CUDA";
  return status;
}
std::vector<CudaDeviceInfo> cuda_devices() { return {}; }
CudaDeviceInfo cuda_device_info(int) { require_cuda("cuda_device_info"); return {}; }
void* cuda_malloc(size_t, int) { require_cuda("cuda_malloc"); return nullptr; }
void cuda_free(void*, int) noexcept {}
void cuda_set_device(int) { require_cuda("cuda_set_device"); }
void cuda_memcpy_h2d(void*, const void*, size_t) { require_cuda("cuda_memcpy"); }
void cuda_memcpy_d2h(void*, const void*, size_t) { require_cuda("cuda_memcpy"); }
void cuda_memcpy_d2d(void*, const void*, size_t) { require_cuda("cuda_memcpy"); }
void cuda_memcpy_d2d_async(void*, const void*, size_t, StreamHandle) { require_cuda("cuda_memcpy"); }
void cuda_synchronize(int) { require_cuda("cuda_synchronize"); }
void cuda_stream_wait_default(StreamHandle) { require_cuda("cuda_stream_wait_default"); }
void cuda_mem_info(int, size_t*, size_t*) { require_cuda("cuda_mem_info"); }

#endif

void require_cuda(const char* what) {
  // Cached: the device count does not change within a process.
  static const CudaStatus status = cuda_status();
  if (!status.available)
    throw Error(ErrorKind::cuda_unavailable, detail::str_cat(what, ": CUDA is unavailable (", status.reason, ")"),
                __FILE__, __LINE__, "no_cuda");
}

}  // namespace benchsuite
