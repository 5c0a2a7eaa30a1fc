// The op-version registry: every implementation of every op, on every backend, listed
// once with its version name, one-line description and supported dtypes. Dispatch,
// tests, `benchsuite list` and the benchmark cases all read this table.
#pragma once
#include <string>
#include <vector>

#include "core/activations.h"
#include "core/cuda_runtime.h"
#include "core/registration.h"
#include "core/tensor.h"

namespace benchsuite::ops {

struct CreationParams {
  double value = 0.0;  // fill
  uint64_t seed = 0;   // randn / uniform
  float a = 0.0f;      // randn: mean, uniform: low
  float b = 1.0f;      // randn: stddev, uniform: high
};

// ---- signatures -----------------------------------------------------------------------
// An op declares its signature once (BENCHSUITE_OP below); its versions are registered
// through VersionTable::add<Op>, which takes only a function of exactly that signature, so
// a mismatch is a compile error, and read back with OpVersion::fn<Signature>(), which
// checks the signature it was stored with.
using UnarySignature = void(const Tensor& x, const Tensor& out, StreamHandle stream);
using BinarySignature = void(const Tensor& a, const Tensor& b, const Tensor& out, StreamHandle stream);
using CreationSignature = void(const Tensor& out, const CreationParams& params, StreamHandle stream);

// The identity of a signature type (one address per type in the program).
template <class Signature>
const void* signature_id() {
  static const char id = 0;
  return &id;
}

enum VersionFlags : unsigned {
  kNoFlags = 0,
  kReference = 1u << 0,  // the CPU reference other versions are tested against (float64: the default)
  kDefault = 1u << 1,    // the version run when none is named (for `default_for` or all its dtypes)
};

// What a version says of itself when it registers.
struct VersionSpec {
  std::string version;      // "v1", "v2", "cublas"
  std::string description;  // one line: what makes this version what it is
  DeviceType device = DeviceType::cpu;
  std::vector<DType> dtypes;
  unsigned flags = kNoFlags;
  // With kDefault: the dtypes it is the default for (empty: all of `dtypes`). Exactly one
  // version per (op, device, supported dtype) is the default; the registry checks it.
  std::vector<DType> default_for{};
  double tolerance = 0;  // correctness tolerance when looser than the dtype's default (e.g. TF32)
  std::string math{};    // the arithmetic when it differs from the dtype ("tf32"): picks the peak
};

struct OpVersion {
  std::string op;           // "softmax"
  std::string version;      // "v1", "v2", "cublas"
  std::string description;  // one line: what makes this version what it is
  DeviceType device = DeviceType::cpu;
  std::vector<DType> dtypes;
  bool reference = false;   // the CPU reference other versions are tested against
  std::vector<DType> default_for;  // the dtypes this version runs for when none is named
  double tolerance = 0;
  std::string math{};
  bool supports(DType dtype) const;
  bool is_default_for(DType dtype) const;
  // The implementation, as the signature it was registered with (internal error otherwise).
  template <class Signature>
  Signature* fn() const {
    if (signature_ != signature_id<Signature>()) signature_mismatch();
    return reinterpret_cast<Signature*>(erased_);  // stored from a Signature* (VersionTable::add)
  }
  template <class Signature>
  bool has_signature() const { return signature_ == signature_id<Signature>(); }

 private:
  friend class VersionTable;
  [[noreturn]] void signature_mismatch() const;
  const void* signature_ = nullptr;
  void (*erased_)() = nullptr;
};

// The table a folder's registration function adds its versions to.
class VersionTable {
 public:
  template <class Op>
  void add(VersionSpec spec, typename Op::Signature* fn) {
    add_erased(Op::name, std::move(spec), signature_id<typename Op::Signature>(), reinterpret_cast<void (*)()>(fn));
  }
  std::vector<OpVersion>& versions() { return versions_; }

 private:
  void add_erased(const char* op, VersionSpec spec, const void* signature, void (*fn)());
  std::vector<OpVersion> versions_;
};

using VersionRegistration = void (*)(VersionTable& table);

const std::vector<OpVersion>& op_versions();
std::vector<std::string> op_names();
std::vector<const OpVersion*> versions_of(const std::string& op, DeviceType device);
// The version to run: `requested` by name, or the one registered as default for the dtype.
// Unknown names are invalid_argument listing the known ones; a dtype no version supports
// is unsupported ("unsupported_dtype").
const OpVersion& select_version(const std::string& op, Device device, DType dtype, const std::string& requested);

}  // namespace benchsuite::ops

// Declares op `Tag` (a type) with its name and signature, once, in the family's header:
//   BENCHSUITE_OP(SoftmaxOp, "softmax", UnarySignature);
#define BENCHSUITE_OP(Tag, op_name, SignatureType) \
  struct Tag {                                     \
    static constexpr const char* name = op_name;   \
    using Signature = SignatureType;               \
  }

// Registers a folder's op versions at static initialization:
//   BENCHSUITE_REGISTER_VERSIONS(softmax) { table.add<SoftmaxOp>({"v1", "...", DeviceType::cpu, f32, kReference}, fn); }
#define BENCHSUITE_REGISTER_VERSIONS(family)                                                         \
  BENCHSUITE_REGISTER_FUNCTION(::benchsuite::ops::VersionRegistration, #family, 0,                \
                               BENCHSUITE_CONCAT(register_versions_, family), ::benchsuite::ops::VersionTable& table)
