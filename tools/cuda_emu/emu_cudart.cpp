// The emulator's CUDA runtime: the part of the runtime API benchsuite calls, on host memory.
// One device; work runs synchronously at enqueue, so events time the host; stream capture
// records operations and a graph launch replays them. Device allocations are fresh mappings
// filled with 0xFF (NaN as floats, never zeros) between two guard pages, ending at the second:
// a kernel reading or writing past an allocation faults and the launch fails naming the
// buffer; a write into the padding up to the next 256 bytes is found after the block.
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <sstream>
#include <unordered_map>
#include <vector>

#include <cuda_runtime_api.h>

#include "emu_internal.h"

struct CUgraph_st {
  std::vector<std::function<void()>> ops;
};
struct CUgraphExec_st {
  std::vector<std::function<void()>> ops;
};
struct CUstream_st {
  bool capturing = false;
  CUgraph_st* graph = nullptr;
};
struct CUevent_st {
  bool timing = true;
  bool recorded = false;
  double ms = 0.0;
};

namespace emu {
namespace {

struct Allocation {
  void* mapping;
  size_t mapping_bytes;
  size_t bytes;         // as asked for
  size_t padded_bytes;  // rounded up to 256 (cudaMalloc's alignment): the 0xFF padding follows `bytes`
};

std::mutex mutex;
std::map<uintptr_t, Allocation> allocations;  // by user address
size_t allocated_bytes = 0;
std::unordered_map<const void*, size_t> dynamic_smem_limits;
thread_local cudaError_t last_error = cudaSuccess;
thread_local cudaError_t detail_error = cudaSuccess;
thread_local std::string detail_text;
int current_device = 0;

size_t page_bytes() { return static_cast<size_t>(sysconf(_SC_PAGESIZE)); }
size_t round_up(size_t v, size_t to) { return (v + to - 1) / to * to; }

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

bool is_special_stream(cudaStream_t s) {
  return s == nullptr || s == cudaStreamLegacy || s == cudaStreamPerThread;
}

}  // namespace

void enqueue(cudaStream_t stream, std::function<void()> op) {
  if (!is_special_stream(stream) && stream->capturing)
    stream->graph->ops.push_back(std::move(op));
  else
    op();
}

size_t max_dynamic_smem(const void* kernel) {
  std::lock_guard<std::mutex> lock(mutex);
  auto found = dynamic_smem_limits.find(kernel);
  return found == dynamic_smem_limits.end() ? kStaticSmemLimit : found->second;
}

void set_launch_error(cudaError_t err, std::string detail) {
  last_error = err;
  detail_error = err;
  detail_text = "benchsuite CUDA emulator: " + std::move(detail);
}

const char* launch_error_detail(cudaError_t err) {
  return err == detail_error && !detail_text.empty() ? detail_text.c_str() : nullptr;
}

std::string check_allocation_tails() {
  std::lock_guard<std::mutex> lock(mutex);
  for (auto& [base, a] : allocations) {
    unsigned char* tail = reinterpret_cast<unsigned char*>(base) + a.bytes;
    const size_t padding = a.padded_bytes - a.bytes;
    for (size_t i = 0; i < padding; ++i)
      if (tail[i] != 0xFF) {
        std::memset(tail, 0xFF, padding);
        std::ostringstream s;
        s << "a write " << i << " bytes past the end of a " << a.bytes << "-byte device allocation at 0x" << std::hex
          << base;
        return s.str();
      }
  }
  return "";
}

std::string describe_address(const void* address) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(address);
  std::ostringstream s;
  s << address;
  std::lock_guard<std::mutex> lock(mutex);
  auto next = allocations.upper_bound(a);
  if (next != allocations.begin()) {
    auto prev = std::prev(next);
    const uintptr_t end = prev->first + prev->second.bytes;
    if (a >= end && a < end + page_bytes() * 2)
      s << ", " << (a - end) << " bytes past the end of a " << prev->second.bytes << "-byte device allocation at 0x"
        << std::hex << prev->first;
    else if (a >= prev->first && a < end)
      s << ", inside a " << prev->second.bytes << "-byte device allocation";
  }
  if (next != allocations.end() && next->first > a && next->first - a < page_bytes())
    s << " (" << std::dec << (next->first - a) << " bytes before a device allocation)";
  return s.str();
}

}  // namespace emu

