// Picks the fp32 GEMM build for this CPU (gemm_isa.h) and its cache blocking.
#include "ops/matmul/gemm_isa.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "core/error.h"

namespace benchsuite::cpu {

namespace {
bool cpu_has(GemmIsa isa) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  switch (isa) {
    case GemmIsa::generic: return true;
    case GemmIsa::avx2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case GemmIsa::avx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
             __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
  }
  return false;
#else
  return isa == GemmIsa::generic;  // the AVX files are compiled for x86-64 only
#endif
}

constexpr GemmIsa kAll[] = {GemmIsa::generic, GemmIsa::avx2, GemmIsa::avx512};

GemmIsa choose() {
  const std::vector<GemmIsa> available = gemm_isas_available();
  const char* named = std::getenv("BENCHSUITE_CPU_ISA");
  if (named == nullptr || *named == '\0') return available.back();
  std::string known;
  for (GemmIsa isa : kAll) {
    if (gemm_isa_name(isa) == std::string(named)) {
      if (std::find(available.begin(), available.end(), isa) == available.end())
        BENCHSUITE_UNSUPPORTED("unsupported_isa", "BENCHSUITE_CPU_ISA=", named,
                               ": this CPU does not have it (it has: ", [&] {
                                 std::string have;
                                 for (GemmIsa a : available) have += (have.empty() ? "" : ", ") + std::string(gemm_isa_name(a));
                                 return have;
                               }(), ")");
      return isa;
    }
    known += (known.empty() ? "" : ", ") + std::string(gemm_isa_name(isa));
  }
  BENCHSUITE_THROW_ARG("BENCHSUITE_CPU_ISA='", named, "' is not an instruction set (expected one of ", known, ")");
}

int64_t cache_bytes(int name, int64_t fallback) {
  const long v = sysconf(name);
  return v > 0 ? static_cast<int64_t>(v) : fallback;
}

int64_t tile_columns(GemmIsa isa) { return isa == GemmIsa::avx512 ? 32 : isa == GemmIsa::avx2 ? 16 : 8; }
}  // namespace

const char* gemm_isa_name(GemmIsa isa) {
  switch (isa) {
    case GemmIsa::generic: return "generic";
    case GemmIsa::avx2: return "avx2";
    case GemmIsa::avx512: return "avx512";
  }
  return "unknown";
}

std::vector<GemmIsa> gemm_isas_available() {
  std::vector<GemmIsa> out;
  for (GemmIsa isa : kAll)
    if (cpu_has(isa)) out.push_back(isa);
  return out;
}

GemmIsa gemm_isa() {
  static const GemmIsa chosen = choose();
  return chosen;
}

GemmBlocking gemm_blocking(GemmIsa isa) {
  const int64_t l1 = cache_bytes(_SC_LEVEL1_DCACHE_SIZE, 32 << 10), l2 = cache_bytes(_SC_LEVEL2_CACHE_SIZE, 512 << 10),
                l3 = cache_bytes(_SC_LEVEL3_CACHE_SIZE, 8 << 20);
  GemmBlocking b;
  // A kc x NR strip of B in half of L1 (the A strip and C tile take the rest); the AVX-512
  // strip (32 columns) in 1.5x L1, streamed from L2: a shallower block reloads the C tile
  // more often, and measured slower (kc 128: -25%, 256: -3%, 384: best on Zen 4).
  const int64_t strip_bytes = isa == GemmIsa::avx512 ? l1 * 3 / 2 : l1 / 2;
  b.kc = std::clamp<int64_t>(strip_bytes / (tile_columns(isa) * 4) / 8 * 8, 64, 512);
  // The packed A block in half of L2, but no more than 96 rows: blocks are the tasks the
  // threads share, and a sequence of a few hundred rows must still make several.
  b.mc = std::clamp<int64_t>(l2 / 2 / (b.kc * 4), 16, 96);
  // The packed B panel in an eighth of L3 (shared by the cores; a VM may report the host's).
  b.nc = std::clamp<int64_t>(l3 / 8 / (b.kc * 4), 512, 4096);
  return b;
}

void gemm_f32(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k) {
  static const GemmIsa isa = gemm_isa();
  static const GemmBlocking blocking = gemm_blocking(isa);
  switch (isa) {
#if defined(__x86_64__)
    case GemmIsa::avx512: return gemm_f32_avx512(a, b, c, m, n, k, blocking);
    case GemmIsa::avx2: return gemm_f32_avx2(a, b, c, m, n, k, blocking);
#endif
    default: return gemm_f32_generic(a, b, c, m, n, k, blocking);
  }
}

}  // namespace benchsuite::cpu
