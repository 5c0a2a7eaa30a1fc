// What was compiled and what is here: build_config(), cpu_info(), cuda_status(),
// cuda_devices(), and the tracking allocator's counters.
#include <pybind11/stl.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <thread>

#include "bindings/bindings.h"
#include "bindings/py_dict.h"
#include "build_info.h"
#include "core/allocator.h"
#include "core/cpu_features.h"
#include "core/cuda_runtime.h"
#include "core/error.h"
#include "ops/calibration/calibration.h"
#include "ops/matmul/gemm_isa.h"
#include "ops/matmul/vendor_blas.h"
#ifdef _OPENMP
#include <omp.h>
#endif
#ifdef BENCHSUITE_WITH_CUDA
#include <cublas_api.h>
#endif

namespace benchsuite::bindings {

namespace {

[[maybe_unused]] std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::string item;
  for (char c : text + ";") {
    if (c == ';' || c == ',' || c == ' ') {
      if (!item.empty()) out.push_back(item);
      item.clear();
    } else {
      item += c;
    }
  }
  return out;
}

py::dict openmp_build() {
#ifdef _OPENMP
  return make_dict("enabled", true, "version", static_cast<int>(_OPENMP), "max_threads", omp_get_max_threads());
#else
  return make_dict("enabled", false, "version", py::none(), "max_threads", 1);
#endif
}

py::dict cuda_build() {
#ifdef BENCHSUITE_WITH_CUDA
#ifdef BENCHSUITE_CUDA_EMULATOR
  const bool emulator = true;  // kernels run on the CPU emulator: correct results, meaningless timings
#else
  const bool emulator = false;
#endif
  const std::string cublas_version = std::to_string(CUBLAS_VER_MAJOR) + "." + std::to_string(CUBLAS_VER_MINOR) + "." +
                                     std::to_string(CUBLAS_VER_PATCH);
  return make_dict("enabled", true, "architectures", split_list(BENCHSUITE_CUDA_ARCHITECTURES),
                   "compiler_version", BENCHSUITE_CUDA_COMPILER_VERSION, "flags", BENCHSUITE_CUDA_FLAGS,
                   "cublas_version", cublas_version, "runtime_linkage", emulator ? "emulator" : "static",
                   "emulator", emulator);
#else
  return make_dict("enabled", false, "architectures", std::vector<std::string>{}, "compiler_version", py::none(),
                   "flags", py::none(), "cublas_version", py::none(), "runtime_linkage", py::none(), "emulator", false);
#endif
}

py::dict build_config() {
  const std::string pybind11_version = std::to_string(PYBIND11_VERSION_MAJOR) + "." +
                                       std::to_string(PYBIND11_VERSION_MINOR) + "." +
                                       std::to_string(PYBIND11_VERSION_PATCH);
  return make_dict("version", BENCHSUITE_VERSION, "build_type", BENCHSUITE_BUILD_TYPE,
                   "cxx_compiler", std::string(BENCHSUITE_CXX_COMPILER_ID) + " " + BENCHSUITE_CXX_COMPILER_VERSION,
                   "cxx_flags", BENCHSUITE_CXX_FLAGS, "native_arch", std::string(BENCHSUITE_NATIVE_ARCH_STR) == "ON",
                   // e.g. ["address", "undefined"]; [] in a normal build
                   "sanitizers", split_list(BENCHSUITE_SANITIZERS), "cmake_version", BENCHSUITE_CMAKE_VERSION,
                   "pybind11_version", pybind11_version, "openmp", openmp_build(), "cuda", cuda_build());
}

std::string cpu_model_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  }
  return "unknown";
}

// The vendor CBLAS the matmul version of that name runs (ops/matmul/vendor_blas.h).
py::dict vendor_blas_dict() {
  if (const cpu::VendorBlas* blas = cpu::vendor_blas())
    return make_dict("name", blas->name, "library", blas->library, "config", blas->config, "reason", py::none());
  return make_dict("name", py::none(), "library", py::none(), "config", py::none(), "reason",
                   cpu::vendor_blas_reason());
}

// The fp32 GEMM's instruction set: the one in use (BENCHSUITE_CPU_ISA or the newest the CPU
// has), those available, and its cache blocking.
py::dict gemm_isa_dict() {
  py::list available;
  for (cpu::GemmIsa isa : cpu::gemm_isas_available()) available.append(cpu::gemm_isa_name(isa));
  const cpu::GemmIsa isa = cpu::gemm_isa();
  const cpu::GemmBlocking b = cpu::gemm_blocking(isa);
  return make_dict("name", cpu::gemm_isa_name(isa), "available", available, "kc", b.kc, "mc", b.mc, "nc", b.nc);
}

