// What was compiled and what is here: build_config(), cpu_info(), cuda_status(),
// cuda_devices(), and the tracking allocator's counters.
#include <pybind11/stl.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "bindings/bindings.h"
#include "build_info.h"
#include "common/allocator.h"
#include "common/cuda_runtime.h"
#include "common/error.h"
#ifdef _OPENMP
#include <omp.h>
#endif
#ifdef BENCHSUITE_WITH_CUDA
#include <cublas_api.h>
#endif
#ifdef BENCHSUITE_CUDA_EMULATOR
#include "emu/selftest.h"
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

py::dict build_config() {
  py::dict d;
  d["version"] = BENCHSUITE_VERSION;
  d["build_type"] = BENCHSUITE_BUILD_TYPE;
  d["cxx_compiler"] = std::string(BENCHSUITE_CXX_COMPILER_ID) + " " + BENCHSUITE_CXX_COMPILER_VERSION;
  d["cxx_flags"] = BENCHSUITE_CXX_FLAGS;
  d["native_arch"] = std::string(BENCHSUITE_NATIVE_ARCH_STR) == "ON";
  d["sanitizers"] = split_list(BENCHSUITE_SANITIZERS);  // e.g. ["address", "undefined"]; [] in a normal build
  d["cmake_version"] = BENCHSUITE_CMAKE_VERSION;
  d["pybind11_version"] = std::to_string(PYBIND11_VERSION_MAJOR) + "." + std::to_string(PYBIND11_VERSION_MINOR) +
                          "." + std::to_string(PYBIND11_VERSION_PATCH);
  py::dict openmp;
#ifdef _OPENMP
  openmp["enabled"] = true;
  openmp["version"] = static_cast<int>(_OPENMP);
  openmp["max_threads"] = omp_get_max_threads();
#else
  openmp["enabled"] = false;
  openmp["version"] = py::none();
  openmp["max_threads"] = 1;
#endif
  d["openmp"] = openmp;
  py::dict cuda;
#ifdef BENCHSUITE_WITH_CUDA
  cuda["enabled"] = true;
  cuda["architectures"] = split_list(BENCHSUITE_CUDA_ARCHITECTURES);
  cuda["compiler_version"] = BENCHSUITE_CUDA_COMPILER_VERSION;
  cuda["flags"] = BENCHSUITE_CUDA_FLAGS;
  cuda["cublas_version"] = std::to_string(CUBLAS_VER_MAJOR) + "." + std::to_string(CUBLAS_VER_MINOR) + "." +
                           std::to_string(CUBLAS_VER_PATCH);
#ifdef BENCHSUITE_CUDA_EMULATOR
  cuda["runtime_linkage"] = "emulator";
  cuda["emulator"] = true;  // kernels run on the CPU emulator: correct results, meaningless timings
#else
  cuda["runtime_linkage"] = "static";
  cuda["emulator"] = false;
#endif
#else
  cuda["enabled"] = false;
  cuda["architectures"] = std::vector<std::string>{};
  cuda["compiler_version"] = py::none();
  cuda["flags"] = py::none();
  cuda["cublas_version"] = py::none();
  cuda["runtime_linkage"] = py::none();
  cuda["emulator"] = false;
#endif
  d["cuda"] = cuda;
  return d;
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

py::dict cpu_info() {
  py::dict d;
  d["model"] = cpu_model_name();
  d["logical_cores"] = static_cast<int>(std::thread::hardware_concurrency());
  py::list features;
  __builtin_cpu_init();
  if (__builtin_cpu_supports("sse4.2")) features.append("sse4.2");
  if (__builtin_cpu_supports("avx")) features.append("avx");
  if (__builtin_cpu_supports("avx2")) features.append("avx2");
  if (__builtin_cpu_supports("fma")) features.append("fma");
  if (__builtin_cpu_supports("avx512f")) features.append("avx512f");
  if (__builtin_cpu_supports("avx512bw")) features.append("avx512bw");
  if (__builtin_cpu_supports("avx512vl")) features.append("avx512vl");
  d["features"] = features;
  auto cache = [](int name) -> py::object {
    long v = sysconf(name);
    return v > 0 ? py::object(py::int_(v)) : py::object(py::none());
  };
  d["l1d_cache_bytes"] = cache(_SC_LEVEL1_DCACHE_SIZE);
  d["l2_cache_bytes"] = cache(_SC_LEVEL2_CACHE_SIZE);
  d["l3_cache_bytes"] = cache(_SC_LEVEL3_CACHE_SIZE);
  d["memory_total_bytes"] = static_cast<int64_t>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE);
#ifdef _OPENMP
  d["openmp_threads"] = omp_get_max_threads();
#else
  d["openmp_threads"] = 1;
#endif
  return d;
}

