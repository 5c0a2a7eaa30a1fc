// The node-kind table, filled once from the registrations of graph/nodes/*.cpp.
#include "graph/node_kind.h"

#include <algorithm>
#include <set>

#include "core/error.h"

namespace benchsuite::graph {

const std::vector<NodeKind>& node_kinds() {
  static const std::vector<NodeKind> kinds = [] {
    std::vector<NodeKind> all;
    for (const auto& entry : Registrations<NodeKindRegistration>::sorted()) entry.fn(all);
    std::set<std::string> seen;
    for (const NodeKind& k : all) {
      BENCHSUITE_CHECK(seen.insert(k.name).second, "node kind ", k.name, " is registered twice");
      BENCHSUITE_CHECK(k.infer && k.run, "node kind ", k.name, " lacks infer or run");
    }
    std::sort(all.begin(), all.end(), [](const NodeKind& a, const NodeKind& b) { return a.name < b.name; });
    return all;
  }();
  return kinds;
}

const NodeKind& node_kind(const std::string& name) {
  const auto& kinds = node_kinds();
  auto it = std::lower_bound(kinds.begin(), kinds.end(), name,
                             [](const NodeKind& k, const std::string& n) { return k.name < n; });
  if (it != kinds.end() && it->name == name) return *it;
  std::string known;
  for (const NodeKind& k : kinds) known += (known.empty() ? "" : ", ") + k.name;
  BENCHSUITE_THROW_ARG("graph: unknown node kind '", name, "' (known: ", known, ")");
}

int64_t NodeRun::scalar(const std::string& name) const {
  auto it = scalars.find(name);
  BENCHSUITE_CHECK_ARG(it != scalars.end(), node.name, ": the runtime scalar '", name,
                       "' was not given to this run");
  return it->second;
}

}  // namespace benchsuite::graph
