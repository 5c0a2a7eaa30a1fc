// The CUDA emulator (a test build, never a measurement build): our .cu kernels compiled as
// host C++ and run on the CPU, each block's threads as fibers that switch only at barriers
// (__syncthreads, warp shuffles, __syncwarp, ldmatrix, mma). CI has nvcc but no GPU; with
// this build (cmake -DBENCHSUITE_CUDA_EMULATOR=ON) every CUDA kernel runs against its CPU
// reference there, so indexing, synchronisation and fragment-layout mistakes surface
// before a GPU session does.
//
// This header is force-included into every translated .cu (tools/cuda_emu/translate.py
// rewrites `k<<<cfg>>>(args)` into `::emu::launch(...)` and `extern __shared__` arrays into
// the block's dynamic shared memory). Semantics kept from the hardware where they catch
// bugs: a block barrier waits for every live thread; threads run one after another
// between barriers, so a missing __syncthreads reads stale data; cp.async copies land only
// at cp.async.wait_group; dynamic shared memory over 48 KiB needs cudaFuncSetAttribute;
// the block size is checked; device allocations end at a guard page (an out-of-bounds read
// past an allocation becomes a launch error naming the kernel and the address).
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>

// ---- qualifiers: plain C++ -----------------------------------------------------------------
#undef __global__
#define __global__
#undef __device__
#define __device__
#undef __host__
#define __host__
#undef __forceinline__
#define __forceinline__ inline
#undef __noinline__
#define __noinline__
#undef __launch_bounds__
#define __launch_bounds__(...)
#undef __constant__
#define __constant__
// A block's threads all run on one host thread, so a function-local static is one object
// shared by the block, as shared memory is (blocks run one after another).
#undef __shared__
#define __shared__ static

#ifndef BENCHSUITE_CUDA_EMU
#define BENCHSUITE_CUDA_EMU 1
#endif

namespace emu {

// ---- the running thread ----------------------------------------------------------------------
struct ThreadIndex {
  uint3 thread_idx;
  uint3 block_idx;
  dim3 block_dim;
  dim3 grid_dim;
  int linear;  // thread index within the block
};
extern const ThreadIndex* running_index;  // the running fiber's (launches run one at a time)

void block_barrier();                                 // __syncthreads
void warp_barrier(unsigned mask);                     // __syncwarp
// Every lane of `mask` posts a value; once all have, each sees all of them through the view
// (valid until this lane's next warp exchange with the same mask).
const unsigned char* warp_exchange(const void* mine, size_t bytes, unsigned mask);
constexpr size_t kWarpSlotBytes = 64;
[[noreturn]] void trap(const char* why);              // ends the launch with an error
long long clock_cycles();                             // clock64 at the emulated SM clock
unsigned long long global_timer_ns();
void cp_async16(void* dst, const void* src);
void cp_async_commit();
void cp_async_wait(int pending);

inline int lane_id() { return running_index->linear & 31; }

// The values the lanes posted in one exchange.
template <class T>
class WarpView {
 public:
  explicit WarpView(const unsigned char* slots) : slots_(slots) {}
  T operator[](int lane) const {
    T v;
    std::memcpy(&v, slots_ + lane * kWarpSlotBytes, sizeof v);
    return v;
  }
  // In place, for large values read piecemeal (slots are 16-byte aligned; the emulator's
  // translation units are built with -fno-strict-aliasing).
  const T& at(int lane) const { return *reinterpret_cast<const T*>(slots_ + lane * kWarpSlotBytes); }

