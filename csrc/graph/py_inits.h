// Parameter inits as Python sees them: name -> (kind, std), kind "normal", "ones" or "zeros"
// (graph/bind.cpp, models/bind.cpp).
#pragma once
#include <map>
#include <string>

#include <pybind11/pybind11.h>

#include "graph/builder.h"

namespace benchsuite::bindings {
pybind11::dict inits_to_python(const std::map<std::string, graph::ParameterInit>& inits);
}  // namespace benchsuite::bindings
