// benchsuite._core: the one extension module. Maps benchsuite::Error kinds onto the
// exception classes in benchsuite.core.errors and runs every registered folder's bindings
// (BENCHSUITE_REGISTER_BINDINGS): it names no area.
#include <pybind11/pybind11.h>

#include "bindings/bindings.h"
#include "core/error.h"

namespace py = pybind11;

namespace {
void raise_benchsuite_error(const benchsuite::Error& e) {
  py::module_ errors = py::module_::import("benchsuite.core.errors");
  const char* name = "BenchsuiteError";
  switch (e.kind()) {
    case benchsuite::ErrorKind::invalid_argument: name = "InvalidArgumentError"; break;
    case benchsuite::ErrorKind::unsupported: name = "UnsupportedError"; break;
    case benchsuite::ErrorKind::cuda_unavailable: name = "CudaUnavailableError"; break;
    case benchsuite::ErrorKind::cuda: name = "CudaError"; break;
    case benchsuite::ErrorKind::internal: name = "BenchsuiteError"; break;
  }
  py::object cls = errors.attr(name);
  py::object exc;
  if (e.kind() == benchsuite::ErrorKind::unsupported || e.kind() == benchsuite::ErrorKind::cuda_unavailable)
    exc = cls(e.what(), e.reason().empty() ? std::string("unsupported") : e.reason());
  else
    exc = cls(e.what());
  exc.attr("source_file") = e.file();
  exc.attr("source_line") = e.line();
  PyErr_SetObject(cls.ptr(), exc.ptr());
}
}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "benchsuite native core: tensors, kernels, ops and the measurement harness";
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const benchsuite::Error& e) {
      raise_benchsuite_error(e);
    }
  });
  for (const auto& entry : benchsuite::Registrations<benchsuite::bindings::BindingsRegistration>::sorted())
    entry.fn(m);
}
