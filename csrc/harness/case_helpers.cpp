// Building blocks shared by the case files (harness/case_helpers.h).
#include "harness/case_helpers.h"

#include <memory>
#include <vector>

#include "core/cuda_runtime.h"
#include "core/error.h"
#include "ops/dispatch.h"
#include "ops/registry.h"

namespace benchsuite {

namespace case_helpers {

namespace {
// Inputs of the case being built whose fill is deferred; measure_case fills them once the
// case has allocated everything (thread-local: cases may be built on several threads).
thread_local std::vector<std::weak_ptr<Storage>> t_deferred_inputs;
}  // namespace

void set_test_params(std::vector<CaseFamily>& families, const std::string& name, Params params) {
  for (CaseFamily& f : families)
    if (f.name == name) {
      f.test_params = std::move(params);
      return;
    }
  BENCHSUITE_CHECK(false, "set_test_params: no family ", name);
}

void forget_deferred_inputs() { t_deferred_inputs.clear(); }

void fill_deferred_inputs() {
  std::vector<std::weak_ptr<Storage>> pending;
  pending.swap(t_deferred_inputs);
  for (const std::weak_ptr<Storage>& weak : pending)
    if (const std::shared_ptr<Storage> storage = weak.lock()) storage->data();  // runs the fill
}

std::vector<VersionDescription> op_version_list(const std::string& op, DeviceType device) {
  std::vector<VersionDescription> out;
  for (const ops::OpVersion* v : ops::versions_of(op, device)) {
    VersionDescription d{v->version, v->description, {}};
    for (DType t : v->dtypes) d.dtypes.push_back(dtype_name(t));
    out.push_back(d);
  }
  return out;
}

Tensor random_input(const Shape& shape, DType dtype, Device device, uint64_t seed) {
  Tensor t = Tensor::empty(shape, dtype, device);
  // Filled on first use, after the case has allocated all of its buffers (measure_case
  // holds an AllocationBudget): a case too large for memory fails before any filling.
  // The fill writes through a non-owning view of the raw buffer (no cycle, no recursion).
  Storage* storage = t.storage().get();
  storage->defer_init([storage, shape, dtype, device, seed] {
    const Tensor view = Tensor::from_external(storage->raw_data(), shape, {}, dtype, device, nullptr);
    ops::CreationParams p;
    p.seed = seed;
    p.a = 0.0f;  // mean
    p.b = 1.0f;  // standard deviation
    ops::run_creation(ops::select_version("randn", device, dtype, ""), view, p);
  });
  t_deferred_inputs.push_back(t.storage());
  return t;
}

void poison(const Tensor& t) {
  if (t.numel() == 0) return;
  ops::CreationParams p;
  p.value = is_floating(t.dtype()) ? NAN : 77.0;
  ops::run_creation(ops::select_version("fill", t.device(), t.dtype(), ""), t, p);
}

void sync_if_cuda(Device device) {
  if (device.is_cuda()) cuda_synchronize(device.index);
}

void run_poisoned(CaseInstance& instance, std::initializer_list<Tensor> outputs) {
  for (const Tensor& t : outputs) poison(t);
  instance.run(nullptr);
  sync_if_cuda(outputs.begin()->device());
}

std::vector<double> as_doubles(const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); }

ops::Correctness worst(const ops::Correctness& a, const ops::Correctness& b) {
  if (a.passed != b.passed) return a.passed ? b : a;
  return a.max_rel_error >= b.max_rel_error ? a : b;
}

int64_t positive(const Params& p, const char* family, const char* name, int64_t lowest, int64_t highest) {
  const int64_t v = detail::param_int(p, name);
  BENCHSUITE_CHECK_ARG(v >= lowest, family, ": ", name, "=", v, " must be >= ", lowest);
  BENCHSUITE_CHECK_ARG(v <= highest, family, ": ", name, "=", v, " must be <= ", highest);
  return v;
}

std::vector<DeviceType> both_devices() { return {DeviceType::cpu, DeviceType::cuda}; }

Counters memory_counters(double bytes_read, double bytes_written, double items, const char* item_unit) {
  Counters c;
  c.bytes_read = bytes_read;
  c.bytes_written = bytes_written;
  c.items = items;
  c.item_unit = item_unit;
  return c;
}

std::function<std::vector<VersionDescription>(DeviceType)> op_versions_fn(const std::string& op) {
  return [op](DeviceType d) { return op_version_list(op, d); };
}

std::function<std::vector<VersionDescription>(DeviceType)> single_version(const std::string& description) {
  return [description](DeviceType) { return std::vector<VersionDescription>{{"v1", description, {"float32"}}}; };
}

void require_v1(const std::string& family, const std::string& version) {
  BENCHSUITE_CHECK_ARG(version.empty() || version == "v1" || version == "default", family, ": impl='", version,
                       "' is not a version (known: v1)");
}

std::vector<ParamSpec> row_op_params() {
  return {{"rows", "int", int64_t{4096}, "rows"},
          {"cols", "int", int64_t{4096}, "columns (normalised axis)"},
          {"dtype", "str", std::string("float32"), "element type"}};
}

const Device kHost{DeviceType::cpu, 0};

}  // namespace case_helpers

}  // namespace benchsuite
