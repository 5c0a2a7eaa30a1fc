// CPU manipulation kernels: transpose, strided copy and concat, for any element size.
// Elements are moved as unsigned words of their size (uint8/16/32/64), never as floats,
// so NaN payloads and integer bit patterns survive unchanged.
#include "ops/manipulation/manipulation.h"

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/parallel.h"
#include "ops/memory/memory.h"  // copy_bytes

#ifdef _OPENMP
#include <omp.h>
#endif

namespace benchsuite::cpu {

namespace {
constexpr int64_t kTile = 32;
constexpr int64_t kParallelBytes = int64_t{1} << 16;  // below this, threads cost more than they save

using parallel::team_size;
using parallel::thread_id;
int thread_count() { return parallel::max_threads(); }

// Calls f(T{}) with T the unsigned word of `elem_size` bytes.
template <class F>
void with_word(size_t elem_size, F&& f) {
  switch (elem_size) {
    case 1: f(uint8_t{}); return;
    case 2: f(uint16_t{}); return;
    case 4: f(uint32_t{}); return;
    case 8: f(uint64_t{}); return;
    default: break;
  }
  BENCHSUITE_CHECK(false, "manipulation kernels: element size ", elem_size, " is not 1, 2, 4 or 8 bytes");
}

int64_t product(const int64_t* shape, int64_t ndim) {
  int64_t n = 1;
  for (int64_t d = 0; d < ndim; ++d) n *= shape[d];
  return n;
}

// Source offset (elements) of row-major linear index `linear` over dims [0, ndim).
int64_t offset_of(int64_t linear, const int64_t* shape, const int64_t* strides, int64_t ndim) {
  int64_t offset = 0;
  for (int64_t d = ndim - 1; d >= 0; --d) {
    offset += (linear % shape[d]) * strides[d];
    linear /= shape[d];
  }
  return offset;
}
}  // namespace

// ---- transpose ---------------------------------------------------------------------------
void transpose_reference(const void* x, void* y, int64_t batch, int64_t rows, int64_t cols, size_t elem_size) {
  with_word(elem_size, [&](auto word) {
    using T = decltype(word);
    const T* xs = static_cast<const T*>(x);
    T* ys = static_cast<T*>(y);
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) ys[b * rows * cols + c * rows + r] = xs[b * rows * cols + r * cols + c];
  });
}

void transpose_blocked(const void* x, void* y, int64_t batch, int64_t rows, int64_t cols, size_t elem_size) {
  const int64_t n = batch * rows * cols;
  if (n == 0) return;
  if (rows == 1 || cols == 1) {  // the same bytes in the same order
    copy_bytes(y, x, static_cast<size_t>(n) * elem_size);
    return;
  }
  const int64_t tile_rows = (rows + kTile - 1) / kTile, tile_cols = (cols + kTile - 1) / kTile;
  const int64_t per_matrix = tile_rows * tile_cols, tiles = batch * per_matrix;
  const bool parallel = n * static_cast<int64_t>(elem_size) > kParallelBytes;
  with_word(elem_size, [&](auto word) {
    using T = decltype(word);
    const T* xs = static_cast<const T*>(x);
    T* ys = static_cast<T*>(y);
#pragma omp parallel for schedule(static) if (parallel)
    for (int64_t t = 0; t < tiles; ++t) {
      const int64_t b = t / per_matrix, in_matrix = t % per_matrix;
      const int64_t r0 = (in_matrix / tile_cols) * kTile, c0 = (in_matrix % tile_cols) * kTile;
      const int64_t r1 = std::min(r0 + kTile, rows), c1 = std::min(c0 + kTile, cols);
      const T* xb = xs + b * rows * cols;
      T* yb = ys + b * rows * cols;
      for (int64_t c = c0; c < c1; ++c)
        for (int64_t r = r0; r < r1; ++r) yb[c * rows + r] = xb[r * cols + c];
    }
  });
}

// ---- strided copy ------------------------------------------------------------------------
void strided_copy_reference(const void* src, void* dst, const int64_t* shape, const int64_t* strides, int64_t ndim,
                            size_t elem_size) {
  const int64_t n = product(shape, ndim);
  with_word(elem_size, [&](auto word) {
    using T = decltype(word);
    const T* s = static_cast<const T*>(src);
    T* d = static_cast<T*>(dst);
    for (int64_t i = 0; i < n; ++i) d[i] = s[offset_of(i, shape, strides, ndim)];
  });
}