 private:
  const unsigned char* slots_;
};

template <class T>
inline WarpView<T> exchange(const T& mine, unsigned mask = 0xffffffffu) {
  static_assert(std::is_trivially_copyable<T>::value, "warp values are copied bytewise");
  static_assert(sizeof(T) <= kWarpSlotBytes, "warp exchange slots hold 64 bytes");
  return WarpView<T>(warp_exchange(&mine, sizeof(T), mask));
}

// ---- launches -------------------------------------------------------------------------------------
struct LaunchConfig {
  dim3 grid, block;
  size_t dynamic_smem;
  cudaStream_t stream;
  LaunchConfig(dim3 g, dim3 b, size_t smem = 0, cudaStream_t s = nullptr)
      : grid(g), block(b), dynamic_smem(smem), stream(s) {}
};
// Runs (or, on a capturing stream, records) `body` once per thread of every block.
void launch_erased(const char* name, const void* kernel, const LaunchConfig& config, std::function<void()> body);
void* dynamic_smem();  // this block's dynamic shared memory
void poison_shared(void* address, size_t bytes);  // 0xFF once per block (the translator adds the calls)

template <class Kernel, class... Args>
void launch(const char* name, Kernel kernel, const LaunchConfig& config, Args&&... args) {
  // Arguments are copied at launch, as the hardware copies them into the parameter space.
  auto params = std::make_tuple(std::decay_t<Args>(std::forward<Args>(args))...);
  launch_erased(name, reinterpret_cast<const void*>(kernel), config,
                [kernel, params]() { std::apply(kernel, params); });
}

// ---- tensor-core fragments (PTX ISA layouts) -----------------------------------------------------
template <class T>
inline T bit_cast(const void* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

template <class T>
inline float bits_to_float(uint16_t bits);
template <>
inline float bits_to_float<__half>(uint16_t bits) {
  __half_raw raw;
  raw.x = bits;
  return __half2float(__half(raw));
}
template <>
inline float bits_to_float<__nv_bfloat16>(uint16_t bits) {
  const uint32_t wide = static_cast<uint32_t>(bits) << 16;  // bf16 is the high half of a float
  return bit_cast<float>(&wide);
}

// ldmatrix.sync.aligned.m8n8.x4[.trans].shared.b16: lanes 8i..8i+7 give the rows of matrix
// i; lane l receives, of matrix i (transposed with .trans), row l/4, columns 2(l%4), +1.
inline void ldmatrix_x4(uint32_t (&r)[4], const void* row_address, bool trans) {
  const WarpView<const void*> rows = exchange(row_address);
  const int lane = lane_id(), g = lane / 4, t = lane % 4;
  for (int i = 0; i < 4; ++i) {
    uint16_t lo, hi;
    if (!trans) {
      const uint16_t* row = static_cast<const uint16_t*>(rows[8 * i + g]);
      lo = row[2 * t];
      hi = row[2 * t + 1];
    } else {
      lo = static_cast<const uint16_t*>(rows[8 * i + 2 * t])[g];
      hi = static_cast<const uint16_t*>(rows[8 * i + 2 * t + 1])[g];
    }
    r[i] = static_cast<uint32_t>(lo) | (static_cast<uint32_t>(hi) << 16);
  }
}

// mma.sync.aligned.m16n8k16.row.col.f32.{f16,bf16}: d (16x8, fp32) += a (16x16) b (16x8).
// Lane l = 4g + t holds a0 = A[g][2t..2t+1], a1 = A[g+8][2t..], a2 = A[g][2t+8..],
// a3 = A[g+8][2t+8..], b0 = B[2t..2t+1][g], b1 = B[2t+8..2t+9][g] and d = D[g][2t..2t+1],
// D[g+8][2t..2t+1]. Each lane reads the rows and columns its outputs need from the others.
template <class T>
inline void mma_16816(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  struct Fragments {
    uint32_t a[4], b[2];
  };
  const WarpView<Fragments> all = exchange(Fragments{{a[0], a[1], a[2], a[3]}, {b0, b1}});
  const int lane = lane_id(), g = lane / 4, t = lane % 4;
  auto half_of = [](uint32_t reg, int k) { return static_cast<uint16_t>(reg >> (16 * (k % 2))); };
  float a_rows[2][16], b_cols[2][16];
  for (int k = 0; k < 16; ++k) {
    const int hi = k >= 8, owner = (k % 8) / 2;  // lane 4r + owner holds row r's columns k, k^1
    const Fragments row_lane = all[4 * g + owner];
    a_rows[0][k] = bits_to_float<T>(half_of(row_lane.a[hi ? 2 : 0], k));
    a_rows[1][k] = bits_to_float<T>(half_of(row_lane.a[hi ? 3 : 1], k));
    for (int j = 0; j < 2; ++j)  // column 2t + j of B lives in the lanes of group 2t + j
      b_cols[j][k] = bits_to_float<T>(half_of(all[4 * (2 * t + j) + owner].b[hi], k));
  }
  for (int i = 0; i < 4; ++i) {
    const float* row = a_rows[i / 2];
    const float* col = b_cols[i % 2];
    float acc = d[i];
    for (int k = 0; k < 16; ++k) acc = std::fma(row[k], col[k], acc);
    d[i] = acc;
  }
}


}  // namespace emu

// The runtime's C++ overload (declared for nvcc only): a kernel is named by its address.
template <class T>
inline cudaError_t cudaFuncSetAttribute(T* entry, cudaFuncAttribute attr, int value) {
  return ::cudaFuncSetAttribute(reinterpret_cast<const void*>(entry), attr, value);
}

// ---- built-in variables ----------------------------------------------------------------------------
#define threadIdx (::emu::running_index->thread_idx)
#define blockIdx (::emu::running_index->block_idx)
#define blockDim (::emu::running_index->block_dim)
#define gridDim (::emu::running_index->grid_dim)
#ifndef warpSize
#define warpSize 32
#endif

// ---- synchronisation and warp exchange -------------------------------------------------------------
inline void __syncthreads() { ::emu::block_barrier(); }
inline void __syncwarp(unsigned mask = 0xffffffffu) { ::emu::warp_barrier(mask); }
[[noreturn]] inline void __trap() { ::emu::trap("__trap() called"); }

namespace emu::detail {
inline int shfl_source(int lane, int src, int width) {  // CUDA: within the lane's width-wide segment
  const int base = lane & ~(width - 1);
  return base + (src & (width - 1));
}
}  // namespace emu::detail

template <class T>
inline T __shfl_sync(unsigned mask, T v, int src_lane, int width = 32) {
  return ::emu::exchange(v, mask)[::emu::detail::shfl_source(::emu::lane_id(), src_lane, width)];
}
template <class T>
inline T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32) {
  const auto all = ::emu::exchange(v, mask);
  const int lane = ::emu::lane_id(), src = lane ^ lane_mask;
  return (src & ~(width - 1)) == (lane & ~(width - 1)) ? all[src] : v;
}
template <class T>
inline T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32) {
  const auto all = ::emu::exchange(v, mask);
  const int lane = ::emu::lane_id(), src = lane + static_cast<int>(delta);
  return (src & ~(width - 1)) == (lane & ~(width - 1)) ? all[src] : v;
}
template <class T>
inline T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32) {
  const auto all = ::emu::exchange(v, mask);
  const int lane = ::emu::lane_id(), src = lane - static_cast<int>(delta);
  return src >= 0 && (src & ~(width - 1)) == (lane & ~(width - 1)) ? all[src] : v;
}
inline unsigned __ballot_sync(unsigned mask, int predicate) {
  const auto all = ::emu::exchange(predicate, mask);
  unsigned bits = 0;
  for (int l = 0; l < 32; ++l)
    if ((mask >> l & 1u) && all[l]) bits |= 1u << l;
  return bits;
}

