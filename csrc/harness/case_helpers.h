// Building blocks shared by the case files (ops/<family>/cases.cpp): inputs, poisoning,
// parameter checks, version lists.
#pragma once
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "harness/cases.h"

namespace benchsuite {

namespace case_helpers {
// Sets the test_params of the registered family `name` (an internal error when missing).
void set_test_params(std::vector<CaseFamily>& families, const std::string& name, Params params);
// Inputs made by random_input are filled lazily (after the case has allocated all of its
// buffers under measure_case's AllocationBudget): measure_case forgets stale ones before
// building a case and fills the new ones once it is built.
void forget_deferred_inputs();
void fill_deferred_inputs();

// Random-normal tensor for case inputs: never zeros, fresh per instance (seeded).
Tensor random_input(const Shape& shape, DType dtype, Device device, uint64_t seed);
// Fills an output with NaN (77 for integers) so that an element a version never writes
// fails the correctness check.
void poison(const Tensor& t);
void sync_if_cuda(Device device);
// What check() does before comparing: poisons `outputs`, runs the case once on the default
// stream and waits for the outputs' device.
void run_poisoned(CaseInstance& instance, std::initializer_list<Tensor> outputs);
// Host float results as doubles (ops::compare takes doubles).
std::vector<double> as_doubles(const std::vector<float>& v);
// The less favourable of two comparisons (a failure, else the larger error).
ops::Correctness worst(const ops::Correctness& a, const ops::Correctness& b);
// An int parameter that must be in [lowest, highest]; invalid_argument naming family and value.
int64_t positive(const Params& p, const char* family, const char* name, int64_t lowest = 0,
                 int64_t highest = INT64_MAX);
std::vector<DeviceType> both_devices();
// Counters of a memory-bound case: bytes moved and items processed (no FLOP counter:
// bandwidth is its figure of merit).
Counters memory_counters(double bytes_read, double bytes_written, double items, const char* item_unit = "elements");
// The versions of op `op` as the registry lists them, per device.
std::function<std::vector<VersionDescription>(DeviceType)> op_versions_fn(const std::string& op);
std::vector<VersionDescription> op_version_list(const std::string& op, DeviceType device);
// A family that is not an op: its one version "v1" (float32) on every device it runs on.
std::function<std::vector<VersionDescription>(DeviceType)> single_version(const std::string& description);
// invalid_argument unless `version` names that one version (or none: "" or "default").
void require_v1(const std::string& family, const std::string& version);
// The parameters of the cases over the rows of a matrix (softmax and norms families):
// rows, cols (the normalised axis) and dtype.
std::vector<ParamSpec> row_op_params();
// Where CPU references and host copies live.
extern const Device kHost;
}  // namespace case_helpers

}  // namespace benchsuite
