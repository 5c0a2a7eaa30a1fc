// CPU GEMM, row-major C[M,N] = A[M,K] @ B[K,N].
// v1 reference: i-k-j loops accumulating a row in double.
// v2 blocked: Goto-style packing and register-tiled micro-kernels, one build per instruction
//    set chosen at run time (gemm_f32_kernel.h, gemm_isa.h).
// v3 16-bit (matmul_16bit_blocked): a Goto driver generic over the kernel, on bf16 k-pairs
//    through vdpbf16ps (AVX512_BF16, checked at run time) or on fp16 / bf16 widened to fp32
//    while packing; fp32 sums rounded once into the 16-bit C. Up to 8 rows take v2's
//    streaming product with B widened in registers.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#ifdef __x86_64__
#include <immintrin.h>
#endif

#include "core/cpu_features.h"
#include "core/error.h"
#include "core/float_convert.h"
#include "ops/matmul/gemm_isa.h"
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

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};
template <class T>
using AlignedBuffer = std::unique_ptr<T[], FreeDeleter>;

template <class T>
AlignedBuffer<T> aligned_buffer(int64_t count) {
  if (count < 0 || static_cast<uint64_t>(count) > (SIZE_MAX - 63) / sizeof(T))
    BENCHSUITE_UNSUPPORTED("oom", "matmul: a packing buffer of ", count, " elements exceeds the address space");
  size_t bytes = ((static_cast<size_t>(count) * sizeof(T) + 63) / 64) * 64;
  T* p = static_cast<T*>(std::aligned_alloc(64, bytes == 0 ? 64 : bytes));
  if (p == nullptr) BENCHSUITE_UNSUPPORTED("oom", "matmul: out of host memory for packing buffers");
  return AlignedBuffer<T>(p);
}

// ---- kernels: a micro-tile and the packing that feeds it --------------------------------
// A kernel type K gives the driver below: In (the element type of A and B) and Packed (of
// the packed buffers); the tile kMR x kNR and the blocking kKC (depth of a block, even),
// kMC (rows of a packed A block, a multiple of kMR), kNC (columns of a B panel);
// depth(kc), the packed rows a depth block of kc takes; pack_a (A[mc, kc] -> strips of
// kMR rows, depth(kc) x kMR each, zero padded); pack_b_strip (columns strip*kNR .. +kNR
// of B[kc, nc] -> depth(kc) x kNR at packed + strip * depth(kc) * kNR, zero padded); and
// tile(depth, a strip, b strip, out), which writes the kMR x kNR fp32 product row-major.

// fp32 products: a 6x16 tile in 12 eight-float vectors (GCC vector extensions: AVX2 or
// AVX-512VL under -march=native).
struct F32Tile {
  using Packed = float;
  static constexpr int64_t kMR = 6;
  static constexpr int64_t kNR = 16;
  static constexpr int64_t kKC = 256;   // A strip + B strip stay in L1
  static constexpr int64_t kMC = 96;
  static constexpr int64_t kNC = 3072;
  static int64_t depth(int64_t kc) { return kc; }

  typedef float v8f __attribute__((vector_size(32)));
  static void tile(int64_t kc, const float* ap, const float* bp, float* out) {
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
    std::memcpy(out, acc, sizeof(acc));
  }
};

// float16 / bfloat16 inputs widened to fp32 while packing (exact), then the fp32 tile: the
// float16 path, and bfloat16's where the CPU lacks AVX512_BF16.
struct WidenedKernel : F32Tile {
  using In = uint16_t;
  DType dtype;
  void pack_b_strip(const uint16_t* b, int64_t ldb, int64_t kc, int64_t nc, int64_t strip, float* packed) const {
    const int64_t j0 = strip * kNR, nr = std::min(kNR, nc - j0);
    packed += strip * kc * kNR;
    for (int64_t p = 0; p < kc; ++p, packed += kNR) {
      widen_to_f32(b + p * ldb + j0, dtype, packed, nr);
      std::fill(packed + nr, packed + kNR, 0.0f);
    }
  }
  void pack_a(const uint16_t* a, int64_t lda, int64_t mc, int64_t kc, float* packed) const {
    float rows[kMR][kKC];  // a strip's rows widened whole (vector conversions), then interleaved
    for (int64_t i0 = 0; i0 < mc; i0 += kMR) {
      const int64_t mr = std::min(kMR, mc - i0);
      for (int64_t r = 0; r < mr; ++r) widen_to_f32(a + (i0 + r) * lda, dtype, rows[r], kc);
      for (int64_t p = 0; p < kc; ++p, packed += kMR)
        for (int64_t r = 0; r < kMR; ++r) packed[r] = r < mr ? rows[r][p] : 0.0f;
    }
  }
};

