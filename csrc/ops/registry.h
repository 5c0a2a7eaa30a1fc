// The op-version registry: every implementation of every op, on every backend, listed
// once with its version name, one-line description and supported dtypes. Dispatch,
// tests, `benchsuite list` and the benchmark cases all read this table.
#pragma once
#include <string>
#include <vector>

#include "common/activations.h"
#include "common/cuda_runtime.h"
#include "common/tensor.h"

namespace benchsuite::ops {

struct CreationParams {
  double value = 0.0;  // fill
  uint64_t seed = 0;   // randn / uniform
  float a = 0.0f;      // randn: mean, uniform: low
  float b = 1.0f;      // randn: stddev, uniform: high
};

using UnaryImpl = void (*)(const Tensor& x, const Tensor& out, StreamHandle stream);
using BinaryImpl = void (*)(const Tensor& a, const Tensor& b, const Tensor& out, StreamHandle stream);
using CreationImpl = void (*)(const Tensor& out, const CreationParams& params, StreamHandle stream);
using AxpyImpl = void (*)(float alpha, const Tensor& x, const Tensor& y, const Tensor& out, StreamHandle stream);
using LayernormImpl = void (*)(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps, const Tensor& y,
                               const Tensor& mean, const Tensor& rstd, StreamHandle stream);
using LayernormBackwardImpl = void (*)(const Tensor& dy, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                       const Tensor& rstd, const Tensor& dx, const Tensor& dgamma,
                                       const Tensor& dbeta, StreamHandle stream);
using RmsnormImpl = void (*)(const Tensor& x, const Tensor& gamma, float eps, const Tensor& y, const Tensor& rstd,
                             StreamHandle stream);
using RmsnormBackwardImpl = void (*)(const Tensor& dy, const Tensor& x, const Tensor& gamma, const Tensor& rstd,
                                     const Tensor& dx, const Tensor& dgamma, StreamHandle stream);
// workspace: kReduceWorkspaceFloats floats on the device for CUDA; unused on the CPU.
using ReduceImpl = void (*)(Reduction kind, const Tensor& x, const Tensor& out, const Tensor& workspace,
                            bool all_elements, StreamHandle stream);

struct OpVersion {
  std::string op;           // "softmax"
  std::string version;      // "v1", "v2", "cublas"
  std::string description;  // one line: what makes this version what it is
  DeviceType device = DeviceType::cpu;
  std::vector<DType> dtypes;
  bool reference = false;   // the CPU reference other versions are tested against
  UnaryImpl unary = nullptr;
  BinaryImpl binary = nullptr;
  CreationImpl creation = nullptr;
  // Any other signature: the op's own file stores and casts it (see impl_as).
  void (*impl)() = nullptr;
  double tolerance = 0;  // correctness tolerance when looser than the dtype's default (e.g. TF32)
  std::string math{};    // the arithmetic when it differs from the dtype ("tf32"): picks the peak
  bool supports(DType dtype) const;
  template <class Fn>
  Fn impl_as() const { return reinterpret_cast<Fn>(impl); }
};

const std::vector<OpVersion>& op_versions();
std::vector<std::string> op_names();
std::vector<const OpVersion*> versions_of(const std::string& op, DeviceType device);
// The version to run: `requested` by name, or the default (the last registered, i.e.
// the most sophisticated, that supports the dtype). Unknown names are invalid_argument
// listing the known ones; a dtype no version supports is unsupported ("unsupported_dtype").
const OpVersion& select_version(const std::string& op, Device device, DType dtype, const std::string& requested);

// Each op file contributes its versions through one of these.
void register_creation_versions(std::vector<OpVersion>& table);
void register_elementwise_versions(std::vector<OpVersion>& table);
void register_softmax_versions(std::vector<OpVersion>& table);
void register_matmul_versions(std::vector<OpVersion>& table);
void register_reduction_versions(std::vector<OpVersion>& table);
void register_norm_versions(std::vector<OpVersion>& table);
void register_manipulation_versions(std::vector<OpVersion>& table);
void register_nn_versions(std::vector<OpVersion>& table);
void register_scan_versions(std::vector<OpVersion>& table);
void register_attention_versions(std::vector<OpVersion>& table);

// Stores a function pointer of any signature in OpVersion::impl.
template <class Fn>
void (*erase_impl(Fn fn))() {
  return reinterpret_cast<void (*)()>(fn);
}

// An OpVersion whose implementation has its own signature (read back with impl_as<Fn>).
template <class Fn>
OpVersion erased_version(const char* op, const char* version, const char* description, DeviceType device,
                         std::vector<DType> dtypes, bool reference, Fn fn) {
  OpVersion v{op, version, description, device, std::move(dtypes), reference};
  v.impl = erase_impl(fn);
  return v;
}

// The common case: a float32-only version with its own signature.
template <class Fn>
OpVersion erased(const char* op, const char* version, const char* description, DeviceType device, bool reference,
                 Fn fn) {
  return erased_version(op, version, description, device, {DType::float32}, reference, fn);
}

}  // namespace benchsuite::ops
