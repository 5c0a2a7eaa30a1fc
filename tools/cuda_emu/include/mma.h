// The emulator's <mma.h>: nvcuda::wmma with warp-distributed fragments. Lane l holds the
// elements l, l + 32, l + 64, ... of the tile in row-major order (CUDA leaves the mapping
// opaque, so code that only loads, fills, multiplies and stores computes the same result,
// and per-element access touches this lane's share, num_elements of them, as on the GPU).
// mma_sync is warp-collective: the lanes exchange their A and B elements, then each
// computes its own accumulator elements.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cmath>

namespace nvcuda::wmma {

struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
enum layout_t { mem_row_major, mem_col_major };

namespace detail {
template <class Use, int M, int N, int K>
struct Shape;
template <int M, int N, int K>
struct Shape<matrix_a, M, N, K> {
  static constexpr int rows = M, cols = K;
};
template <int M, int N, int K>
struct Shape<matrix_b, M, N, K> {
  static constexpr int rows = K, cols = N;
};
template <int M, int N, int K>
struct Shape<accumulator, M, N, K> {
  static constexpr int rows = M, cols = N;
};
template <class Layout>
struct IsColMajor {
  static constexpr bool value = false;
};
template <>
struct IsColMajor<col_major> {
  static constexpr bool value = true;
};
inline float to_float(float v) { return v; }
inline float to_float(__half v) { return __half2float(v); }
inline float to_float(__nv_bfloat16 v) { return __bfloat162float(v); }

// Element e of this lane: (row, column) of the tile.
template <int kCols>
inline void element_position(int e, int& row, int& col) {
  const int index = ::emu::lane_id() + 32 * e;
  row = index / kCols;
  col = index % kCols;
}
}  // namespace detail

template <class Use, int M, int N, int K, class T, class Layout = void>
struct fragment {
  static constexpr int rows = detail::Shape<Use, M, N, K>::rows;
  static constexpr int cols = detail::Shape<Use, M, N, K>::cols;
  static_assert(rows * cols % 32 == 0, "a tile spreads evenly over the warp");
  static constexpr int num_elements = rows * cols / 32;
  T x[num_elements];
};

template <class Use, int M, int N, int K, class T, class Layout, class V>
inline void fill_fragment(fragment<Use, M, N, K, T, Layout>& f, const V& value) {
  for (int i = 0; i < f.num_elements; ++i) f.x[i] = static_cast<T>(value);
}

template <class Use, int M, int N, int K, class T, class Layout>
inline void load_matrix_sync(fragment<Use, M, N, K, T, Layout>& f, const T* p, unsigned ldm) {
  using F = fragment<Use, M, N, K, T, Layout>;
  for (int e = 0; e < F::num_elements; ++e) {
    int r, c;
    detail::element_position<F::cols>(e, r, c);
    f.x[e] = detail::IsColMajor<Layout>::value ? p[c * ldm + r] : p[r * ldm + c];
  }
}

template <int M, int N, int K, class T>
inline void load_matrix_sync(fragment<accumulator, M, N, K, T>& f, const T* p, unsigned ldm, layout_t layout) {
  for (int e = 0; e < f.num_elements; ++e) {
    int r, c;
    detail::element_position<N>(e, r, c);
    f.x[e] = layout == mem_col_major ? p[c * ldm + r] : p[r * ldm + c];
  }
}

template <int M, int N, int K, class T>
inline void store_matrix_sync(T* p, const fragment<accumulator, M, N, K, T>& f, unsigned ldm, layout_t layout) {
  for (int e = 0; e < f.num_elements; ++e) {
    int r, c;
    detail::element_position<N>(e, r, c);
    (layout == mem_col_major ? p[c * ldm + r] : p[r * ldm + c]) = f.x[e];
  }
}

template <int M, int N, int K, class Tab, class LayoutA, class LayoutB, class Tc>
inline void mma_sync(fragment<accumulator, M, N, K, Tc>& d, const fragment<matrix_a, M, N, K, Tab, LayoutA>& a,
                     const fragment<matrix_b, M, N, K, Tab, LayoutB>& b,
                     const fragment<accumulator, M, N, K, Tc>& c) {
  // Each lane posts its share of A and B as floats; element (r, c) of a tile with C
  // columns is element (r C + c) / 32 of lane (r C + c) % 32.
  constexpr int kA = M * K / 32, kB = K * N / 32;
  struct Operands {
    float a[kA], b[kB];
  };
  Operands mine;
  for (int i = 0; i < kA; ++i) mine.a[i] = detail::to_float(a.x[i]);
  for (int i = 0; i < kB; ++i) mine.b[i] = detail::to_float(b.x[i]);
  const auto all = ::emu::exchange(mine);
  for (int e = 0; e < d.num_elements; ++e) {
    int i, j;
    detail::element_position<N>(e, i, j);
    float acc = detail::to_float(c.x[e]);
    for (int p = 0; p < K; ++p) {
      const int ia = i * K + p, ib = p * N + j;
      acc = std::fma(all.at(ia % 32).a[ia / 32], all.at(ib % 32).b[ib / 32], acc);
    }
    d.x[e] = static_cast<Tc>(acc);
  }
}

}  // namespace nvcuda::wmma