#ifdef BENCHSUITE_X86_TARGET_KERNELS
#define BENCHSUITE_BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
// bfloat16 products by vdpbf16ps: each 32-bit lane of a packed row holds a k-pair (k even in
// the low half), so one instruction does two multiply-adds per lane into fp32. B strips are
// 32 columns (two zmm per pair), A strips 8 rows whose pairs are broadcast: 16 independent
// accumulators, more than the instruction's latency x throughput (12 rows measured no faster).
// Odd kc: the last pair's
// high half is zero in A and B. Runs only where cpu::has_avx512_bf16().
struct Bf16DotKernel {
  using In = uint16_t;
  using Packed = uint32_t;
  static constexpr int64_t kMR = 8;
  static constexpr int64_t kNR = 32;
  // 512 pairs: the 16 KiB A strip stays in L1 and the 64 KiB B strip streams from L2. Deeper
  // than fp32's block: fewer round trips of the partial sums through the work buffer (one
  // core, 2048^3: 165 GFLOP/s at 256, 189 at 512, 205 at 1024).
  static constexpr int64_t kKC = 1024;
  static constexpr int64_t kMC = 192;
  static constexpr int64_t kNC = 3072;
  static int64_t depth(int64_t kc) { return (kc + 1) / 2; }

  BENCHSUITE_BF16_TARGET void pack_b_strip(const uint16_t* b, int64_t ldb, int64_t kc, int64_t nc, int64_t strip,
                                           uint32_t* packed) const {
    const int64_t j0 = strip * kNR, nr = std::min(kNR, nc - j0);
    packed += strip * depth(kc) * kNR;
    // Ragged strips load only the columns that exist (masked), zeros in the rest.
    const __mmask16 lo = static_cast<__mmask16>(nr >= 16 ? 0xffff : (1u << nr) - 1);
    const __mmask16 hi = static_cast<__mmask16>(nr >= 32 ? 0xffff : nr <= 16 ? 0 : (1u << (nr - 16)) - 1);
    for (int64_t p = 0; p < kc; p += 2, packed += kNR) {
      const uint16_t* even = b + p * ldb + j0;
      const uint16_t* odd = even + ldb;
      const bool has_odd = p + 1 < kc;
      for (int h = 0; h < 2; ++h) {
        const __mmask16 mask = h == 0 ? lo : hi;
        const __m512i e = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(mask, even + 16 * h));
        const __m512i o = has_odd ? _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(mask, odd + 16 * h))
                                  : _mm512_setzero_si512();
        _mm512_store_si512(packed + 16 * h, _mm512_or_si512(e, _mm512_slli_epi32(o, 16)));
      }
    }
  }
  void pack_a(const uint16_t* a, int64_t lda, int64_t mc, int64_t kc, uint32_t* packed) const {
    const int64_t pairs = kc / 2;
    for (int64_t i0 = 0; i0 < mc; i0 += kMR) {
      const int64_t mr = std::min(kMR, mc - i0);
      for (int64_t r = 0; r < kMR; ++r) {
        uint32_t* dst = packed + r;
        if (r >= mr) {
          for (int64_t p = 0; p < depth(kc); ++p) dst[p * kMR] = 0;
          continue;
        }
        const uint16_t* row = a + (i0 + r) * lda;
        for (int64_t p = 0; p < pairs; ++p) std::memcpy(dst + p * kMR, row + 2 * p, sizeof(uint32_t));
        if (kc % 2) dst[pairs * kMR] = row[kc - 1];
      }
      packed += depth(kc) * kMR;
    }
  }
  BENCHSUITE_BF16_TARGET static void tile(int64_t pairs, const uint32_t* ap, const uint32_t* bp, float* out) {
    __m512 acc[kMR][2];
    for (int r = 0; r < kMR; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    for (int64_t p = 0; p < pairs; ++p) {
      const __m512bh b0 = (__m512bh)_mm512_load_si512(bp);
      const __m512bh b1 = (__m512bh)_mm512_load_si512(bp + 16);
      for (int r = 0; r < kMR; ++r) {
        const __m512bh a = (__m512bh)_mm512_set1_epi32(static_cast<int>(ap[r]));
        acc[r][0] = _mm512_dpbf16_ps(acc[r][0], a, b0);
        acc[r][1] = _mm512_dpbf16_ps(acc[r][1], a, b1);
      }
      ap += kMR;
      bp += kNR;
    }
    for (int r = 0; r < kMR; ++r) {
      _mm512_store_ps(out + r * kNR, acc[r][0]);
      _mm512_store_ps(out + r * kNR + 16, acc[r][1]);
    }
  }
};
#endif

