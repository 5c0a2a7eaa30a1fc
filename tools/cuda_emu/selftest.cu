// The emulator's self-tests: kernels with known answers and known bugs, and a command-line
// driver that runs them (built only in the emulator build, as the executable
// cuda_emu_selftest; tests/test_cuda_emulator.py runs it). They check that the emulator
// computes what a GPU would and catches what compute-sanitizer or a wrong answer would catch
// on one. A separate process from the module under test: it links its own copy of the
// emulator and nothing else.
//
//     cuda_emu_selftest CASE...     runs the cases in order, in this one process
//     cuda_emu_selftest --list      the case names
//
// Prints one line per case: `CASE ok V0 V1 ...` (the output floats), `CASE cuda_error
// MESSAGE` (a launch or runtime error the emulator raised) or `CASE invalid_argument
// MESSAGE` (no such case); exits 0 once every case has run.
#include <cuda_runtime.h>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace cuda_emu_selftest {

namespace {

// A failed CUDA call: "CUDA error N (name: description) in expr", as benchsuite's checks say it.
struct CudaFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void check(cudaError_t err, const char* expr) {
  if (err == cudaSuccess) return;
  cudaGetLastError();  // clear non-sticky errors so the next case is not blamed
  throw CudaFailure("CUDA error " + std::to_string(static_cast<int>(err)) + " (" + cudaGetErrorName(err) + ": " +
                    cudaGetErrorString(err) + ") in " + expr);
}
#define SELFTEST_CHECK(expr) check((expr), #expr)
#define SELFTEST_CHECK_LAUNCH() SELFTEST_CHECK(cudaGetLastError())

constexpr int kThreads = 64;

// Each thread stores to shared memory and reads its neighbour's slot.
template <bool kSync>
__global__ void neighbour_kernel(float* out) {
  __shared__ float slots[kThreads];
  slots[threadIdx.x] = static_cast<float>(threadIdx.x + 1);
  if (kSync) __syncthreads();
  out[threadIdx.x] = slots[(threadIdx.x + 1) % kThreads];
}

// Reads past the end of `in` (kThreads - 1 floats) from the last threads: the last one
// beyond the 256-byte padding, into the guard page.
__global__ void past_the_end_kernel(const float* in, float* out) { out[threadIdx.x] = in[threadIdx.x + 1]; }

// Writes the element just past the end of `out` (kThreads - 1 floats): inside the padding.
__global__ void write_past_the_end_kernel(float* out) {
  if (threadIdx.x == 0) out[kThreads - 1] = 1.0f;
}

// Lane 0 waits at a warp exchange for lanes that wait at __syncthreads for lane 0.
__global__ void deadlock_kernel(float* out) {
  if (threadIdx.x == 0)
    out[0] = __shfl_sync(0xffffffffu, 1.0f, 0);
  else
    __syncthreads();
}

// Full-warp and 8-lane segmented butterfly sums, and a shift down by one.
__global__ void shuffle_kernel(float* out) {
  float full = static_cast<float>(threadIdx.x), seg = full;
  for (int off = 16; off > 0; off >>= 1) full += __shfl_xor_sync(0xffffffffu, full, off);
  const unsigned group = 0xffu << (threadIdx.x & ~7u);
  for (int off = 4; off > 0; off >>= 1) seg += __shfl_xor_sync(group, seg, off, 8);
  const float down = __shfl_down_sync(0xffffffffu, static_cast<float>(threadIdx.x), 1);
  out[threadIdx.x] = full;
  out[32 + threadIdx.x] = seg;
  out[64 + threadIdx.x] = down;
}

// 16-byte cp.async copies of `in` into shared memory (the emulator's cp.async, which a
// kernel reaches through its PTX wrappers), read back with or without the wait.
template <bool kWait>
__global__ void cp_async_kernel(const float* in, float* out) {
  __shared__ __align__(16) float tile[kThreads];
  if (threadIdx.x < kThreads / 4) ::emu::cp_async16(tile + 4 * threadIdx.x, in + 4 * threadIdx.x);
  ::emu::cp_async_commit();
  if (kWait) ::emu::cp_async_wait(0);
  __syncthreads();
  out[threadIdx.x] = tile[threadIdx.x];
}

// Touches its dynamic shared memory (64 KiB, over the 48 KiB default). Two instances: the
// attribute is set on one only (it stays set for the process).
template <int kInstance>
__global__ void big_smem_kernel(float* out) {
  extern __shared__ float dyn[];
  dyn[threadIdx.x] = 2.0f;
  __syncthreads();
  out[threadIdx.x] = dyn[(threadIdx.x + 1) % kThreads];
}

// 40 KiB of static shared memory beside 190 KiB of dynamic: 230 KiB, over a block's 227.
__global__ void too_much_smem_kernel(float* out) {
  __shared__ float fixed[10 * 1024];
  extern __shared__ float dyn[];
  fixed[threadIdx.x] = 1.0f;
  dyn[threadIdx.x] = fixed[threadIdx.x];
  out[threadIdx.x] = dyn[threadIdx.x];
}
constexpr int kTooMuchDynamic = 190 * 1024;

struct Buffers {
  float* in = nullptr;
  float* out = nullptr;
  Buffers() {
    SELFTEST_CHECK(cudaMalloc(&in, kThreads * sizeof(float) - 4));  // one float short: padding after it
    SELFTEST_CHECK(cudaMalloc(&out, 3 * 32 * sizeof(float)));
    std::vector<float> host(kThreads - 1);
    for (int i = 0; i < kThreads - 1; ++i) host[i] = 0.5f + static_cast<float>(i);
    SELFTEST_CHECK(cudaMemcpy(in, host.data(), sizeof(float) * host.size(), cudaMemcpyHostToDevice));
  }
  ~Buffers() {
    cudaFree(in);
    cudaFree(out);
  }
  std::vector<float> result(int n) const {
    std::vector<float> host(n);
    SELFTEST_CHECK(cudaMemcpy(host.data(), out, sizeof(float) * n, cudaMemcpyDeviceToHost));
    return host;
  }
};

constexpr int kBigSmem = 64 * 1024;

const std::map<std::string, std::function<std::vector<float>(Buffers&)>>& cases() {
  static const std::map<std::string, std::function<std::vector<float>(Buffers&)>> table = {
      {"barrier", [](Buffers& b) { neighbour_kernel<true><<<1, kThreads>>>(b.out); SELFTEST_CHECK_LAUNCH(); return b.result(kThreads); }},
      {"missing_barrier", [](Buffers& b) { neighbour_kernel<false><<<1, kThreads>>>(b.out); SELFTEST_CHECK_LAUNCH(); return b.result(kThreads); }},
      {"past_the_end", [](Buffers& b) { past_the_end_kernel<<<1, kThreads>>>(b.in, b.out); SELFTEST_CHECK_LAUNCH(); return b.result(kThreads); }},
      {"write_past_the_end", [](Buffers& b) { write_past_the_end_kernel<<<1, kThreads>>>(b.in); SELFTEST_CHECK_LAUNCH(); return b.result(1); }},
      {"deadlock", [](Buffers& b) { deadlock_kernel<<<1, kThreads>>>(b.out); SELFTEST_CHECK_LAUNCH(); return b.result(1); }},
      {"shuffle", [](Buffers& b) { shuffle_kernel<<<1, 32>>>(b.out); SELFTEST_CHECK_LAUNCH(); return b.result(96); }},
      {"cp_async", [](Buffers& b) { cp_async_kernel<true><<<1, kThreads>>>(b.in, b.out); SELFTEST_CHECK_LAUNCH(); return b.result(kThreads); }},
      {"cp_async_no_wait", [](Buffers& b) { cp_async_kernel<false><<<1, kThreads>>>(b.in, b.out); SELFTEST_CHECK_LAUNCH(); return b.result(kThreads); }},
      {"big_smem_without_attribute", [](Buffers& b) { big_smem_kernel<0><<<1, kThreads, kBigSmem>>>(b.out); SELFTEST_CHECK_LAUNCH(); return b.result(kThreads); }},
      {"big_smem", [](Buffers& b) {
         SELFTEST_CHECK(
             cudaFuncSetAttribute(big_smem_kernel<1>, cudaFuncAttributeMaxDynamicSharedMemorySize, kBigSmem));
         big_smem_kernel<1><<<1, kThreads, kBigSmem>>>(b.out);
         SELFTEST_CHECK_LAUNCH();
         return b.result(kThreads);
       }},
      {"static_plus_dynamic_smem", [](Buffers& b) {
         SELFTEST_CHECK(cudaFuncSetAttribute(too_much_smem_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                                    kTooMuchDynamic));
         too_much_smem_kernel<<<1, kThreads, kTooMuchDynamic>>>(b.out);
         SELFTEST_CHECK_LAUNCH();
         return b.result(kThreads);
       }},
      {"block_too_large", [](Buffers& b) { neighbour_kernel<true><<<1, 2048>>>(b.out); SELFTEST_CHECK_LAUNCH(); return b.result(1); }},
  };
  return table;
}

std::vector<std::string> case_names() {
  std::vector<std::string> names;
  for (const auto& entry : cases()) names.push_back(entry.first);
  return names;
}

std::vector<float> run(const std::string& name) {
  auto found = cases().find(name);
  if (found == cases().end()) throw std::invalid_argument("emulator self-test: name=" + name + " is not a case");
  Buffers buffers;
  return found->second(buffers);
}

}  // namespace

}  // namespace cuda_emu_selftest

int main(int argc, char** argv) {
  using namespace cuda_emu_selftest;
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CASE... | --list\n", argv[0]);
    return 2;
  }
  if (std::string(argv[1]) == "--list") {
    for (const std::string& name : case_names()) std::printf("%s\n", name.c_str());
    return 0;
  }
  for (int i = 1; i < argc; ++i) {
    std::string line = argv[i];
    try {
      line += " ok";
      char value[32];
      for (float v : run(argv[i])) {
        std::snprintf(value, sizeof value, " %.9g", v);
        line += value;
      }
    } catch (const CudaFailure& e) {
      line = std::string(argv[i]) + " cuda_error " + e.what();
    } catch (const std::invalid_argument& e) {
      line = std::string(argv[i]) + " invalid_argument " + e.what();
    }
    for (char& c : line)
      if (c == '\n') c = ' ';  // one line per case
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  }
  return 0;
}
