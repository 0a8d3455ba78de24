// The set of ops a program knows, by name. Filled explicitly at start-up (no static
// registration tricks), so tests can build registries of their own.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "pipeline/schema.h"

namespace untangle {

class Registry {
 public:
  void add(OpSchema op);  // throws if the name is taken or the schema is inconsistent
  const OpSchema* find(const std::string& name) const;
  std::vector<const OpSchema*> all() const;  // sorted by name

 private:
  std::map<std::string, OpSchema> ops_;
};

}  // namespace untangle
