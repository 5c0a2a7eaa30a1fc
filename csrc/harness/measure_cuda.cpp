// Device timing loop: CUDA events on the launch stream, in three modes.
//   cold : L2 flushed (a memset over twice the L2 size) before each sample, 1 launch
//   hot  : k back-to-back launches between one event pair
//   graph: k launches captured once into a CUDA graph, one replay per event pair
#include <algorithm>
#include <chrono>

#include "core/error.h"
#include "harness/measure.h"
#include "harness/interrupt.h"

#ifdef BENCHSUITE_WITH_CUDA
#include <cuda_runtime_api.h>

#include "core/cuda_check.h"
#endif

namespace benchsuite {

#ifdef BENCHSUITE_WITH_CUDA

namespace {
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Owns the CUDA objects of one measurement so that an exception thrown by the measured
// function (or a failed check) releases them.
struct CudaResources {
  cudaStream_t stream = nullptr;
  bool owns_stream = false;
  cudaEvent_t start = nullptr, stop = nullptr;
  void* flush_buffer = nullptr;
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t graph_exec = nullptr;
  ~CudaResources() {
    if (graph_exec) cudaGraphExecDestroy(graph_exec);
    if (graph) cudaGraphDestroy(graph);
    if (flush_buffer) cudaFree(flush_buffer);
    if (start) cudaEventDestroy(start);
    if (stop) cudaEventDestroy(stop);
    if (owns_stream && stream) cudaStreamDestroy(stream);
  }
};

void capture_graph(CudaResources& r, const std::function<void(StreamHandle)>& fn, int64_t launches) {
  BENCHSUITE_CHECK_ARG(r.stream != nullptr && r.stream != cudaStreamLegacy && r.stream != cudaStreamPerThread,
                       "mode='graph' needs a non-default stream to capture on (got stream=default)");
  BENCHSUITE_CUDA_CHECK(cudaStreamBeginCapture(r.stream, cudaStreamCaptureModeThreadLocal));
  try {
    for (int64_t i = 0; i < launches; ++i) fn(r.stream);
  } catch (...) {
    cudaGraph_t discarded = nullptr;
    cudaStreamEndCapture(r.stream, &discarded);  // leave the stream usable
    if (discarded) cudaGraphDestroy(discarded);
    cudaGetLastError();
    throw;
  }
  BENCHSUITE_CUDA_CHECK(cudaStreamEndCapture(r.stream, &r.graph));
  BENCHSUITE_CUDA_CHECK(cudaGraphInstantiate(&r.graph_exec, r.graph, 0));
  BENCHSUITE_CUDA_CHECK(cudaGraphUpload(r.graph_exec, r.stream));
}
}  // namespace

Measurement measure_cuda(const std::function<void(StreamHandle)>& fn, const MeasureSettings& settings, int device,
                         StreamHandle stream) {
  settings.validate();
  require_cuda("measure (cuda)");
  BENCHSUITE_CUDA_CHECK(cudaSetDevice(device));
  Measurement m;
  m.mode = settings.mode;
  m.timer = "cuda_event";
  m.timer_resolution = 0.5e-6;  // cudaEventElapsedTime: about half a microsecond
  const bool cold = settings.mode == "cold", graph = settings.mode == "graph";
  const int64_t launches = (cold || settings.smoke) ? 1 : settings.launches_per_sample;
  m.launches_per_sample = launches;
  const auto start = Clock::now();

  CudaResources r;
  if (stream == nullptr) {
    BENCHSUITE_CUDA_CHECK(cudaStreamCreateWithFlags(&r.stream, cudaStreamNonBlocking));
    r.owns_stream = true;
  } else {
    r.stream = static_cast<cudaStream_t>(stream);
  }
  BENCHSUITE_CUDA_CHECK(cudaEventCreate(&r.start));
  BENCHSUITE_CUDA_CHECK(cudaEventCreate(&r.stop));
  size_t flush_bytes = 0;
  if (cold) {
    int l2 = 0;
    BENCHSUITE_CUDA_CHECK(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, device));
    flush_bytes = static_cast<size_t>(std::max(l2, 1 << 20)) * 2;
    BENCHSUITE_CUDA_CHECK(cudaMalloc(&r.flush_buffer, flush_bytes));
    m.l2_flush_bytes = static_cast<double>(flush_bytes);
  }

  // Warm-up: module load, handle creation and lazy initialisation stay out of the
  // numbers. Graph capture needs the code loaded, so graph mode warms up at least once.
  const int64_t warmup = std::max<int64_t>(settings.warmup, graph ? 1 : 0);
  // Graph capture needs its one warm-up run even when interrupted; the first sample then stops.
  for (int64_t i = 0; i < warmup && seconds_since(start) < settings.timeout && (i == 0 || !interrupt_requested());
       ++i) {
    fn(r.stream);
    ++m.warmup_runs;
  }
  BENCHSUITE_CUDA_CHECK(cudaStreamSynchronize(r.stream));
  if (graph) {
    capture_graph(r, fn, launches);
    BENCHSUITE_CUDA_CHECK(cudaGraphLaunch(r.graph_exec, r.stream));  // first replay is slower
    BENCHSUITE_CUDA_CHECK(cudaStreamSynchronize(r.stream));
  }

  detail::StopRule rule(settings);
  unsigned char flush_value = 0;
  for (;;) {
    if (cold) BENCHSUITE_CUDA_CHECK(cudaMemsetAsync(r.flush_buffer, ++flush_value, flush_bytes, r.stream));
    m.sample_start_times.push_back(steady_seconds());
    BENCHSUITE_CUDA_CHECK(cudaEventRecord(r.start, r.stream));
    if (graph) {
      BENCHSUITE_CUDA_CHECK(cudaGraphLaunch(r.graph_exec, r.stream));
    } else {
      for (int64_t i = 0; i < launches; ++i) fn(r.stream);
    }
    BENCHSUITE_CUDA_CHECK(cudaEventRecord(r.stop, r.stream));
    BENCHSUITE_CUDA_CHECK(cudaEventSynchronize(r.stop));
    m.sample_end_times.push_back(steady_seconds());
    float elapsed_ms = 0.0f;
    BENCHSUITE_CUDA_CHECK(cudaEventElapsedTime(&elapsed_ms, r.start, r.stop));
    const double elapsed = static_cast<double>(elapsed_ms) * 1e-3;
    m.samples.push_back(elapsed / static_cast<double>(launches));
    m.sampled_time += elapsed;
    if (rule.should_stop(m.samples, m.sampled_time, seconds_since(start))) break;
  }
  BENCHSUITE_CUDA_CHECK(cudaStreamSynchronize(r.stream));
  m.stop_reason = rule.reason();
  m.total_time = seconds_since(start);
  detail::finish_measurement(m, settings);
  return m;
}

#else

Measurement measure_cuda(const std::function<void(StreamHandle)>&, const MeasureSettings& settings, int,
                         StreamHandle) {
  settings.validate();
  require_cuda("measure (cuda)");
  return {};
}

#endif

}  // namespace benchsuite
