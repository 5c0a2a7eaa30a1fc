// CPU GEMM, row-major C[M,N] = A[M,K] @ B[K,N].
// v1 reference: i-k-j loops accumulating a row in double.
// v2 blocked: Goto-style packing (KC x NC panels of B, MC x KC blocks of A) and a 6x16
//    register-tiled micro-kernel written with GCC vector extensions (AVX2/AVX-512 under
//    -march=native), M blocks spread over OpenMP threads.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/error.h"
#include "ops/matmul/matmul.h"

namespace benchsuite::cpu {

void matmul_row_f64(const float* a, const float* b, double* row, int64_t i, int64_t n, int64_t k) {
  std::fill(row, row + n, 0.0);
  for (int64_t p = 0; p < k; ++p) {
    const double aip = a[i * k + p];
    const float* bp = b + p * n;
    for (int64_t j = 0; j < n; ++j) row[j] += aip * bp[j];
  }
}

void matmul_f32_reference(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k) {
  std::vector<double> row(static_cast<size_t>(n));
  for (int64_t i = 0; i < m; ++i) {
    matmul_row_f64(a, b, row.data(), i, n, k);
    for (int64_t j = 0; j < n; ++j) c[i * n + j] = static_cast<float>(row[j]);
  }
}

namespace {

constexpr int64_t kMR = 6;     // rows of C per micro-kernel call
constexpr int64_t kNR = 16;    // columns of C per micro-kernel call (two 8-float vectors)
constexpr int64_t kKC = 256;   // depth of a packed panel: A strip + B strip stay in L1/L2
constexpr int64_t kMC = 96;    // rows of A per packed block (multiple of kMR)
constexpr int64_t kNC = 3072;  // columns of B per packed panel

typedef float v8f __attribute__((vector_size(32)));

struct FreeDeleter {
  void operator()(float* p) const { std::free(p); }
};
using AlignedBuffer = std::unique_ptr<float[], FreeDeleter>;

AlignedBuffer aligned_floats(int64_t count) {
  size_t bytes = ((static_cast<size_t>(count) * sizeof(float) + 63) / 64) * 64;
  float* p = static_cast<float*>(std::aligned_alloc(64, bytes == 0 ? 64 : bytes));
  if (p == nullptr) BENCHSUITE_UNSUPPORTED("oom", "matmul: out of host memory for packing buffers");
  return AlignedBuffer(p);
}

// Strip s of B[kc, nc] (leading dimension ldb): columns s*kNR .. +kNR as kc x kNR, zero
// padded, at packed + s * kc * kNR.
void pack_b_strip(const float* b, int64_t ldb, int64_t kc, int64_t nc, int64_t strip, float* packed) {
  const int64_t j0 = strip * kNR, nr = std::min(kNR, nc - j0);
  packed += strip * kc * kNR;
  for (int64_t p = 0; p < kc; ++p) {
    const float* src = b + p * ldb + j0;
    int64_t q = 0;
    for (; q < nr; ++q) packed[q] = src[q];
    for (; q < kNR; ++q) packed[q] = 0.0f;
    packed += kNR;
  }
}

// A[mc, kc] (leading dimension lda) -> strips of kMR rows, each kc x kMR, zero padded.
void pack_a(const float* a, int64_t lda, int64_t mc, int64_t kc, float* packed) {
  for (int64_t i0 = 0; i0 < mc; i0 += kMR) {
    const int64_t mr = std::min(kMR, mc - i0);
    for (int64_t p = 0; p < kc; ++p) {
      int64_t r = 0;
      for (; r < mr; ++r) packed[r] = a[(i0 + r) * lda + p];
      for (; r < kMR; ++r) packed[r] = 0.0f;
      packed += kMR;
    }
  }
}

// C[mr, nr] (+)= packed A strip @ packed B strip; full tiles store straight from registers.
void micro_kernel(int64_t kc, const float* ap, const float* bp, float* c, int64_t ldc, int64_t mr, int64_t nr,
                  bool accumulate) {
  v8f acc[kMR][2];
  for (int r = 0; r < kMR; ++r) acc[r][0] = acc[r][1] = v8f{};
  for (int64_t p = 0; p < kc; ++p) {
    const v8f b0 = *reinterpret_cast<const v8f*>(bp);
    const v8f b1 = *reinterpret_cast<const v8f*>(bp + 8);
    for (int r = 0; r < kMR; ++r) {
      const float a = ap[r];
      acc[r][0] += a * b0;
      acc[r][1] += a * b1;
    }
    ap += kMR;
    bp += kNR;
  }
  if (mr == kMR && nr == kNR) {
    for (int r = 0; r < kMR; ++r) {
      for (int h = 0; h < 2; ++h) {
        float* dst = c + r * ldc + 8 * h;
        v8f value = acc[r][h];
        if (accumulate) {
          v8f old;
          std::memcpy(&old, dst, sizeof(old));
          value += old;
        }
        std::memcpy(dst, &value, sizeof(value));
      }
    }
    return;
  }
  alignas(32) float tile[kMR][kNR];
  std::memcpy(tile, acc, sizeof(tile));
  for (int64_t r = 0; r < mr; ++r)
    for (int64_t q = 0; q < nr; ++q) c[r * ldc + q] = (accumulate ? c[r * ldc + q] : 0.0f) + tile[r][q];
}

}  // namespace

namespace {
// m <= kSkinnyRows (a decode step, a last-token LM head, a few sequences): packing B would move
// all of B once more for a handful of rows, so B is streamed once. Columns go in blocks over
// the threads; a block keeps its m x width tile of C in registers while it walks every row of
// B, so each B element is loaded once and every load feeds m FMAs (the L1-resident accumulator
// rows this replaces cost a load and a store per FMA). Fewer rows get wider blocks (kM = 1:
// 8 vectors, 128 columns): more independent FMA chains, and longer contiguous runs of each B
// row for the prefetchers. Templated on m so the row loop unrolls.
constexpr int64_t kSkinnyRows = 8;
typedef float v16f __attribute__((vector_size(64)));

template <int kM>
constexpr int skinny_vectors() {  // per row of the tile: at most 16 accumulators in all
  return kM == 1 ? 8 : kM == 2 ? 4 : 2;
}

template <int kM>
void skinny_block(const float* a, const float* b, float* c, int64_t n, int64_t k, int64_t j0) {
  constexpr int kV = skinny_vectors<kM>();
  v16f acc[kM][kV];
  for (int i = 0; i < kM; ++i)
    for (int v = 0; v < kV; ++v) acc[i][v] = v16f{};
  const float* bp = b + j0;
  for (int64_t p = 0; p < k; ++p, bp += n) {
    v16f bv[kV];
    std::memcpy(bv, bp, sizeof(bv));
    for (int i = 0; i < kM; ++i) {
      const float ai = a[i * k + p];
      for (int v = 0; v < kV; ++v) acc[i][v] += ai * bv[v];
    }
  }
  for (int i = 0; i < kM; ++i) std::memcpy(c + i * n + j0, acc[i], sizeof(acc[i]));
}

// The columns past the last full block: one column at a time, all rows.
void skinny_tail(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k, int64_t j) {
  float acc[kSkinnyRows] = {};
  for (int64_t p = 0; p < k; ++p)
    for (int64_t i = 0; i < m; ++i) acc[i] += a[i * k + p] * b[p * n + j];
  for (int64_t i = 0; i < m; ++i) c[i * n + j] = acc[i];
}

template <int kM>
void skinny_rows(const float* a, const float* b, float* c, int64_t n, int64_t k) {
  constexpr int64_t kWidth = 16 * skinny_vectors<kM>();
  const int64_t blocks = n / kWidth, tail = n % kWidth;
#pragma omp parallel for schedule(static) if (n * k > (1 << 15))
  for (int64_t block = 0; block < blocks + tail; ++block) {
    if (block < blocks)
      skinny_block<kM>(a, b, c, n, k, block * kWidth);
    else
      skinny_tail(a, b, c, kM, n, k, blocks * kWidth + (block - blocks));
  }
}

void matmul_f32_skinny(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k) {
  switch (m) {
    case 1: return skinny_rows<1>(a, b, c, n, k);
    case 2: return skinny_rows<2>(a, b, c, n, k);
    case 3: return skinny_rows<3>(a, b, c, n, k);
    case 4: return skinny_rows<4>(a, b, c, n, k);
    case 5: return skinny_rows<5>(a, b, c, n, k);
    case 6: return skinny_rows<6>(a, b, c, n, k);
    case 7: return skinny_rows<7>(a, b, c, n, k);
    default: return skinny_rows<8>(a, b, c, n, k);
  }
}
}  // namespace

void matmul_f32_blocked(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    std::fill(c, c + m * n, 0.0f);
    return;
  }
  if (m <= kSkinnyRows) return matmul_f32_skinny(a, b, c, m, n, k);
  AlignedBuffer b_packed = aligned_floats(kKC * (((std::min(kNC, n) + kNR - 1) / kNR) * kNR));
  // Tasks are (row block, column part): with fewer row blocks than threads (a short
  // sequence) the columns of the panel are split too, so every thread has work.
  const int64_t row_blocks = (m + kMC - 1) / kMC;
  int threads = 1;
#ifdef _OPENMP
  threads = omp_get_max_threads();
#endif
  // One parallel region for the whole product: each panel of B is packed by all threads
  // (strips split among them; packing serially left the other cores idle while a whole B
  // streamed through one), then the tasks run; the implicit barriers of the two loops keep
  // a panel packed before it is read and read before the next one overwrites it.
  // Every buffer is allocated here: an exception must not leave a parallel region.
  AlignedBuffer a_buffers = aligned_floats(threads * kMC * kKC);
#pragma omp parallel num_threads(threads)
  {
    int thread = 0;
#ifdef _OPENMP
    thread = omp_get_thread_num();
#endif
    float* a_packed = a_buffers.get() + thread * kMC * kKC;
    for (int64_t jc = 0; jc < n; jc += kNC) {
      const int64_t nc = std::min(kNC, n - jc);
      const int64_t strips = (nc + kNR - 1) / kNR;
      const int64_t parts =
          std::min<int64_t>(strips, std::max<int64_t>(1, (2 * threads + row_blocks - 1) / row_blocks));
      for (int64_t pc = 0; pc < k; pc += kKC) {
        const int64_t kc = std::min(kKC, k - pc);
#pragma omp for schedule(static)
        for (int64_t strip = 0; strip < strips; ++strip)
          pack_b_strip(b + pc * n + jc, n, kc, nc, strip, b_packed.get());
        const bool accumulate = pc > 0;
        const float* bp = b_packed.get();
        int64_t packed_block = -1;
#pragma omp for schedule(dynamic)
        for (int64_t task = 0; task < row_blocks * parts; ++task) {
          const int64_t block = task / parts, part = task % parts;
          const int64_t ic = block * kMC, mc = std::min(kMC, m - ic);
          if (packed_block != block) {  // consecutive tasks of a thread often share the block
            pack_a(a + ic * k + pc, k, mc, kc, a_packed);
            packed_block = block;
          }
          const int64_t s0 = strips * part / parts, s1 = strips * (part + 1) / parts;
          for (int64_t jr = s0 * kNR; jr < std::min(nc, s1 * kNR); jr += kNR)
            for (int64_t ir = 0; ir < mc; ir += kMR)
              micro_kernel(kc, a_packed + ir * kc, bp + jr * kc, c + (ic + ir) * n + jc + jr, n,
                           std::min(kMR, mc - ir), std::min(kNR, nc - jr), accumulate);
        }
      }
    }
  }
}

}  // namespace benchsuite::cpu
