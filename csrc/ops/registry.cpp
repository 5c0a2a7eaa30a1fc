// The op-version table (built from every folder's registration on first use) and version
// selection.
#include "ops/registry.h"

#include <algorithm>
#include <cstdlib>

#include "core/error.h"

namespace benchsuite::ops {

bool OpVersion::supports(DType dtype) const {
  return std::find(dtypes.begin(), dtypes.end(), dtype) != dtypes.end();
}

bool OpVersion::is_default_for(DType dtype) const {
  return std::find(default_for.begin(), default_for.end(), dtype) != default_for.end();
}

void OpVersion::signature_mismatch() const {
  BENCHSUITE_CHECK(false, op, " ", version, ": the implementation was read with another signature than it was "
                   "registered with");
  std::abort();  // not reached: BENCHSUITE_CHECK(false) throws
}

void VersionTable::add_erased(const char* op, VersionSpec spec, const void* signature, void (*fn)()) {
  OpVersion v;
  v.op = op;
  v.version = std::move(spec.version);
  v.description = std::move(spec.description);
  v.device = spec.device;
  v.dtypes = std::move(spec.dtypes);
  v.reference = (spec.flags & kReference) != 0;
  if (spec.flags & kDefault) v.default_for = spec.default_for.empty() ? v.dtypes : std::move(spec.default_for);
  for (DType d : v.default_for)
    BENCHSUITE_CHECK(v.supports(d), op, " ", v.version, ": default for dtype=", dtype_name(d), " it does not support");
  v.tolerance = spec.tolerance;
  v.math = std::move(spec.math);
  v.signature_ = signature;
  v.erased_ = fn;
  versions_.push_back(std::move(v));
}

namespace {
// float64 exists for the references (double math end to end, for finite-difference checks):
// where no version is named the default for it, the reference that takes it is, so the ops
// need not repeat a flag (byte-moving ops that take every dtype keep their own default).
void default_float64_to_references(std::vector<OpVersion>& table) {
  for (OpVersion& v : table) {
    if (!v.reference || !v.supports(DType::float64) || v.is_default_for(DType::float64)) continue;
    bool named = false;
    for (const OpVersion& w : table)
      named = named || (w.op == v.op && w.device == v.device && w.is_default_for(DType::float64));
    if (!named) v.default_for.push_back(DType::float64);
  }
}

// Every (op, device, supported dtype) has exactly one default, and version names are unique
// per (op, device): a registration that breaks this is a bug, caught on first use.
void check_table(const std::vector<OpVersion>& table) {
  for (const OpVersion& v : table) {
    for (DType d : v.dtypes) {
      int defaults = 0;
      for (const OpVersion& w : table)
        if (w.op == v.op && w.device == v.device && w.is_default_for(d)) ++defaults;
      BENCHSUITE_CHECK(defaults == 1, v.op, " on ", v.device == DeviceType::cuda ? "cuda" : "cpu", ": ", defaults,
                       " versions are the default for dtype=", dtype_name(d), " (exactly one must be)");
    }
    for (const OpVersion& w : table)
      BENCHSUITE_CHECK(&w == &v || w.op != v.op || w.device != v.device || w.version != v.version, v.op, " ",
                       v.version, " is registered twice on one device");
  }
}
}  // namespace

const std::vector<OpVersion>& op_versions() {
  static const std::vector<OpVersion> table = [] {
    VersionTable t;
    for (const auto& entry : Registrations<VersionRegistration>::sorted()) entry.fn(t);
    default_float64_to_references(t.versions());
    check_table(t.versions());
    return std::move(t.versions());
  }();
  return table;
}

std::vector<std::string> op_names() {
  std::vector<std::string> names;
  for (const OpVersion& v : op_versions())
    if (std::find(names.begin(), names.end(), v.op) == names.end()) names.push_back(v.op);
  return names;
}

std::vector<const OpVersion*> versions_of(const std::string& op, DeviceType device) {
  std::vector<const OpVersion*> found;
  for (const OpVersion& v : op_versions())
    if (v.op == op && v.device == device) found.push_back(&v);
  return found;
}

static std::string join_versions(const std::vector<const OpVersion*>& versions) {
  std::string out;
  for (const OpVersion* v : versions) out += (out.empty() ? "" : ", ") + v->version;
  return out.empty() ? "none" : out;
}

static std::string join_dtypes(const std::vector<const OpVersion*>& versions) {
  std::vector<std::string> names;
  for (const OpVersion* v : versions)
    for (DType d : v->dtypes)
      if (std::find(names.begin(), names.end(), dtype_name(d)) == names.end()) names.push_back(dtype_name(d));
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

const OpVersion& select_version(const std::string& op, Device device, DType dtype, const std::string& requested) {
  const DeviceType type = device.type;
  std::vector<const OpVersion*> versions = versions_of(op, type);
  if (versions.empty()) {
    bool known = false;
    for (const OpVersion& v : op_versions()) known = known || v.op == op;
    BENCHSUITE_CHECK_ARG(known, "op='", op, "' is not a registered op");
    if (type == DeviceType::cuda) require_cuda(op.c_str());
    BENCHSUITE_UNSUPPORTED("unsupported_device", op, ": no version for device=", device.str());
  }
  if (type == DeviceType::cuda) require_cuda(op.c_str());
  if (!requested.empty() && requested != "default") {
    for (const OpVersion* v : versions) {
      if (v->version != requested) continue;
      if (!v->supports(dtype))
        BENCHSUITE_UNSUPPORTED("unsupported_dtype", op, " ", v->version, " on ", device.str(),
                               ": dtype=", dtype_name(dtype), " is not supported (supported: ",
                               join_dtypes({v}), ")");
      return *v;
    }
    BENCHSUITE_THROW_ARG(op, ": impl='", requested, "' is not a version on ", device.str(), " (known: ",
                         join_versions(versions), ")");
  }
  for (const OpVersion* v : versions)
    if (v->is_default_for(dtype)) return *v;
  BENCHSUITE_UNSUPPORTED("unsupported_dtype", op, " on ", device.str(), ": dtype=", dtype_name(dtype),
                         " is not supported (supported: ", join_dtypes(versions), ")");
}

}  // namespace benchsuite::ops