py::dict cpu_info() {
  py::list features;
  __builtin_cpu_init();
  if (__builtin_cpu_supports("sse4.2")) features.append("sse4.2");
  if (__builtin_cpu_supports("avx")) features.append("avx");
  if (__builtin_cpu_supports("avx2")) features.append("avx2");
  if (__builtin_cpu_supports("fma")) features.append("fma");
  if (__builtin_cpu_supports("avx512f")) features.append("avx512f");
  if (__builtin_cpu_supports("avx512bw")) features.append("avx512bw");
  if (__builtin_cpu_supports("avx512vl")) features.append("avx512vl");
  if (__builtin_cpu_supports("avx512bf16")) features.append("avx512bf16");
  if (__builtin_cpu_supports("avx512vnni")) features.append("avx512vnni");
  auto cache = [](int name) -> py::object {
    long v = sysconf(name);
    return v > 0 ? py::object(py::int_(v)) : py::object(py::none());
  };
#ifdef _OPENMP
  const int openmp_threads = omp_get_max_threads();
#else
  const int openmp_threads = 1;
#endif
  return make_dict("model", cpu_model_name(), "logical_cores", static_cast<int>(std::thread::hardware_concurrency()),
                   "features", features, "l1d_cache_bytes", cache(_SC_LEVEL1_DCACHE_SIZE),
                   "l2_cache_bytes", cache(_SC_LEVEL2_CACHE_SIZE), "l3_cache_bytes", cache(_SC_LEVEL3_CACHE_SIZE),
                   "memory_total_bytes", static_cast<int64_t>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE),
                   "openmp_threads", openmp_threads, "blas", vendor_blas_dict(), "gemm_isa", gemm_isa_dict(),
                   // the run-time-dispatched kernels in use (off where the CPU lacks the
                   // instructions or BENCHSUITE_DISABLE_ISA names them)
                   "isa_paths", make_dict("avx512bf16", cpu::has_avx512_bf16(), "avx512vnni", cpu::has_avx512_vnni()));
}

std::string version_string(int v) { return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10); }

py::dict cuda_device_dict(const CudaDeviceInfo& info) {
  return make_dict("index", info.index, "name", info.name,
                   "compute_capability", std::to_string(info.cc_major) + "." + std::to_string(info.cc_minor),
                   "sm_count", info.sm_count, "memory_total_bytes", info.total_memory,
                   "l2_cache_bytes", info.l2_cache_bytes, "sm_clock_mhz", info.sm_clock_khz / 1000.0,
                   "memory_clock_mhz", info.memory_clock_khz / 1000.0,
                   "memory_bus_width_bits", info.memory_bus_width_bits,
                   "max_threads_per_block", info.max_threads_per_block,
                   "shared_memory_per_block_optin", info.shared_memory_per_block_optin,
                   "shared_memory_per_sm", info.shared_memory_per_sm, "ecc_enabled", info.ecc_enabled,
                   "pci_bus_id", info.pci_bus_id, "driver_version", version_string(info.driver_version),
                   "cuda_runtime_version", version_string(info.runtime_version));
}

}  // namespace

py::dict memory_stats_dict(const MemoryStats& s) {
  return make_dict("bytes_in_use", s.bytes_in_use, "peak_bytes", s.peak_bytes, "allocation_count", s.allocation_count,
                   "allocated_bytes", s.allocated_bytes, "active_allocations", s.active_allocations);
}

BENCHSUITE_REGISTER_BINDINGS(system, kBindCoreTypes) {
  m.def("build_config", &build_config, "What this build of the native core contains.");
  m.def("cpu_info", &cpu_info, "Host CPU model, features, caches and OpenMP threads.");
  m.def(
      "cpu_fma_peak",
      [] {
        py::gil_scoped_release release;
        return cpu::fma_peak_flop_per_s();
      },
      "The measured fp32 FLOP/s ceiling of the OpenMP threads: the best of five ~2 ms bursts of "
      "independent FMA chains on the widest vectors this build targets.");
  m.def(
      "cpu_bf16_dot_peak",
      []() -> std::optional<double> {
        py::gil_scoped_release release;
        const double peak = cpu::bf16_dot_peak_flop_per_s();
        return peak > 0 ? std::optional<double>(peak) : std::nullopt;
      },
      "The measured bf16 FLOP/s ceiling: independent vdpbf16ps chains on every OpenMP thread, 2 FLOP per "
      "bf16 product; None where the CPU lacks AVX512_BF16.");
  m.def(
      "cpu_int8_dot_peak",
      []() -> std::optional<double> {
        py::gil_scoped_release release;
        const double peak = cpu::int8_dot_peak_ops_per_s();
        return peak > 0 ? std::optional<double>(peak) : std::nullopt;
      },
      "The measured int8 ops/s ceiling: independent vpdpbusd chains on every OpenMP thread, 2 ops per "
      "u8 x s8 product; None where the CPU lacks AVX512_VNNI.");
  m.def(
      "cuda_status",
      [] {
        const CudaStatus s = cuda_status();
        const py::object reason = s.available ? py::object(py::none()) : py::object(py::str(s.reason));
        return make_dict("compiled", s.compiled, "available", s.available, "device_count", s.device_count,
                         "reason", reason);
      },
      "Whether CUDA was compiled in and a device is usable now, and why not.");
  m.def(
      "cuda_devices",
      [] {
        py::list out;
        for (const CudaDeviceInfo& info : cuda_devices()) out.append(cuda_device_dict(info));
        return out;
      },
      "Properties of each CUDA device (empty without CUDA).");
  m.def(
      "memory_stats",
      [](const std::string& device) { return memory_stats_dict(memory_stats(parse_device(device).type)); },
      py::arg("device") = "cpu", "Tracking-allocator counters for a device type.");
  m.def(
      "reset_memory_stats", [](const std::string& device) { reset_memory_stats(parse_device(device).type); },
      py::arg("device") = "cpu", "Restart peak and counts from now.");
  m.def(
      "synchronize", [](const std::string& device) { cuda_synchronize(parse_device(device).index); },
      py::arg("device") = "cuda", "Wait for all work on a CUDA device.");
}

}  // namespace benchsuite::bindings
