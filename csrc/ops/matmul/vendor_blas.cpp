// Loading the vendor CBLAS (see vendor_blas.h): the three entry points used, declared here with
// the CBLAS enum values as ints (CblasRowMajor = 101, CblasNoTrans = 111, fixed by the standard).
#include "ops/matmul/vendor_blas.h"

#include <dlfcn.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <mutex>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/error.h"

namespace benchsuite::cpu {

namespace {
using SgemmFn = void (*)(int order, int trans_a, int trans_b, int m, int n, int k, float alpha, const float* a,
                         int lda, const float* b, int ldb, float beta, float* c, int ldc);
using SetThreadsFn = void (*)(int);
using ConfigFn = char* (*)();
constexpr int kRowMajor = 101, kNoTrans = 111;

struct Loaded {
  VendorBlas info;
  std::string reason;
  SgemmFn sgemm = nullptr;
  SetThreadsFn set_threads = nullptr;
  int threads = 0;  // the count last given to set_threads
  std::mutex mutex;
};

Loaded& loaded() {
  static Loaded l;
  static std::once_flag once;
  std::call_once(once, [] {
    const char* env = std::getenv("BENCHSUITE_BLAS_LIBRARY");
    const std::string wanted = env ? env : "";
    if (wanted == "none") {
      l.reason = "BENCHSUITE_BLAS_LIBRARY=none";
      return;
    }
    // The OpenMP builds of OpenBLAS first (Debian's path, Fedora's name): they share this
    // process's OpenMP threads instead of keeping a second pool on the same cores.
    const std::vector<std::string> names =
        wanted.empty() ? std::vector<std::string>{"/usr/lib/x86_64-linux-gnu/openblas-openmp/libopenblas.so.0",
                                                  "libopenblaso.so.0", "libopenblas.so.0", "libopenblas.so",
                                                  "libblis.so.4", "libblis.so"}
                       : std::vector<std::string>{wanted};
    // A pthreads build's workers spin for up to 2^28 cycles after each call, taking the cores
    // from the OpenMP code measured next (ours ran 2-10x slower right after an OpenBLAS call on
    // the 2-core VM): they sleep at once instead, unless the user has set the variable.
    setenv("OPENBLAS_THREAD_TIMEOUT", "4", 0);
    std::string errors;
    for (const std::string& name : names) {
      void* lib = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (!lib) {
        const char* err = dlerror();
        errors += (errors.empty() ? "" : "; ") + (err ? std::string(err) : name);
        continue;
      }
      auto sgemm = reinterpret_cast<SgemmFn>(dlsym(lib, "cblas_sgemm"));
      if (!sgemm) {
        errors += "; " + name + " has no cblas_sgemm";
        dlclose(lib);
        continue;
      }
      l.sgemm = sgemm;
      l.info.library = name;
      if (auto config = reinterpret_cast<ConfigFn>(dlsym(lib, "openblas_get_config"))) {
        l.info.name = "openblas";
        l.info.config = config();
        l.set_threads = reinterpret_cast<SetThreadsFn>(dlsym(lib, "openblas_set_num_threads"));
      } else {
        l.info.name = name.find("blis") != std::string::npos ? "blis" : "cblas";
        l.info.config = name;
        l.set_threads = reinterpret_cast<SetThreadsFn>(dlsym(lib, "bli_thread_set_num_threads"));
      }
      return;
    }
    l.reason = "no CBLAS library found (" + errors + ")";
  });
  return l;
}
}  // namespace

const VendorBlas* vendor_blas() {
  const Loaded& l = loaded();
  return l.sgemm ? &l.info : nullptr;
}

std::string vendor_blas_reason() { return loaded().reason; }

void matmul_f32_vendor(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k) {
  Loaded& l = loaded();
  if (!l.sgemm) BENCHSUITE_UNSUPPORTED("no_vendor_blas", "matmul (vendor BLAS): ", l.reason);
  if (m > INT_MAX || n > INT_MAX || k > INT_MAX)
    BENCHSUITE_UNSUPPORTED("size_past_int32", "matmul (vendor BLAS): m=", m, ", n=", n, ", k=", k,
                           " pass the CBLAS interface's int32 sizes");
  if (m == 0 || n == 0) return;
#ifdef _OPENMP
  const int threads = omp_get_max_threads();
#else
  const int threads = 1;
#endif
  if (l.set_threads) {
    std::lock_guard<std::mutex> lock(l.mutex);
    if (threads != l.threads) {  // threads matched to ours, set only when they change
      l.set_threads(threads);
      l.threads = threads;
    }
  }
  // k == 0: beta = 0 writes zeros, as the other versions do
  l.sgemm(kRowMajor, kNoTrans, kNoTrans, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), 1.0f, a,
          static_cast<int>(std::max<int64_t>(k, 1)), b, static_cast<int>(std::max<int64_t>(n, 1)), 0.0f, c,
          static_cast<int>(n));
}

}  // namespace benchsuite::cpu
