// Declarations shared by the bindings files: each area contributes bind_<area>().
#pragma once
#include <pybind11/pybind11.h>

#include "common/allocator.h"
#include "common/tensor.h"
#include "harness/energy.h"

namespace benchsuite::bindings {
namespace py = pybind11;

void bind_system(py::module_& m);
void bind_tensor(py::module_& m);
void bind_ops(py::module_& m);
void bind_harness(py::module_& m);
void bind_manipulation_ops(py::module_& m);
void bind_nn_ops(py::module_& m);
void bind_scan_ops(py::module_& m);
void bind_attention_ops(py::module_& m);
void bind_energy(py::module_& m);

// The tracking allocator's counters as a dict (memory_stats(), case results).
py::dict memory_stats_dict(const MemoryStats& stats);

// Energy window and clock summaries as results dicts (bind_energy.cpp).
py::dict energy_dict(const EnergyWindowResult& r);
py::dict clocks_dict(const ClockSummary& c);

// A shape from a Python int or sequence of ints (invalid_argument naming `shape` otherwise).
Shape as_shape(const py::object& shape);

// A Tensor from a bs.Tensor, a DLPack producer (torch, cupy) or a buffer (NumPy).
Tensor as_tensor(const py::handle& obj, const char* arg);
}  // namespace benchsuite::bindings