std::string version_string(int v) { return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10); }

py::dict cuda_device_dict(const CudaDeviceInfo& info) {
  py::dict d;
  d["index"] = info.index;
  d["name"] = info.name;
  d["compute_capability"] = std::to_string(info.cc_major) + "." + std::to_string(info.cc_minor);
  d["sm_count"] = info.sm_count;
  d["memory_total_bytes"] = info.total_memory;
  d["l2_cache_bytes"] = info.l2_cache_bytes;
  d["sm_clock_mhz"] = info.sm_clock_khz / 1000.0;
  d["memory_clock_mhz"] = info.memory_clock_khz / 1000.0;
  d["memory_bus_width_bits"] = info.memory_bus_width_bits;
  d["max_threads_per_block"] = info.max_threads_per_block;
  d["shared_memory_per_block_optin"] = info.shared_memory_per_block_optin;
  d["shared_memory_per_sm"] = info.shared_memory_per_sm;
  d["ecc_enabled"] = info.ecc_enabled;
  d["pci_bus_id"] = info.pci_bus_id;
  d["driver_version"] = version_string(info.driver_version);
  d["cuda_runtime_version"] = version_string(info.runtime_version);
  return d;
}

}  // namespace

py::dict memory_stats_dict(const MemoryStats& s) {
  py::dict d;
  d["bytes_in_use"] = s.bytes_in_use;
  d["peak_bytes"] = s.peak_bytes;
  d["allocation_count"] = s.allocation_count;
  d["allocated_bytes"] = s.allocated_bytes;
  d["active_allocations"] = s.active_allocations;
  return d;
}

void bind_system(py::module_& m) {
  m.def("build_config", &build_config, "What this build of the native core contains.");
#ifdef BENCHSUITE_CUDA_EMULATOR
  m.def("_emulator_selftest", &emu_selftest::run_emulator_selftest, py::arg("name"),
        "Runs one of the CUDA emulator's self-test kernels (emulator builds only).");
  m.def("_emulator_selftest_cases", &emu_selftest::emulator_selftest_cases);
#endif
  m.def("cpu_info", &cpu_info, "Host CPU model, features, caches and OpenMP threads.");
  m.def(
      "cuda_status",
      [] {
        const CudaStatus s = cuda_status();
        py::dict d;
        d["compiled"] = s.compiled;
        d["available"] = s.available;
        d["device_count"] = s.device_count;
        d["reason"] = s.available ? py::object(py::none()) : py::object(py::str(s.reason));
        return d;
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
      "memory_stats", [](const std::string& device) { return memory_stats_dict(memory_stats(parse_device(device).type)); },
      py::arg("device") = "cpu",
        "Tracking-allocator counters for a device type.");
  m.def(
      "reset_memory_stats", [](const std::string& device) { reset_memory_stats(parse_device(device).type); },
      py::arg("device") = "cpu", "Restart peak and counts from now.");
  m.def(
      "synchronize", [](const std::string& device) { cuda_synchronize(parse_device(device).index); },
      py::arg("device") = "cuda", "Wait for all work on a CUDA device.");
}

}  // namespace benchsuite::bindings
