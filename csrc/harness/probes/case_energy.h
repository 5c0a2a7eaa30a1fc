// Energy of a case: the energy window over the case's runner (a CPU loop, or launches on a
// CUDA stream) and its device's monitor (RAPL, or NVML), with the harness settings.
#pragma once
#include <functional>

#include "core/cuda_runtime.h"
#include "harness/probes/energy_window.h"
#include "harness/settings.h"

namespace benchsuite {

EnergyWindowSettings energy_window_settings(const MeasureSettings& s);
EnergyWindowResult measure_energy_cpu(const std::function<void()>& fn, const MeasureSettings& settings,
                                      double seconds_per_iter);
EnergyWindowResult measure_energy_cuda(const std::function<void(StreamHandle)>& fn, const MeasureSettings& settings,
                                       int device, StreamHandle stream, double seconds_per_iter);

}  // namespace benchsuite