using namespace emu;

// ---- errors -------------------------------------------------------------------------------------
cudaError_t CUDARTAPI cudaGetLastError(void) {
  cudaError_t err = last_error;
  last_error = cudaSuccess;
  return err;
}
cudaError_t CUDARTAPI cudaPeekAtLastError(void) { return last_error; }

const char* CUDARTAPI cudaGetErrorName(cudaError_t error) {
  switch (error) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorInvalidDevicePointer: return "cudaErrorInvalidDevicePointer";
    case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
    case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
    case cudaErrorStreamCaptureUnsupported: return "cudaErrorStreamCaptureUnsupported";
    case cudaErrorStreamCaptureInvalidated: return "cudaErrorStreamCaptureInvalidated";
    case cudaErrorNotReady: return "cudaErrorNotReady";
    default: return "cudaErrorUnknown";
  }
}

const char* CUDARTAPI cudaGetErrorString(cudaError_t error) {
  if (const char* detail = launch_error_detail(error)) return detail;
  switch (error) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidDevicePointer: return "invalid device pointer";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorLaunchFailure: return "unspecified launch failure";
    case cudaErrorNotReady: return "device not ready";
    default: return "unknown error (benchsuite CUDA emulator)";
  }
}

// ---- device ---------------------------------------------------------------------------------------
cudaError_t CUDARTAPI cudaGetDeviceCount(int* count) {
  *count = 1;
  return cudaSuccess;
}
cudaError_t CUDARTAPI cudaSetDevice(int device) {
  if (device != 0) return last_error = cudaErrorInvalidDevice;
  current_device = device;
  return cudaSuccess;
}
cudaError_t CUDARTAPI cudaGetDevice(int* device) {
  *device = current_device;
  return cudaSuccess;
}
cudaError_t CUDARTAPI cudaDeviceSynchronize(void) { return cudaSuccess; }
cudaError_t CUDARTAPI cudaDriverGetVersion(int* version) {
  *version = CUDART_VERSION;
  return cudaSuccess;
}
cudaError_t CUDARTAPI cudaRuntimeGetVersion(int* version) {
  *version = CUDART_VERSION;
  return cudaSuccess;
}
cudaError_t CUDARTAPI cudaDeviceGetPCIBusId(char* bus_id, int len, int device) {
  if (device != 0) return cudaErrorInvalidDevice;
  std::snprintf(bus_id, static_cast<size_t>(len), "0000:00:00.0");
  return cudaSuccess;
}

cudaError_t CUDARTAPI cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (device != 0) return cudaErrorInvalidDevice;
  std::memset(prop, 0, sizeof *prop);
  std::snprintf(prop->name, sizeof prop->name, "benchsuite CUDA emulator (CPU)");
  prop->major = 9;
  prop->minor = 0;
  prop->multiProcessorCount = kSmCount;
  prop->totalGlobalMem = kTotalMemory;
  prop->l2CacheSize = kL2Bytes;
  prop->memoryBusWidth = 5120;
  prop->maxThreadsPerBlock = 1024;
  prop->maxThreadsDim[0] = prop->maxThreadsDim[1] = 1024;
  prop->maxThreadsDim[2] = 64;
  prop->maxGridSize[0] = 2147483647;
  prop->maxGridSize[1] = prop->maxGridSize[2] = 65535;
  prop->sharedMemPerBlock = kStaticSmemLimit;
  prop->sharedMemPerBlockOptin = kSmemOptinLimit;
  prop->sharedMemPerMultiprocessor = 228 * 1024;
  prop->warpSize = 32;
  prop->ECCEnabled = 0;
  return cudaSuccess;
}