// ---- the driver ---------------------------------------------------------------------------
// The epilogue of a micro-tile: the partial sums of earlier depth blocks (in work) are added;
// the sum goes back to work until the last block, which rounds it into the 16-bit C.
template <int64_t kMR, int64_t kNR>
void store_tile(const float* tile, int64_t mr, int64_t nr, bool first, bool last, float* work, int64_t ldw,
                void* c, DType dtype, int64_t c_offset, int64_t ldc) {
  if (!last) {
    if (mr == kMR && nr == kNR) {  // constant trip counts: vector loops
      for (int64_t r = 0; r < kMR; ++r)
        for (int64_t q = 0; q < kNR; ++q)
          work[r * ldw + q] = first ? tile[r * kNR + q] : work[r * ldw + q] + tile[r * kNR + q];
      return;
    }
    for (int64_t r = 0; r < mr; ++r)
      for (int64_t q = 0; q < nr; ++q)
        work[r * ldw + q] = first ? tile[r * kNR + q] : work[r * ldw + q] + tile[r * kNR + q];
    return;
  }
  for (int64_t r = 0; r < mr; ++r) {
    const float* t = tile + r * kNR;
    alignas(64) float row[kNR];
    if (first) {
      std::memcpy(row, t, sizeof(row));
    } else {
      for (int64_t q = 0; q < nr; ++q) row[q] = t[q] + work[r * ldw + q];
    }
    narrow_from_f32(row, static_cast<uint16_t*>(c) + c_offset + r * ldc, dtype, nr);
  }
}

