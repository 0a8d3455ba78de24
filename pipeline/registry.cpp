#include "pipeline/registry.h"

#include <set>
#include <stdexcept>

namespace untangle {

void Registry::add(OpSchema op) {
  auto fail = [&](const std::string& why) { throw std::logic_error("op " + op.name + ": " + why); };
  if (op.name.empty()) throw std::logic_error("op without a name");
  if (ops_.count(op.name)) fail("registered twice");
  if (!op.run) fail("no run function");
  std::set<std::string> seen;
  for (const auto& p : op.params) {
    if (!seen.insert(p.name).second) fail("param " + p.name + " declared twice");
    if (p.default_value) {
      std::string error;
      canonical_param(p, YAML::Load(*p.default_value), error);
      if (!error.empty()) fail("default of " + error);
    }
  }
  ops_.emplace(op.name, std::move(op));
}

const OpSchema* Registry::find(const std::string& name) const {
  auto it = ops_.find(name);
  return it == ops_.end() ? nullptr : &it->second;
}

std::vector<const OpSchema*> Registry::all() const {
  std::vector<const OpSchema*> v;
  for (const auto& [n, op] : ops_) v.push_back(&op);
  return v;
}

}  // namespace untangle
