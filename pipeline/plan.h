// From a graph spec to a plan: overrides applied, every check done, vars substituted, sweeps
// expanded into instances, params resolved against each op's schema. A plan is plain data in
// topological order; running it is the executor's business.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/graph_spec.h"
#include "pipeline/registry.h"

namespace untangle {

struct PlanInput {
  std::string port;                 // this instance's port
  std::vector<std::size_t> from;    // upstream instances (several for a gather port)
  std::string from_port;            // their output port
  std::vector<std::string> labels;  // for a gather port: "seed=3" per upstream instance, or the
                                    // instance's name when the port lists its sources
};

struct Instance {
  std::string name;  // "sample" or "sample[seed=3]"
  std::string node;  // the node it expands
  const OpSchema* op = nullptr;
  YAML::Node params;  // every declared param, canonical
  // Its output ports: the op's, or those its params declare (OpSchema::outputs_of).
  std::vector<PortSpec> outputs;
  std::string graph_dir;  // the directory of the graph file that declares the node
  // On a cluster: what its job asks for, and whether it runs in a job or in the driver.
  Resources resources;
  bool remote = false;
  std::vector<PlanInput> inputs;
  std::vector<std::size_t> dependents;  // instances reading this one

  const PortSpec* output(const std::string& port) const;
};

struct Plan {
  std::string file, name;
  std::vector<Instance> instances;  // topological order
  // Every name an instance goes by: two nodes that compute the same thing share one instance.
  std::map<std::string, std::size_t> by_name;
  std::map<std::string, std::vector<std::size_t>> by_node;  // a node's instances
  // The ops with the graph's plugins added, when it loads any: the instances point into it.
  std::shared_ptr<const Registry> ops;

  // Instances of a node, or the instance itself when given an instance name.
  std::vector<std::size_t> select(const std::string& node_or_instance) const;
};

// "--set" arguments: "node.param=value" or "var=value"; value is read as YAML.
struct Override {
  std::string key, value;
};
Override parse_override(const std::string& arg);  // throws std::invalid_argument without '='

// Collects every problem in diags; the plan is only usable when diags stays empty.
Plan make_plan(GraphSpec spec, const Registry& ops, const std::vector<Override>& overrides,
               Diagnostics& diags);

// Parse + plan; throws GraphError with all diagnostics. The ops are `ops` and those of the
// graph's plugins and of `plugins` (given on the command line).
Plan load_plan(const std::string& path, const Registry& ops, const std::vector<Override>& overrides,
               const std::vector<std::string>& plugins = {});

}  // namespace untangle
