// The GPU side of a case's energy: a runner that queues launches on a stream and counts
// completions with events, measured against the NVML monitor. Compiled in every build
// (the harness has no CUDA-only files); without CUDA it says so.
#include "harness/probes/case_energy.h"

#include <chrono>
#include <deque>
#include <thread>

#include "core/error.h"
#include "harness/measure.h"
#include "harness/probes/nvml_monitor.h"

#ifdef BENCHSUITE_WITH_CUDA
#include <cuda_runtime_api.h>

#include "core/cuda_check.h"
#endif

namespace benchsuite {

#ifdef BENCHSUITE_WITH_CUDA

namespace {
class CudaRunner : public WorkRunner {
 public:
  CudaRunner(const std::function<void(StreamHandle)>& fn, int device, StreamHandle stream) : fn_(fn) {
    BENCHSUITE_CUDA_CHECK(cudaSetDevice(device));
    if (stream == nullptr) {
      BENCHSUITE_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
      owns_stream_ = true;
    } else {
      stream_ = static_cast<cudaStream_t>(stream);
    }
  }
  ~CudaRunner() override {
    cudaStreamSynchronize(stream_);
    for (auto& [event, n] : pending_) cudaEventDestroy(event);
    if (owns_stream_) cudaStreamDestroy(stream_);
  }
  void launch(int64_t n) override {
    for (int64_t i = 0; i < n; ++i) fn_(stream_);
    cudaEvent_t event = nullptr;
    BENCHSUITE_CUDA_CHECK(cudaEventCreateWithFlags(&event, cudaEventDisableTiming));
    pending_.emplace_back(event, n);
    BENCHSUITE_CUDA_CHECK(cudaEventRecord(event, stream_));
  }
  int64_t completed() override {
    while (!pending_.empty()) {
      const cudaError_t err = cudaEventQuery(pending_.front().first);
      if (err == cudaErrorNotReady) break;
      BENCHSUITE_CUDA_CHECK(err);
      done_ += pending_.front().second;
      cudaEventDestroy(pending_.front().first);
      pending_.pop_front();
    }
    return done_;
  }
  void wait(double seconds) override { std::this_thread::sleep_for(std::chrono::duration<double>(seconds)); }

 private:
  const std::function<void(StreamHandle)>& fn_;
  cudaStream_t stream_ = nullptr;
  bool owns_stream_ = false;
  std::deque<std::pair<cudaEvent_t, int64_t>> pending_;
  int64_t done_ = 0;
};
}  // namespace

EnergyWindowResult measure_energy_cuda(const std::function<void(StreamHandle)>& fn, const MeasureSettings& settings,
                                       int device, StreamHandle stream, double seconds_per_iter) {
  require_cuda("energy (cuda)");
  NvmlMonitor monitor(device);
  if (!monitor.ok()) {
    EnergyWindowResult r;
    r.reason = monitor.reason();
    return r;
  }
  CudaRunner runner(fn, device, stream);
  return measure_energy_window(runner, monitor, steady_seconds, energy_window_settings(settings), seconds_per_iter);
}

#else

EnergyWindowResult measure_energy_cuda(const std::function<void(StreamHandle)>&, const MeasureSettings&, int,
                                       StreamHandle, double) {
  require_cuda("energy (cuda)");
  return {};
}

#endif

}  // namespace benchsuite
