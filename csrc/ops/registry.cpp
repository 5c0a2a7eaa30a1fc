// The op-version table and version selection.
#include "ops/registry.h"

#include <algorithm>

#include "common/error.h"

namespace benchsuite::ops {

bool OpVersion::supports(DType dtype) const {
  return std::find(dtypes.begin(), dtypes.end(), dtype) != dtypes.end();
}

const std::vector<OpVersion>& op_versions() {
  static const std::vector<OpVersion> table = [] {
    std::vector<OpVersion> t;
    register_creation_versions(t);
    register_elementwise_versions(t);
    register_softmax_versions(t);
    register_matmul_versions(t);
    register_reduction_versions(t);
    register_norm_versions(t);
    register_manipulation_versions(t);
    register_nn_versions(t);
    register_scan_versions(t);
    register_attention_versions(t);
    return t;
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
  for (auto it = versions.rbegin(); it != versions.rend(); ++it)
    if ((*it)->supports(dtype)) return **it;
  BENCHSUITE_UNSUPPORTED("unsupported_dtype", op, " on ", device.str(), ": dtype=", dtype_name(dtype),
                         " is not supported (supported: ", join_dtypes(versions), ")");
}

}  // namespace benchsuite::ops