cudaError_t CUDARTAPI cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  if (device != 0) return cudaErrorInvalidDevice;
  switch (attr) {
    case cudaDevAttrClockRate: *value = kClockKhz; break;
    case cudaDevAttrMemoryClockRate: *value = kMemoryClockKhz; break;
    case cudaDevAttrL2CacheSize: *value = kL2Bytes; break;
    case cudaDevAttrComputeCapabilityMajor: *value = 9; break;
    case cudaDevAttrComputeCapabilityMinor: *value = 0; break;
    case cudaDevAttrMultiProcessorCount: *value = kSmCount; break;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin: *value = static_cast<int>(kSmemOptinLimit); break;
    case cudaDevAttrMaxThreadsPerBlock: *value = 1024; break;
    case cudaDevAttrWarpSize: *value = 32; break;
    default: return cudaErrorInvalidValue;
  }
  return cudaSuccess;
}

cudaError_t CUDARTAPI cudaFuncSetAttribute(const void* func, cudaFuncAttribute attr, int value) {
  if (attr != cudaFuncAttributeMaxDynamicSharedMemorySize) return cudaSuccess;  // hints: nothing to emulate
  if (value < 0 || static_cast<size_t>(value) > kSmemOptinLimit) return last_error = cudaErrorInvalidValue;
  std::lock_guard<std::mutex> lock(mutex);
  dynamic_smem_limits[func] = static_cast<size_t>(value);
  return cudaSuccess;
}

// ---- memory -----------------------------------------------------------------------------------------
cudaError_t CUDARTAPI cudaMalloc(void** ptr, size_t size) {
  const size_t page = page_bytes();
  const size_t user = round_up(size == 0 ? 1 : size, 256);
  std::lock_guard<std::mutex> lock(mutex);
  if (allocated_bytes + user > kTotalMemory) return last_error = cudaErrorMemoryAllocation;
  const size_t mapping_bytes = page + round_up(user, page) + page;
  void* mapping = mmap(nullptr, mapping_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapping == MAP_FAILED) return last_error = cudaErrorMemoryAllocation;
  char* front_guard = static_cast<char*>(mapping);
  char* back_guard = front_guard + mapping_bytes - page;
  mprotect(front_guard, page, PROT_NONE);
  mprotect(back_guard, page, PROT_NONE);
  std::memset(front_guard + page, 0xFF, back_guard - (front_guard + page));
  char* p = back_guard - user;  // 256-byte aligned, ending at the back guard page
  allocations[reinterpret_cast<uintptr_t>(p)] = Allocation{mapping, mapping_bytes, size, user};
  allocated_bytes += user;
  *ptr = p;
  return cudaSuccess;
}

cudaError_t CUDARTAPI cudaFree(void* ptr) {
  if (ptr == nullptr) return cudaSuccess;
  std::lock_guard<std::mutex> lock(mutex);
  auto found = allocations.find(reinterpret_cast<uintptr_t>(ptr));
  if (found == allocations.end()) return last_error = cudaErrorInvalidDevicePointer;
  allocated_bytes -= found->second.padded_bytes;
  munmap(found->second.mapping, found->second.mapping_bytes);
  allocations.erase(found);
  return cudaSuccess;
}

cudaError_t CUDARTAPI cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
  std::lock_guard<std::mutex> lock(mutex);
  *total_bytes = kTotalMemory;
  *free_bytes = kTotalMemory - allocated_bytes;
  return cudaSuccess;
}