// ---- atomics (blocks may one day run on several host threads: these are real atomics) -------------
template <class T>
inline T emu_atomic_add(T* address, T value) {
  if constexpr (std::is_integral<T>::value) {
    return __atomic_fetch_add(address, value, __ATOMIC_RELAXED);
  } else {
    using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
    Bits* bits = reinterpret_cast<Bits*>(address);
    Bits expected = __atomic_load_n(bits, __ATOMIC_RELAXED), desired;
    T old;
    do {
      old = ::emu::bit_cast<T>(&expected);
      const T sum = old + value;
      std::memcpy(&desired, &sum, sizeof desired);
    } while (!__atomic_compare_exchange_n(bits, &expected, desired, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    return old;
  }
}
inline float atomicAdd(float* a, float v) { return emu_atomic_add(a, v); }
inline double atomicAdd(double* a, double v) { return emu_atomic_add(a, v); }
inline int atomicAdd(int* a, int v) { return emu_atomic_add(a, v); }
inline unsigned atomicAdd(unsigned* a, unsigned v) { return emu_atomic_add(a, v); }
inline unsigned long long atomicAdd(unsigned long long* a, unsigned long long v) { return emu_atomic_add(a, v); }

// ---- device intrinsics ---------------------------------------------------------------------------------
template <class T>
inline T __ldg(const T* p) { return *p; }
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline long long clock64() { return ::emu::clock_cycles(); }
inline float __int_as_float(int v) { return ::emu::bit_cast<float>(&v); }
inline int __float_as_int(float v) { return ::emu::bit_cast<int>(&v); }
inline float __uint_as_float(unsigned v) { return ::emu::bit_cast<float>(&v); }
inline unsigned __float_as_uint(float v) { return ::emu::bit_cast<unsigned>(&v); }
inline size_t __cvta_generic_to_shared(const void* p) { return reinterpret_cast<size_t>(p); }

// CUDA's device code has overloaded min/max for every arithmetic pair; the host has only std's.
template <class A, class B, class = std::enable_if_t<std::is_arithmetic<A>::value && std::is_arithmetic<B>::value>>
inline std::common_type_t<A, B> min(A a, B b) {
  using C = std::common_type_t<A, B>;
  return static_cast<C>(a) < static_cast<C>(b) ? static_cast<C>(a) : static_cast<C>(b);
}
template <class A, class B, class = std::enable_if_t<std::is_arithmetic<A>::value && std::is_arithmetic<B>::value>>
inline std::common_type_t<A, B> max(A a, B b) {
  using C = std::common_type_t<A, B>;
  return static_cast<C>(a) < static_cast<C>(b) ? static_cast<C>(b) : static_cast<C>(a);
}
