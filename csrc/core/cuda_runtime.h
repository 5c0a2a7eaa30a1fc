// A thin, always-compiled view of the CUDA runtime for host code. In a CPU-only build
// every call reports "built without CUDA"; in a CUDA build without a driver or device
// it reports that instead. Nothing here includes CUDA headers, so any file may use it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace benchsuite {

using StreamHandle = void*;  // cudaStream_t, opaque to code that doesn't include CUDA

struct CudaStatus {
  bool compiled = false;   // CUDA kernels compiled into this build
  bool available = false;  // a usable device is present now
  int device_count = 0;
  std::string reason;      // why not available: "built without CUDA", "no CUDA device", ...
};

struct CudaDeviceInfo {
  int index = 0;
  std::string name;
  int cc_major = 0, cc_minor = 0;
  int sm_count = 0;
  size_t total_memory = 0;
  int l2_cache_bytes = 0;
  int sm_clock_khz = 0;       // peak SM clock
  int memory_clock_khz = 0;   // peak memory clock
  int memory_bus_width_bits = 0;
  int max_threads_per_block = 0;
  size_t shared_memory_per_block_optin = 0;
  size_t shared_memory_per_sm = 0;
  int warp_size = 32;
  bool ecc_enabled = false;
  std::string pci_bus_id;
  int driver_version = 0;     // e.g. 13000
  int runtime_version = 0;
};

CudaStatus cuda_status();
// Throws cuda_unavailable (reason "no_cuda") with the status's reason when not usable.
void require_cuda(const char* what);
std::vector<CudaDeviceInfo> cuda_devices();
CudaDeviceInfo cuda_device_info(int device);

void* cuda_malloc(size_t bytes, int device);
void cuda_free(void* ptr, int device) noexcept;
void cuda_set_device(int device);
void cuda_memcpy_h2d(void* dst, const void* src, size_t bytes);
void cuda_memcpy_d2h(void* dst, const void* src, size_t bytes);
void cuda_memcpy_d2d(void* dst, const void* src, size_t bytes);
void cuda_memcpy_d2d_async(void* dst, const void* src, size_t bytes, StreamHandle stream);
void cuda_synchronize(int device);
// Makes `consumer` wait for the work queued so far on the default stream (DLPack export).
void cuda_stream_wait_default(StreamHandle consumer);
// Free and total bytes on the device (cudaMemGetInfo).
void cuda_mem_info(int device, size_t* free_bytes, size_t* total_bytes);

}  // namespace benchsuite
