// The CPU side of a case's energy: a runner that calls the code in a loop, measured
// against RAPL; the GPU side is in case_energy_cuda.cpp.
#include "harness/probes/case_energy.h"

#include "harness/measure.h"
#include "harness/probes/rapl.h"

namespace benchsuite {

namespace {
class CpuRunner : public WorkRunner {
 public:
  explicit CpuRunner(const std::function<void()>& fn) : fn_(fn) {}
  void launch(int64_t n) override {
    for (int64_t i = 0; i < n; ++i) fn_();
    done_ += n;
  }
  int64_t completed() override { return done_; }
  void wait(double) override {}
 private:
  const std::function<void()>& fn_;
  int64_t done_ = 0;
};
}  // namespace

EnergyWindowSettings energy_window_settings(const MeasureSettings& s) {
  EnergyWindowSettings w;
  w.min_counter_updates = s.energy_min_updates;
  w.min_window_s = s.energy_min_window;
  w.max_window_s = s.energy_max_window;
  w.warmup_s = s.energy_warmup;
  return w;
}

EnergyWindowResult measure_energy_cpu(const std::function<void()>& fn, const MeasureSettings& settings,
                                      double seconds_per_iter) {
  RaplMonitor monitor;
  if (!monitor.ok()) {
    EnergyWindowResult r;
    r.reason = monitor.reason();
    return r;
  }
  CpuRunner runner(fn);
  EnergyWindowResult r =
      measure_energy_window(runner, monitor, steady_seconds, energy_window_settings(settings), seconds_per_iter);
  if (r.source == "rapl" && r.reason.empty())
    r.reason = "RAPL package energy: the whole socket, including other processes";
  return r;
}

}  // namespace benchsuite
