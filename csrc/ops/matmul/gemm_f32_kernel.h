// The fp32 GEMM of matmul v2, C[M,N] = A[M,K] @ B[K,N] row-major, written once for every
// instruction set. Each ISA's file (gemm_isa_avx512.cpp, gemm_isa_avx2.cpp,
// gemm_isa_generic.cpp) includes this header under its own compiler flags (CMakeLists.txt)
// and instantiates it for its vector width and register count; gemm_isa.cpp picks one at run
// time from the CPU's features, so a build made on one x86-64 machine runs on another.
//
// Everything here has internal linkage (the unnamed namespace) and nothing comes from
// <algorithm>: an inline function compiled with AVX-512 in one file must not be the copy the
// linker keeps for a file compiled for an older CPU.
//
// Algorithm (Goto / BLIS): B in KC x NC panels packed into NR-column strips, A in MC x KC
// blocks packed into MR-row strips, an MR x NR register tile per micro-kernel call; tasks
// (row block, column part) over OpenMP threads so short sequences still split their columns.
// Up to kSkinnyRows rows (decode steps) skip packing: B is streamed once with the m x width
// tile of C in registers, column blocks over the threads.
#pragma once
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/error.h"
#include "ops/matmul/gemm_isa.h"

namespace benchsuite::cpu {
namespace {

inline int64_t min_of(int64_t a, int64_t b) { return a < b ? a : b; }
inline int64_t max_of(int64_t a, int64_t b) { return a > b ? a : b; }

struct FreeDeleter {
  void operator()(float* p) const { std::free(p); }
};
using AlignedBuffer = std::unique_ptr<float[], FreeDeleter>;

AlignedBuffer aligned_floats(int64_t count) {
  const size_t bytes = ((static_cast<size_t>(count) * sizeof(float) + 63) / 64) * 64;
  float* p = static_cast<float*>(std::aligned_alloc(64, bytes == 0 ? 64 : bytes));
  if (p == nullptr) BENCHSUITE_UNSUPPORTED("oom", "matmul: out of host memory for packing buffers");
  return AlignedBuffer(p);
}

// The packing buffers, kept for the calling thread's next product: a fresh multi-MiB buffer
// per call is fresh pages, a fault per 4 KiB, which cost a 16-row product half its time
// whenever the allocator handed back memory it had just unmapped. Grows, never shrinks.
float* scratch_floats(int64_t count) {
  thread_local AlignedBuffer buffer;
  thread_local int64_t capacity = 0;
  if (count > capacity) {
    buffer = aligned_floats(count);
    capacity = count;
  }
  return buffer.get();
}

// kLanes floats per vector register; an kMR x (kNV * kLanes) tile of C in registers;
// kSkinnyBudget: the accumulator registers the skinny path may use.
template <int kLanes, int kMR, int kNV, int kSkinnyBudget>
struct GemmKernel {
  typedef float V __attribute__((vector_size(4 * kLanes)));
  static constexpr int64_t kNR = kNV * kLanes;
  static constexpr int64_t kSkinnyRows = 8;