// Goto-style GEMM, C[m, n] = A[m, k] @ B[k, n] (all contiguous, m, n, k > 0), C in the 16-bit
// dtype of A and B (float32 takes gemm_f32_kernel.h's build for the CPU): KC x NC panels of B packed by all threads,
// tasks of (row block, column part) over OpenMP, each packing its MC x KC block of A.
template <class K>
void gemm_packed(const K& kernel, const typename K::In* a, const typename K::In* b, void* c, DType dtype, int64_t m,
                 int64_t n, int64_t k) {
  using Packed = typename K::Packed;
  constexpr int64_t kMR = K::kMR, kNR = K::kNR, kKC = K::kKC, kMC = K::kMC, kNC = K::kNC;
  const int64_t panel_width = std::min(kNC, n);
  AlignedBuffer<Packed> b_packed = aligned_buffer<Packed>(K::depth(kKC) * (((panel_width + kNR - 1) / kNR) * kNR));
  // fp32 sums across depth blocks in an m x panel_width buffer, needed only when k spans more
  // than one block (a single block rounds straight from the tile).
  AlignedBuffer<float> work_buffer;
  if (k > kKC) work_buffer = aligned_buffer<float>(m * panel_width);  // <= m * n, the size of C: no overflow
  const int64_t ldw = panel_width;
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
  const int64_t a_block = kMC * K::depth(kKC);
  AlignedBuffer<Packed> a_buffers = aligned_buffer<Packed>(threads * a_block);
#pragma omp parallel num_threads(threads)
  {
    int thread = 0;
#ifdef _OPENMP
    thread = omp_get_thread_num();
#endif
    Packed* a_packed = a_buffers.get() + thread * a_block;
    for (int64_t jc = 0; jc < n; jc += kNC) {
      const int64_t nc = std::min(kNC, n - jc);
      const int64_t strips = (nc + kNR - 1) / kNR;
      const int64_t parts =
          std::min<int64_t>(strips, std::max<int64_t>(1, (2 * threads + row_blocks - 1) / row_blocks));
      float* work = work_buffer.get();
      for (int64_t pc = 0; pc < k; pc += kKC) {
        const int64_t kc = std::min(kKC, k - pc), depth = K::depth(kc);
        const bool first = pc == 0, last = pc + kc == k;
#pragma omp for schedule(static)
        for (int64_t strip = 0; strip < strips; ++strip)
          kernel.pack_b_strip(b + pc * n + jc, n, kc, nc, strip, b_packed.get());
        const Packed* bp = b_packed.get();
        int64_t packed_block = -1;
#pragma omp for schedule(dynamic)
        for (int64_t task = 0; task < row_blocks * parts; ++task) {
          const int64_t block = task / parts, part = task % parts;
          const int64_t ic = block * kMC, mc = std::min(kMC, m - ic);
          if (packed_block != block) {  // consecutive tasks of a thread often share the block
            kernel.pack_a(a + ic * k + pc, k, mc, kc, a_packed);
            packed_block = block;
          }
          const int64_t s0 = strips * part / parts, s1 = strips * (part + 1) / parts;
          for (int64_t jr = s0 * kNR; jr < std::min(nc, s1 * kNR); jr += kNR)
            for (int64_t ir = 0; ir < mc; ir += kMR) {
              alignas(64) float tile[kMR * kNR];
              K::tile(depth, a_packed + ir * depth, bp + jr * depth, tile);
              store_tile<kMR, kNR>(tile, std::min(kMR, mc - ir), std::min(kNR, nc - jr), first, last,
                                   work ? work + (ic + ir) * ldw + jr : nullptr,  // none: one 16-bit block
                                   ldw, c, dtype, (ic + ir) * n + jc + jr, n);
            }
        }
      }
    }
  }
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

// B's elements as fp32, 16 at a time (one vector) or one: float32 as it is; 16-bit B widened
// in registers (bfloat16: a shift, float16: F16C), so a few rows read B's two bytes per
// element once instead of a widened copy.
struct FromBf16 {
  using In = uint16_t;
  static v16f load(const uint16_t* p) {
#ifdef __AVX512F__  // GCC splits its own widening of a 16 x u16 vector into halves
    const __m512i h = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    return reinterpret_cast<v16f>(_mm512_slli_epi32(h, 16));
#else
    v16f v;
    for (int q = 0; q < 16; ++q) v[q] = bf16_bits_to_float(p[q]);
    return v;
#endif
  }
  static float one(const uint16_t* p) { return bf16_bits_to_float(*p); }
};
struct FromF16 {
  using In = uint16_t;
  static v16f load(const uint16_t* p) {
#ifdef __AVX512F__
    return reinterpret_cast<v16f>(_mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))));
#else
    v16f v;
    for (int q = 0; q < 16; ++q) v[q] = half_bits_to_float(p[q]);
    return v;
#endif
  }
  static float one(const uint16_t* p) { return half_bits_to_float(*p); }
};

template <int kM, class From>
void skinny_block(const float* a, const typename From::In* b, float* c, int64_t n, int64_t k, int64_t j0) {
  constexpr int kV = skinny_vectors<kM>();
  v16f acc[kM][kV];
  for (int i = 0; i < kM; ++i)
    for (int v = 0; v < kV; ++v) acc[i][v] = v16f{};
  const typename From::In* bp = b + j0;
  for (int64_t p = 0; p < k; ++p, bp += n) {
    v16f bv[kV];
    for (int v = 0; v < kV; ++v) bv[v] = From::load(bp + 16 * v);
    for (int i = 0; i < kM; ++i) {
      const float ai = a[i * k + p];
      for (int v = 0; v < kV; ++v) acc[i][v] += ai * bv[v];
    }
  }
  for (int i = 0; i < kM; ++i) std::memcpy(c + i * n + j0, acc[i], sizeof(acc[i]));
}

