// Run-time CPU feature checks (core/cpu_features.h).
#include "core/cpu_features.h"

#include <cstdlib>
#include <cstring>

namespace benchsuite::cpu {

namespace {
bool disabled(const char* isa) {
  const char* env = std::getenv("BENCHSUITE_DISABLE_ISA");
  if (env == nullptr) return false;
  const size_t length = std::strlen(isa);
  for (const char* p = env; (p = std::strstr(p, isa)) != nullptr; p += length) {
    const bool starts = p == env || p[-1] == ',';
    const bool ends = p[length] == '\0' || p[length] == ',';
    if (starts && ends) return true;
  }
  return false;
}

bool has_avx512_base() {
#ifdef BENCHSUITE_X86_TARGET_KERNELS
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl");
#else
  return false;
#endif
}
}  // namespace

bool has_avx512_bf16() {
#ifdef BENCHSUITE_X86_TARGET_KERNELS
  static const bool yes = has_avx512_base() && __builtin_cpu_supports("avx512bf16") && !disabled("avx512bf16");
  return yes;
#else
  return false;
#endif
}

bool has_avx512_vnni() {
#ifdef BENCHSUITE_X86_TARGET_KERNELS
  static const bool yes = has_avx512_base() && __builtin_cpu_supports("avx512vnni") && !disabled("avx512vnni");
  return yes;
#else
  return false;
#endif
}

}  // namespace benchsuite::cpu