  // Strip s of B[kc, nc] (leading dimension ldb): columns s*kNR .. +kNR as kc x kNR, zero
  // padded, at packed + s * kc * kNR.
  static void pack_b_strip(const float* b, int64_t ldb, int64_t kc, int64_t nc, int64_t strip, float* packed) {
    const int64_t j0 = strip * kNR, nr = min_of(kNR, nc - j0);
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
  static void pack_a(const float* a, int64_t lda, int64_t mc, int64_t kc, float* packed) {
    for (int64_t i0 = 0; i0 < mc; i0 += kMR) {
      const int64_t mr = min_of(kMR, mc - i0);
      for (int64_t p = 0; p < kc; ++p) {
        int64_t r = 0;
        for (; r < mr; ++r) packed[r] = a[(i0 + r) * lda + p];
        for (; r < kMR; ++r) packed[r] = 0.0f;
        packed += kMR;
      }
    }
  }

  // C[mr, nr] (+)= packed A strip @ packed B strip; full tiles store straight from registers.
  static void micro_kernel(int64_t kc, const float* ap, const float* bp, float* c, int64_t ldc, int64_t mr,
                           int64_t nr, bool accumulate) {
    V acc[kMR][kNV];
    for (int r = 0; r < kMR; ++r)
      for (int v = 0; v < kNV; ++v) acc[r][v] = V{};
    for (int64_t p = 0; p < kc; ++p) {
      V bv[kNV];
      for (int v = 0; v < kNV; ++v) bv[v] = *reinterpret_cast<const V*>(bp + v * kLanes);
      for (int r = 0; r < kMR; ++r) {
        const float a = ap[r];
        for (int v = 0; v < kNV; ++v) acc[r][v] += a * bv[v];
      }
      ap += kMR;
      bp += kNR;
    }
    if (mr == kMR && nr == kNR) {
      for (int r = 0; r < kMR; ++r) {
        for (int v = 0; v < kNV; ++v) {
          float* dst = c + r * ldc + v * kLanes;
          V value = acc[r][v];
          if (accumulate) {
            V old;
            std::memcpy(&old, dst, sizeof(old));
            value += old;
          }
          std::memcpy(dst, &value, sizeof(value));
        }
      }
      return;
    }
    alignas(64) float tile[kMR][kNR];
    std::memcpy(tile, acc, sizeof(tile));
    for (int64_t r = 0; r < mr; ++r)
      for (int64_t q = 0; q < nr; ++q) c[r * ldc + q] = (accumulate ? c[r * ldc + q] : 0.0f) + tile[r][q];
  }

  // ---- m <= kSkinnyRows: packing B would move all of B once more for a handful of rows, so
  // B is streamed once. A column block keeps its m x width tile of C in registers while it
  // walks every row of B: each B element is loaded once and feeds m FMAs. Fewer rows get
  // wider blocks (more independent FMA chains, longer contiguous runs of each B row for the
  // prefetchers). Templated on m so the row loop unrolls.
  template <int kM>
  static constexpr int skinny_vectors() {
    return kSkinnyBudget / kM > 0 ? kSkinnyBudget / kM : 1;
  }

  template <int kM>
  static void skinny_block(const float* a, const float* b, float* c, int64_t n, int64_t k, int64_t j0) {
    constexpr int kV = skinny_vectors<kM>();
    V acc[kM][kV];
    for (int i = 0; i < kM; ++i)
      for (int v = 0; v < kV; ++v) acc[i][v] = V{};
    const float* bp = b + j0;
    for (int64_t p = 0; p < k; ++p, bp += n) {
      V bv[kV];
      std::memcpy(bv, bp, sizeof(bv));
      for (int i = 0; i < kM; ++i) {
        const float ai = a[i * k + p];
        for (int v = 0; v < kV; ++v) acc[i][v] += ai * bv[v];
      }
    }
    for (int i = 0; i < kM; ++i) std::memcpy(c + i * n + j0, acc[i], sizeof(acc[i]));
  }

  // The columns past the last full block: one column at a time, all rows.
  static void skinny_tail(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k, int64_t j) {
    float acc[kSkinnyRows] = {};
    for (int64_t p = 0; p < k; ++p)
      for (int64_t i = 0; i < m; ++i) acc[i] += a[i * k + p] * b[p * n + j];
    for (int64_t i = 0; i < m; ++i) c[i * n + j] = acc[i];
  }

  template <int kM>
  static void skinny_rows(const float* a, const float* b, float* c, int64_t n, int64_t k) {
    constexpr int64_t kWidth = kLanes * skinny_vectors<kM>();
    const int64_t blocks = n / kWidth, tail = n % kWidth;
#pragma omp parallel for schedule(static) if (n * k > (1 << 15))
    for (int64_t block = 0; block < blocks + tail; ++block) {
      if (block < blocks)
        skinny_block<kM>(a, b, c, n, k, block * kWidth);
      else
        skinny_tail(a, b, c, kM, n, k, blocks * kWidth + (block - blocks));
    }
  }

  // A few rows (a decode step) against a B past the caches: each thread streams a contiguous
  // range of B's rows end to end (what the prefetchers and DRAM do best) into its own copy of
  // the m output rows, and the copies are summed at the end. Column blocks instead walk B a few
  // hundred bytes per row with a page-sized stride: the GPT-2 LM head ran at a quarter of the
  // copy bandwidth that way. Four rows of B go together, so each output vector is loaded and
  // stored once per four FMAs of every row.
  static void rows_split(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k) {
    int threads = 1;
#ifdef _OPENMP
    threads = static_cast<int>(min_of(omp_get_max_threads(), max_of(1, k / 16)));
#endif
    float* const partial = scratch_floats((threads - 1) * m * n);  // thread 0 sums into c itself
    const int64_t vectors = n / kLanes;
#pragma omp parallel num_threads(threads)
    {
      int t = 0;
#ifdef _OPENMP
      t = omp_get_thread_num();
#endif
      float* y = t == 0 ? c : partial + (t - 1) * m * n;
      for (int64_t j = 0; j < m * n; ++j) y[j] = 0.0f;
      const int64_t p0 = k * t / threads, p1 = k * (t + 1) / threads;
      for (int64_t p = p0; p < p1; p += 4) {
        const int64_t rows = min_of(4, p1 - p);
        const float* row[4];
        float ap[kSkinnyRows][4];
        for (int r = 0; r < 4; ++r) {
          row[r] = b + (p + min_of(r, rows - 1)) * n;  // short groups repeat a row with a zero weight
          for (int64_t i = 0; i < m; ++i) ap[i][r] = r < rows ? a[i * k + p + r] : 0.0f;
        }
        for (int64_t v = 0; v < vectors; ++v) {
          V bv[4];
          for (int r = 0; r < 4; ++r) std::memcpy(&bv[r], row[r] + v * kLanes, sizeof(V));
          for (int64_t i = 0; i < m; ++i) {
            V yv;
            std::memcpy(&yv, y + i * n + v * kLanes, sizeof(V));
            yv += ap[i][0] * bv[0] + ap[i][1] * bv[1] + ap[i][2] * bv[2] + ap[i][3] * bv[3];
            std::memcpy(y + i * n + v * kLanes, &yv, sizeof(V));
          }
        }
        for (int64_t j = vectors * kLanes; j < n; ++j)
          for (int64_t i = 0; i < m; ++i)
            y[i * n + j] += ap[i][0] * row[0][j] + ap[i][1] * row[1][j] + ap[i][2] * row[2][j] + ap[i][3] * row[3][j];
      }
#pragma omp barrier
#pragma omp for schedule(static)
      for (int64_t j = 0; j < m * n; ++j)
        for (int u = 1; u < threads; ++u) c[j] += partial[(u - 1) * m * n + j];
    }
  }

  static void skinny(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k) {
    // One row against a B past 1 MiB; more rows once B is past 16 MiB (below that their
    // register tiles read B from the caches faster than the split's stores of C).
    if (k * n > (m == 1 ? (int64_t{1} << 18) : (int64_t{4} << 20))) return rows_split(a, b, c, m, n, k);
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

  static void run(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k,
                  const GemmBlocking& blocking) {
    if (m == 0 || n == 0) return;
    if (k == 0) {
      for (int64_t i = 0; i < m * n; ++i) c[i] = 0.0f;
      return;
    }
    if (m <= kSkinnyRows) return skinny(a, b, c, m, n, k);
    // KC and NC from the caches (gemm_isa.cpp); MC a multiple of the register tile's rows.
    const int64_t kKC = blocking.kc, kNC = max_of(kNR, blocking.nc / kNR * kNR);
    const int64_t kMC = max_of(kMR, blocking.mc / kMR * kMR);
    const int64_t b_panel = kKC * (((min_of(kNC, n) + kNR - 1) / kNR) * kNR);
    const int64_t row_blocks = (m + kMC - 1) / kMC;
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    // One parallel region for the whole product: each panel of B is packed by all threads
    // (strips split among them), then the tasks run; the implicit barriers of the two loops
    // keep a panel packed before it is read and read before the next one overwrites it.
    // Every buffer is allocated here: an exception must not leave a parallel region.
    float* const b_packed = scratch_floats(b_panel + threads * kMC * kKC);
    float* const a_buffers = b_packed + b_panel;
#pragma omp parallel num_threads(threads)
    {
      int thread = 0;
#ifdef _OPENMP
      thread = omp_get_thread_num();
#endif
      float* a_packed = a_buffers + thread * kMC * kKC;
      for (int64_t jc = 0; jc < n; jc += kNC) {
        const int64_t nc = min_of(kNC, n - jc);
        const int64_t strips = (nc + kNR - 1) / kNR;
        const int64_t parts = min_of(strips, max_of(1, (2 * threads + row_blocks - 1) / row_blocks));
        for (int64_t pc = 0; pc < k; pc += kKC) {
          const int64_t kc = min_of(kKC, k - pc);
#pragma omp for schedule(static)
          for (int64_t strip = 0; strip < strips; ++strip)
            pack_b_strip(b + pc * n + jc, n, kc, nc, strip, b_packed);
          const bool accumulate = pc > 0;
          const float* bp = b_packed;
          int64_t packed_block = -1;
#pragma omp for schedule(dynamic)
          for (int64_t task = 0; task < row_blocks * parts; ++task) {
            const int64_t block = task / parts, part = task % parts;
            const int64_t ic = block * kMC, mc = min_of(kMC, m - ic);
            if (packed_block != block) {  // consecutive tasks of a thread often share the block
              pack_a(a + ic * k + pc, k, mc, kc, a_packed);
              packed_block = block;
            }
            const int64_t s0 = strips * part / parts, s1 = strips * (part + 1) / parts;
            for (int64_t jr = s0 * kNR; jr < min_of(nc, s1 * kNR); jr += kNR)
              for (int64_t ir = 0; ir < mc; ir += kMR)
                micro_kernel(kc, a_packed + ir * kc, bp + jr * kc, c + (ic + ir) * n + jc + jr, n,
                             min_of(kMR, mc - ir), min_of(kNR, nc - jr), accumulate);
          }
        }
      }
    }
  }
};

}  // namespace
}  // namespace benchsuite::cpu
