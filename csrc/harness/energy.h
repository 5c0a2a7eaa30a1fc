// Energy, clocks and host memory: the probes of harness/probes/, in one include for the case
// runner and the bindings.
#pragma once
#include "harness/probes/case_energy.h"
#include "harness/probes/device_monitor.h"
#include "harness/probes/energy_window.h"
#include "harness/probes/nvml_monitor.h"
#include "harness/probes/profiler_meter.h"
#include "harness/probes/rapl.h"
#include "harness/probes/rss.h"
#include "harness/probes/throttle.h"