// The columns past the last full block: one column at a time, all rows.
template <class From>
void skinny_tail(const float* a, const typename From::In* b, float* c, int64_t m, int64_t n, int64_t k, int64_t j) {
  float acc[kSkinnyRows] = {};
  for (int64_t p = 0; p < k; ++p)
    for (int64_t i = 0; i < m; ++i) acc[i] += a[i * k + p] * From::one(b + p * n + j);
  for (int64_t i = 0; i < m; ++i) c[i * n + j] = acc[i];
}

template <int kM, class From>
void skinny_rows(const float* a, const typename From::In* b, float* c, int64_t n, int64_t k) {
  constexpr int64_t kWidth = 16 * skinny_vectors<kM>();
  const int64_t blocks = n / kWidth, tail = n % kWidth;
#pragma omp parallel for schedule(static) if (n * k > (1 << 15))
  for (int64_t block = 0; block < blocks + tail; ++block) {
    if (block < blocks)
      skinny_block<kM, From>(a, b, c, n, k, block * kWidth);
    else
      skinny_tail<From>(a, b, c, kM, n, k, blocks * kWidth + (block - blocks));
  }
}

// C[m, n] (fp32) = A[m, k] (fp32) @ B[k, n] (From::In), m <= kSkinnyRows.
template <class From>
void matmul_skinny(const float* a, const typename From::In* b, float* c, int64_t m, int64_t n, int64_t k) {
  switch (m) {
    case 1: return skinny_rows<1, From>(a, b, c, n, k);
    case 2: return skinny_rows<2, From>(a, b, c, n, k);
    case 3: return skinny_rows<3, From>(a, b, c, n, k);
    case 4: return skinny_rows<4, From>(a, b, c, n, k);
    case 5: return skinny_rows<5, From>(a, b, c, n, k);
    case 6: return skinny_rows<6, From>(a, b, c, n, k);
    case 7: return skinny_rows<7, From>(a, b, c, n, k);
    default: return skinny_rows<8, From>(a, b, c, n, k);
  }
}

// 16-bit A and C around the skinny product: A (m x k) widened once, C summed in fp32 and
// rounded once; both are a few rows, small beside B.
void matmul_16bit_skinny(DType dtype, const uint16_t* a, const uint16_t* b, uint16_t* c, int64_t m, int64_t n,
                         int64_t k) {
  std::vector<float> a32(static_cast<size_t>(m * k)), c32(static_cast<size_t>(m * n));
  widen_to_f32(a, dtype, a32.data(), m * k);
  if (dtype == DType::bfloat16)
    matmul_skinny<FromBf16>(a32.data(), b, c32.data(), m, n, k);
  else
    matmul_skinny<FromF16>(a32.data(), b, c32.data(), m, n, k);
  narrow_from_f32(c32.data(), c, dtype, m * n);
}
}  // namespace

void matmul_f32_blocked(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k) {
  gemm_f32(a, b, c, m, n, k);  // the build for this CPU's instruction set (gemm_isa.h)
}

void matmul_16bit_blocked(DType dtype, const uint16_t* a, const uint16_t* b, uint16_t* c, int64_t m, int64_t n,
                          int64_t k) {
  BENCHSUITE_CHECK_ARG(dtype == DType::float16 || dtype == DType::bfloat16,
                       "matmul: the 16-bit GEMM takes float16 or bfloat16, not ", dtype_name(dtype));
  if (m == 0 || n == 0) return;
  if (k == 0) {
    std::fill(c, c + m * n, uint16_t{0});  // +0.0 in both formats
    return;
  }
  if (m <= kSkinnyRows) return matmul_16bit_skinny(dtype, a, b, c, m, n, k);
#ifdef BENCHSUITE_X86_TARGET_KERNELS
  if (dtype == DType::bfloat16 && has_avx512_bf16()) return gemm_packed(Bf16DotKernel{}, a, b, c, dtype, m, n, k);
#endif
  gemm_packed(WidenedKernel{{}, dtype}, a, b, c, dtype, m, n, k);
}

}  // namespace benchsuite::cpu