void strided_copy_fast(const void* src, void* dst, const int64_t* shape, const int64_t* strides, int64_t ndim,
                       size_t elem_size) {
  const int64_t n = product(shape, ndim);
  if (n == 0) return;
  if (ndim == 0) {
    std::memcpy(dst, src, elem_size);
    return;
  }
  const bool parallel = n * static_cast<int64_t>(elem_size) > kParallelBytes;
  const int64_t inner = shape[ndim - 1], inner_stride = strides[ndim - 1];
  const char* s = static_cast<const char*>(src);
  char* d = static_cast<char*>(dst);
  const int64_t elem = static_cast<int64_t>(elem_size);

  if (inner_stride == 1) {  // rows of `inner` contiguous elements: one memcpy each
    const int64_t run = inner * elem, outer = n / inner, outer_dims = ndim - 1;
    if (outer == 1) {
      copy_bytes(dst, src, static_cast<size_t>(run));
      return;
    }
#pragma omp parallel if (parallel)
    {
      // Each thread takes a contiguous block of rows and walks the outer index like an
      // odometer, so no row pays for a division per dimension.
      const int64_t threads = team_size(), id = thread_id();
      const int64_t begin = outer * id / threads, end = outer * (id + 1) / threads;
      if (begin < end) {
        std::vector<int64_t> index(static_cast<size_t>(outer_dims));
        int64_t rest = begin, offset = 0;
        for (int64_t k = outer_dims - 1; k >= 0; --k) {
          index[k] = rest % shape[k];
          rest /= shape[k];
          offset += index[k] * strides[k];
        }
        for (int64_t o = begin; o < end; ++o) {
          std::memcpy(d + o * run, s + offset * elem, static_cast<size_t>(run));
          for (int64_t k = outer_dims - 1; k >= 0; --k) {
            offset += strides[k];
            if (++index[k] < shape[k]) break;
            offset -= strides[k] * shape[k];
            index[k] = 0;
          }
        }
      }
    }
    return;
  }

  with_word(elem_size, [&](auto word) {
    using T = decltype(word);
    const T* st = reinterpret_cast<const T*>(s);
    T* dt = reinterpret_cast<T*>(d);
    if (ndim == 1) {
#pragma omp parallel for schedule(static) if (parallel)
      for (int64_t i = 0; i < n; ++i) dt[i] = st[i * inner_stride];
      return;
    }
    // Tiles over the last two dims: with a transposed view (row stride 1) each tile's 32
    // source columns are 32 cache lines read whole across the tile's rows.
    const int64_t rows = shape[ndim - 2], row_stride = strides[ndim - 2], cols = inner;
    const int64_t tile_rows = (rows + kTile - 1) / kTile, tile_cols = (cols + kTile - 1) / kTile;
    const int64_t per_matrix = tile_rows * tile_cols, tiles = (n / (rows * cols)) * per_matrix;
#pragma omp parallel for schedule(static) if (parallel)
    for (int64_t t = 0; t < tiles; ++t) {
      const int64_t o = t / per_matrix, in_matrix = t % per_matrix;
      const int64_t r0 = (in_matrix / tile_cols) * kTile, c0 = (in_matrix % tile_cols) * kTile;
      const int64_t r1 = std::min(r0 + kTile, rows), c1 = std::min(c0 + kTile, cols);
      const T* sb = st + offset_of(o, shape, strides, ndim - 2);
      T* db = dt + o * rows * cols;
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t c = c0; c < c1; ++c) db[r * cols + c] = sb[r * row_stride + c * inner_stride];
    }
  });
}

// ---- concat ------------------------------------------------------------------------------
void concat_reference(const void* const* inputs, const int64_t* widths, const int64_t* offsets, int64_t count,
                      void* out, int64_t outer, int64_t total, size_t elem_size) {
  with_word(elem_size, [&](auto word) {
    using T = decltype(word);
    T* o = static_cast<T*>(out);
    for (int64_t i = 0; i < count; ++i) {
      const T* in = static_cast<const T*>(inputs[i]);
      for (int64_t r = 0; r < outer; ++r)
        for (int64_t c = 0; c < widths[i]; ++c) o[r * total + offsets[i] + c] = in[r * widths[i] + c];
    }
  });
}

void concat_runs(const void* const* inputs, const int64_t* widths, const int64_t* offsets, int64_t count, void* out,
                 int64_t outer, int64_t total, size_t elem_size) {
  if (outer == 0 || total == 0) return;
  const int64_t elem = static_cast<int64_t>(elem_size);
  char* o = static_cast<char*>(out);
  auto run = [&](int64_t r, int64_t i) -> std::pair<char*, const char*> {
    return {o + (r * total + offsets[i]) * elem, static_cast<const char*>(inputs[i]) + r * widths[i] * elem};
  };
  if (outer >= thread_count()) {
    const bool parallel = outer * total * elem > kParallelBytes;
#pragma omp parallel for schedule(static) if (parallel)
    for (int64_t r = 0; r < outer; ++r)
      for (int64_t i = 0; i < count; ++i) {
        if (widths[i] == 0) continue;
        auto [to, from] = run(r, i);
        std::memcpy(to, from, static_cast<size_t>(widths[i] * elem));
      }
    return;
  }
  // Few, long runs (e.g. concat along dim 0): split each run over the threads instead.
  for (int64_t r = 0; r < outer; ++r)
    for (int64_t i = 0; i < count; ++i) {
      if (widths[i] == 0) continue;
      auto [to, from] = run(r, i);
      copy_bytes(to, from, static_cast<size_t>(widths[i] * elem));
    }
}

}  // namespace benchsuite::cpu
