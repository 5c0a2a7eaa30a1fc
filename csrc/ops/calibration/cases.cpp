// Harness validation cases of known duration: spin (one GPU thread waits a number of SM
// cycles) and busy_wait (the host waits a time on steady_clock).
#include <map>
#include <string>

#include "core/cuda_runtime.h"
#include "core/error.h"
#include "harness/case_helpers.h"
#include "ops/calibration/calibration.h"
#include "ops/check.h"

namespace benchsuite {

namespace {
using namespace case_helpers;

// ---- harness validation cases of known duration ----------------------------------------
#ifdef BENCHSUITE_WITH_CUDA
class SpinCase : public CaseInstance {
 public:
  SpinCase(const Params& p, Device device) : device_(device), cycles_(positive(p, "spin", "cycles")) {
    elapsed_ = Tensor::empty({1}, DType::int64, device);
  }
  void run(StreamHandle stream) override {
    cuda::spin_cycles(cycles_, static_cast<unsigned long long*>(elapsed_.data_ptr()), stream);
  }
  std::map<std::string, double> extra() override {
    const CudaDeviceInfo info = cuda_device_info(device_.index);
    const double clock_hz = info.sm_clock_khz * 1e3;
    sync_if_cuda(device_);
    std::vector<double> elapsed = ops::to_host_doubles(elapsed_);
    return {{"cycles", static_cast<double>(cycles_)},
            {"sm_clock_hz", clock_hz},
            {"expected_seconds", static_cast<double>(cycles_) / clock_hz},
            {"last_globaltimer_seconds", elapsed[0] * 1e-9}};
  }
  std::map<std::string, CaseMetric> metrics() override {
    const double clock_hz = cuda_device_info(device_.index).sm_clock_khz * 1e3;
    return {{"expected_time", {static_cast<double>(cycles_) / clock_hz, "s", "", "cycles / rated SM clock"}}};
  }

 private:
  Device device_;
  int64_t cycles_;
  Tensor elapsed_;
};
#endif

class BusyWaitCase : public CaseInstance {
 public:
  explicit BusyWaitCase(const Params& p) : nanoseconds_(positive(p, "busy_wait", "nanoseconds", 0, kMaxWait)) {}
  static constexpr int64_t kMaxWait = int64_t{60} * 1000000000;  // a timer check, not a sleep: 60 s
  void run(StreamHandle) override { cpu::spin_for(nanoseconds_); }
  std::map<std::string, double> extra() override {
    return {{"expected_seconds", static_cast<double>(nanoseconds_) * 1e-9}};
  }
  // What a timer check reports beside the time: the time it should have measured.
  std::map<std::string, CaseMetric> metrics() override {
    return {{"expected_time", {static_cast<double>(nanoseconds_) * 1e-9, "s", "", "the busy-wait's set length"}}};
  }

 private:
  int64_t nanoseconds_;
};
}  // namespace

BENCHSUITE_REGISTER_CASES(calibration) {
  std::vector<CaseFamily>& f = families;
  f.push_back({"spin", "harness", "one GPU thread busy-waits a fixed number of SM cycles (clock64)",
               {{"cycles", "int", int64_t{1000000}, "SM clock cycles"}}, {DeviceType::cuda},
               single_version("single-thread clock64 loop"),
               [](const Params& p, Device d, const std::string& v, uint64_t) -> std::unique_ptr<CaseInstance> {
                 require_v1("spin", v);
#ifdef BENCHSUITE_WITH_CUDA
                 require_cuda("spin");
                 return std::unique_ptr<CaseInstance>(new SpinCase(p, d));
#else
                 require_cuda("spin");
                 return nullptr;
#endif
               }});
  f.push_back({"busy_wait", "harness", "the host busy-waits a fixed time on steady_clock",
               {{"nanoseconds", "int", int64_t{100000}, "wait per call"}}, {DeviceType::cpu},
               single_version("steady_clock loop"),
               [](const Params& p, Device, const std::string& v, uint64_t) {
                 require_v1("busy_wait", v);
                 return std::unique_ptr<CaseInstance>(new BusyWaitCase(p));
               }});
}

}  // namespace benchsuite
