// Declarations shared by the bindings files: each folder registers its own bindings.
#pragma once
#include <pybind11/pybind11.h>

#include "core/allocator.h"
#include "core/registration.h"
#include "core/tensor.h"
#include "harness/energy.h"

namespace benchsuite::bindings {
namespace py = pybind11;

// A folder's Python bindings, added at static initialization (BENCHSUITE_REGISTER_BINDINGS)
// and run by module.cpp in (order, name) order: core types first, so that the ops' signatures
// can name them.
using BindingsRegistration = void (*)(py::module_& m);
enum BindingsOrder : int { kBindCoreTypes = 0, kBindHarness = 1, kBindOps = 2 };

// The tracking allocator's counters as a dict (memory_stats(), case results).
py::dict memory_stats_dict(const MemoryStats& stats);

// Energy window and clock summaries as results dicts (bind_energy.cpp).
py::dict energy_dict(const EnergyWindowResult& r);
py::dict clocks_dict(const ClockSummary& c);

// A shape from a Python int or sequence of ints (invalid_argument naming `shape` otherwise).
Shape as_shape(const py::object& shape);
// (h, w) from an int (both) or a pair of ints (invalid_argument naming `name` otherwise).
std::pair<int64_t, int64_t> as_int_pair(const py::object& value, const char* name);

// A Tensor from a bs.Tensor, a DLPack producer (torch, cupy) or a buffer (NumPy).
Tensor as_tensor(const py::handle& obj, const char* arg);
}  // namespace benchsuite::bindings

// Registers a folder's bindings at static initialization:
//   BENCHSUITE_REGISTER_BINDINGS(softmax, kBindOps) { m.def("softmax", ...); }
#define BENCHSUITE_REGISTER_BINDINGS(area, order)                                                    \
  BENCHSUITE_REGISTER_FUNCTION(::benchsuite::bindings::BindingsRegistration, #area,                  \
                               ::benchsuite::bindings::order, BENCHSUITE_CONCAT(register_bindings_, area), \
                               ::pybind11::module_& m)
