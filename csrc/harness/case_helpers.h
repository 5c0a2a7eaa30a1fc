// Building blocks shared by the case files (harness/cases*.cpp): inputs, poisoning,
// parameter checks, and each op area's hook that adds its case families.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/tensor.h"
#include "harness/cases.h"

namespace benchsuite {

namespace case_helpers {
// Random-normal tensor for case inputs: never zeros, fresh per instance (seeded).
Tensor random_input(const Shape& shape, DType dtype, Device device, uint64_t seed);
// Fills an output with NaN (77 for integers) so that an element a version never writes
// fails the correctness check.
void poison(const Tensor& t);
void sync_if_cuda(Device device);
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
}  // namespace case_helpers

// Each op area adds its case families (harness/cases_<area>.cpp).
void add_manipulation_cases(std::vector<CaseFamily>& families);
void add_nn_cases(std::vector<CaseFamily>& families);
void add_scan_cases(std::vector<CaseFamily>& families);
void add_attention_cases(std::vector<CaseFamily>& families);
void add_memory_cases(std::vector<CaseFamily>& families);  // harness/cases_memory.cpp

}  // namespace benchsuite