cudaError_t CUDARTAPI cudaMemcpy(void* dst, const void* src, size_t count, cudaMemcpyKind) {
  if (count > 0) std::memmove(dst, src, count);
  return cudaSuccess;
}
cudaError_t CUDARTAPI cudaMemcpyAsync(void* dst, const void* src, size_t count, cudaMemcpyKind, cudaStream_t stream) {
  enqueue(stream, [=]() {
    if (count > 0) std::memmove(dst, src, count);
  });
  return cudaSuccess;
}
cudaError_t CUDARTAPI cudaMemsetAsync(void* dst, int value, size_t count, cudaStream_t stream) {
  enqueue(stream, [=]() { std::memset(dst, value, count); });
  return cudaSuccess;
}
cudaError_t CUDARTAPI cudaMemset(void* dst, int value, size_t count) {
  std::memset(dst, value, count);
  return cudaSuccess;
}

// ---- streams, events, graphs ----------------------------------------------------------------------------
cudaError_t CUDARTAPI cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned int) {
  *stream = new CUstream_st();
  return cudaSuccess;
}
cudaError_t CUDARTAPI cudaStreamCreate(cudaStream_t* stream) { return cudaStreamCreateWithFlags(stream, 0); }
cudaError_t CUDARTAPI cudaStreamDestroy(cudaStream_t stream) {
  if (is_special_stream(stream)) return cudaErrorInvalidResourceHandle;
  delete stream;
  return cudaSuccess;
}
cudaError_t CUDARTAPI cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
cudaError_t CUDARTAPI cudaStreamWaitEvent(cudaStream_t, cudaEvent_t, unsigned int) { return cudaSuccess; }

cudaError_t CUDARTAPI cudaStreamBeginCapture(cudaStream_t stream, cudaStreamCaptureMode) {
  if (is_special_stream(stream)) return last_error = cudaErrorStreamCaptureUnsupported;
  if (stream->capturing) return last_error = cudaErrorIllegalState;
  stream->capturing = true;
  stream->graph = new CUgraph_st();
  return cudaSuccess;
}
cudaError_t CUDARTAPI cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t* graph) {
  if (is_special_stream(stream) || !stream->capturing) return last_error = cudaErrorIllegalState;
  stream->capturing = false;
  *graph = stream->graph;
  stream->graph = nullptr;
  return cudaSuccess;
}
cudaError_t CUDARTAPI cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long) {
  *exec = new CUgraphExec_st{graph->ops};
  return cudaSuccess;
}
cudaError_t CUDARTAPI cudaGraphUpload(cudaGraphExec_t, cudaStream_t) { return cudaSuccess; }
cudaError_t CUDARTAPI cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t stream) {
  auto ops = exec->ops;
  enqueue(stream, [ops]() {
    for (const auto& op : ops) op();
  });
  return cudaSuccess;
}
cudaError_t CUDARTAPI cudaGraphDestroy(cudaGraph_t graph) {
  delete graph;
  return cudaSuccess;
}
cudaError_t CUDARTAPI cudaGraphExecDestroy(cudaGraphExec_t exec) {
  delete exec;
  return cudaSuccess;
}

cudaError_t CUDARTAPI cudaEventCreateWithFlags(cudaEvent_t* event, unsigned int flags) {
  *event = new CUevent_st();
  (*event)->timing = (flags & cudaEventDisableTiming) == 0;
  return cudaSuccess;
}
cudaError_t CUDARTAPI cudaEventCreate(cudaEvent_t* event) { return cudaEventCreateWithFlags(event, 0); }
cudaError_t CUDARTAPI cudaEventDestroy(cudaEvent_t event) {
  delete event;
  return cudaSuccess;
}
cudaError_t CUDARTAPI cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  enqueue(stream, [event]() {
    event->recorded = true;
    event->ms = now_ms();
  });
  return cudaSuccess;
}
cudaError_t CUDARTAPI cudaEventSynchronize(cudaEvent_t) { return cudaSuccess; }
cudaError_t CUDARTAPI cudaEventQuery(cudaEvent_t) { return cudaSuccess; }
cudaError_t CUDARTAPI cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  if (!start->timing || !end->timing || !start->recorded || !end->recorded)
    return last_error = cudaErrorInvalidResourceHandle;
  *ms = static_cast<float>(end->ms - start->ms);
  return cudaSuccess;
}
