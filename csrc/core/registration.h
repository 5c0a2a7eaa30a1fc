// Self-registration at static initialization, as nvbench's NVBENCH_BENCH and Google
// Benchmark's BENCHMARK do: a folder adds its op versions, case families or Python
// bindings by defining a function with one of the macros that use this (ops/registry.h,
// harness/cases.h, bindings/bindings.h), and nothing central names it.
//
// Registrations are collected in a function-local list (safe whatever the order in which
// translation units initialize) and read in (order, name) order, so what users see never
// depends on the link order.
#pragma once
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace benchsuite {

template <class Fn>
class Registrations {
 public:
  struct Entry {
    std::string name;  // the registering folder or area ("softmax", "tensor")
    int order;         // lower first: bindings of core types before the ops that use them
    Fn fn;
  };
  static bool add(std::string name, int order, Fn fn) {
    entries().push_back({std::move(name), order, fn});
    return true;
  }
  static std::vector<Entry> sorted() {
    std::vector<Entry> out = entries();
    std::stable_sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) {
      return a.order != b.order ? a.order < b.order : a.name < b.name;
    });
    return out;
  }

 private:
  static std::vector<Entry>& entries() {
    static std::vector<Entry> list;
    return list;
  }
};

}  // namespace benchsuite

#define BENCHSUITE_CONCAT_INNER(a, b) a##b
#define BENCHSUITE_CONCAT(a, b) BENCHSUITE_CONCAT_INNER(a, b)

// Defines `static void fn_name(Arg)` and registers it with Registrations<Fn> under `name`.
#define BENCHSUITE_REGISTER_FUNCTION(Fn, name, order, fn_name, Arg)                                  \
  static void fn_name(Arg);                                                                        \
  [[maybe_unused]] static const bool BENCHSUITE_CONCAT(fn_name, _registered) =                     \
      ::benchsuite::Registrations<Fn>::add(name, order, &fn_name);                                 \
  static void fn_name(Arg)
