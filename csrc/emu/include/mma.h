// The emulator's <mma.h>: nvcuda::wmma with each lane holding the whole tile. Fragment
// layouts are opaque in CUDA, so code that only loads, multiplies, fills and stores (as
// ours does) computes the same result; per-element fragment access sees the whole tile.
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
}  // namespace detail

template <class Use, int M, int N, int K, class T, class Layout = void>
struct fragment {
  static constexpr int rows = detail::Shape<Use, M, N, K>::rows;
  static constexpr int cols = detail::Shape<Use, M, N, K>::cols;
  static constexpr int num_elements = rows * cols;
  T x[num_elements];  // row-major, the whole tile
};

template <class Use, int M, int N, int K, class T, class Layout, class V>
inline void fill_fragment(fragment<Use, M, N, K, T, Layout>& f, const V& value) {
  for (int i = 0; i < f.num_elements; ++i) f.x[i] = static_cast<T>(value);
}

template <class Use, int M, int N, int K, class T, class Layout>
inline void load_matrix_sync(fragment<Use, M, N, K, T, Layout>& f, const T* p, unsigned ldm) {
  using F = fragment<Use, M, N, K, T, Layout>;
  for (int r = 0; r < F::rows; ++r)
    for (int c = 0; c < F::cols; ++c)
      f.x[r * F::cols + c] = detail::IsColMajor<Layout>::value ? p[c * ldm + r] : p[r * ldm + c];
}

template <int M, int N, int K, class T>
inline void load_matrix_sync(fragment<accumulator, M, N, K, T>& f, const T* p, unsigned ldm, layout_t layout) {
  for (int r = 0; r < M; ++r)
    for (int c = 0; c < N; ++c) f.x[r * N + c] = layout == mem_col_major ? p[c * ldm + r] : p[r * ldm + c];
}

template <int M, int N, int K, class T>
inline void store_matrix_sync(T* p, const fragment<accumulator, M, N, K, T>& f, unsigned ldm, layout_t layout) {
  for (int r = 0; r < M; ++r)
    for (int c = 0; c < N; ++c) (layout == mem_col_major ? p[c * ldm + r] : p[r * ldm + c]) = f.x[r * N + c];
}

template <int M, int N, int K, class Tab, class LayoutA, class LayoutB, class Tc>
inline void mma_sync(fragment<accumulator, M, N, K, Tc>& d, const fragment<matrix_a, M, N, K, Tab, LayoutA>& a,
                     const fragment<matrix_b, M, N, K, Tab, LayoutB>& b,
                     const fragment<accumulator, M, N, K, Tc>& c) {
  fragment<accumulator, M, N, K, Tc> out;
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      float acc = detail::to_float(c.x[i * N + j]);
      for (int p = 0; p < K; ++p) acc = std::fma(detail::to_float(a.x[i * K + p]), detail::to_float(b.x[p * N + j]), acc);
      out.x[i * N + j] = static_cast<Tc>(acc);
    }
  d = out;
}

}  // namespace nvcuda::wmma
