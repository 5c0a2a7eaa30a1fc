// Native results as Python dicts: make_dict("key", value, ...) with the conversions every
// bindings file uses (an empty optional or a null name is None).
#pragma once
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <type_traits>

namespace benchsuite::bindings {
namespace py = pybind11;

template <class T>
py::object to_py(const T& value) {
  if constexpr (std::is_base_of_v<py::handle, T>) {
    return py::reinterpret_borrow<py::object>(value);  // already a Python object
  } else {
    return py::cast(value);
  }
}
template <class T>
py::object to_py(const std::optional<T>& value) {
  return value ? py::cast(*value) : py::object(py::none());
}
inline py::object to_py(const char* text) { return text ? py::object(py::str(text)) : py::object(py::none()); }

// A reason or a name that is not there: "" becomes None.
inline py::object none_if_empty(const std::string& text) {
  return text.empty() ? py::object(py::none()) : py::object(py::str(text));
}

namespace make_dict_impl {
inline void add_items(py::dict&) {}
template <class V, class... Rest>
void add_items(py::dict& d, const char* key, const V& value, const Rest&... rest) {
  d[key] = to_py(value);
  add_items(d, rest...);
}
}  // namespace make_dict_impl

// A dict from keys and values in turn, in that order: make_dict("n", s.n, "mean", s.mean).
template <class... KeysAndValues>
py::dict make_dict(const KeysAndValues&... keys_and_values) {
  static_assert(sizeof...(keys_and_values) % 2 == 0, "make_dict takes keys and values in turn");
  py::dict d;
  make_dict_impl::add_items(d, keys_and_values...);
  return d;
}

}  // namespace benchsuite::bindings
