// 16-bit tensors through the fp32 CPU kernels: storage in float16/bfloat16, math in fp32.
// Rows are widened into fp32 scratch a block at a time, the fp32 kernel runs on the
// block, and its outputs are rounded back (to nearest even). float32 inputs and outputs
// (and the fp32 statistics of the norms) are used in place, never copied.
//
// parallel: each OpenMP thread takes whole blocks with its own scratch, so a block is
// converted, computed and written back while it is still in that core's cache; the fp32
// kernel called inside runs on that one thread (a nested region is inactive).
// Not parallel (the references): one block holding every row, one thread.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/dtype.h"
#include "core/float_convert.h"
#include "core/parallel.h"

namespace benchsuite::ops::fp32 {

// A [rows, per_row] operand.
struct In {
  const void* data;
  DType dtype;
  int64_t per_row;
};
struct Out {
  void* data;
  DType dtype;
  int64_t per_row;
};

// Elements of the widest operand per block (per thread): 16K floats = 64 KiB, so the
// scratch of a two-input op stays in L2 while the kernel works on it.
constexpr int64_t kBlockElements = 16384;

inline const char* offset(const void* p, DType dtype, int64_t elements) {
  return static_cast<const char*>(p) + elements * static_cast<int64_t>(dtype_size(dtype));
}

// fn(row0, block_rows, const float* const* in, float* const* out): in[i] / out[j] point
// at the block's first row of operand i / j, as fp32.
template <size_t kIn, size_t kOut, class Fn>
void row_blocks(int64_t rows, const In (&ins)[kIn], const Out (&outs)[kOut], bool parallel, Fn&& fn) {
  if (rows <= 0) return;
  int64_t widest = 1;
  for (const In& i : ins) widest = std::max(widest, i.per_row);
  for (const Out& o : outs) widest = std::max(widest, o.per_row);
  const int64_t block = parallel ? std::max<int64_t>(1, kBlockElements / widest) : rows;
  const int64_t blocks = (rows + block - 1) / block;
  int64_t scratch_per_row = 0;
  for (const In& i : ins) scratch_per_row += i.dtype == DType::float32 ? 0 : i.per_row;
  for (const Out& o : outs) scratch_per_row += o.dtype == DType::float32 ? 0 : o.per_row;
  const int64_t scratch_rows = std::min(block, rows);
#pragma omp parallel if (parallel && blocks > 1 && rows * widest > (1 << 15))
  {
    std::vector<float> scratch(static_cast<size_t>(scratch_rows * scratch_per_row));
    const float* in_ptr[kIn > 0 ? kIn : 1];
    float* out_ptr[kOut > 0 ? kOut : 1];
#pragma omp for schedule(static)
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t r0 = b * block, n = std::min(block, rows - r0);
      float* next = scratch.data();
      for (size_t i = 0; i < kIn; ++i) {
        const In& in = ins[i];
        const void* src = offset(in.data, in.dtype, r0 * in.per_row);
        if (in.dtype == DType::float32) {
          in_ptr[i] = static_cast<const float*>(src);
        } else {
          cpu::widen_to_f32(src, in.dtype, next, n * in.per_row);
          in_ptr[i] = next;
          next += scratch_rows * in.per_row;
        }
      }
      for (size_t o = 0; o < kOut; ++o) {
        const Out& out = outs[o];
        if (out.dtype == DType::float32) {
          out_ptr[o] = const_cast<float*>(reinterpret_cast<const float*>(offset(out.data, out.dtype, r0 * out.per_row)));
        } else {
          out_ptr[o] = next;
          next += scratch_rows * out.per_row;
        }
      }
      fn(r0, n, in_ptr, out_ptr);
      for (size_t o = 0; o < kOut; ++o) {
        const Out& out = outs[o];
        if (out.dtype != DType::float32)
          cpu::narrow_from_f32(out_ptr[o], const_cast<char*>(offset(out.data, out.dtype, r0 * out.per_row)), out.dtype,
                               n * out.per_row);
      }
    }
  }
}

// A whole small operand (gamma, beta, a broadcast row) widened once.
inline std::vector<float> widened(const void* data, DType dtype, int64_t n) {
  std::vector<float> out(static_cast<size_t>(std::max<int64_t>(n, 0)));
  cpu::widen_to_f32(data, dtype, out.data(), n);
  return out;
}

// Elementwise kernels over whole tensors (every element its own "row"): float32 in place,
// float16/bfloat16 through blocks. parallel=false (the references): one block, one thread.
template <class Kernel>  // kernel(const float* x, float* y, int64_t n)
void unary_elements(const void* x, const void* y, DType dtype, int64_t numel, bool parallel, Kernel&& kernel) {
  if (dtype == DType::float32)
    return kernel(static_cast<const float*>(x), static_cast<float*>(const_cast<void*>(y)), numel);
  const In ins[] = {{x, dtype, 1}};
  const Out outs[] = {{const_cast<void*>(y), dtype, 1}};
  row_blocks(numel, ins, outs, parallel,
             [&](int64_t, int64_t n, const float* const* in, float* const* out) { kernel(in[0], out[0], n); });
}
template <class Kernel>  // kernel(const float* a, const float* b, float* out, int64_t n)
void binary_elements(const void* a, const void* b, const void* out, DType dtype, int64_t numel, bool parallel,
                     Kernel&& kernel) {
  if (dtype == DType::float32)
    return kernel(static_cast<const float*>(a), static_cast<const float*>(b),
                  static_cast<float*>(const_cast<void*>(out)), numel);
  const In ins[] = {{a, dtype, 1}, {b, dtype, 1}};
  const Out outs[] = {{const_cast<void*>(out), dtype, 1}};
  row_blocks(numel, ins, outs, parallel, [&](int64_t, int64_t n, const float* const* in, float* const* o) {
    kernel(in[0], in[1], o[0], n);
  });
}

}  // namespace benchsuite::ops::fp32
