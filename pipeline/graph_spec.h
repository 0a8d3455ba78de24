// A graph file as written: vars, sweep and nodes, each with its position in the file so that
// every later check can point at the offending text. Nothing here knows about ops.
#pragma once
#include <map>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "pipeline/diagnostic.h"

namespace untangle {

struct VarSpec {
  std::string name;
  YAML::Node value;
  Loc loc;
};

struct SweepSpec {
  std::string var;
  std::vector<YAML::Node> values;
  Loc loc;
};

struct InputSpec {
  std::string port;  // the consuming node's port
  Loc port_loc;
  std::string node, node_port;  // where the value comes from: node.node_port
  Loc loc;
  bool listed = false;  // one of a list of sources for the port
};

struct ParamEntry {
  std::string name;
  Loc key_loc;
  YAML::Node value;
  Loc loc;
};

struct NodeSpec {
  std::string name;
  Loc loc;
  std::string op;
  Loc op_loc;
  std::vector<InputSpec> inputs;
  std::vector<ParamEntry> params;
  std::vector<std::string> over;  // swept vars a gather port collects over; empty: all
  Loc over_loc;
  // On a cluster: what its jobs ask for (this node's, and its graph file's top-level
  // `resources:`), and where it runs: auto (light ops here, the rest in jobs), local, cluster.
  YAML::Node resources, graph_resources;
  std::string where = "auto";
  Loc where_loc;
};

// A plugin library the graph loads: `plugins: [libmyops.so]`, relative to the graph file.
struct PluginSpec {
  std::string path;  // as the graph file's directory makes it
  Loc loc;
};

struct GraphSpec {
  std::string file;  // as given on the command line, for messages
  std::string name;  // `name:` or the file's stem
  std::vector<VarSpec> vars;
  std::vector<SweepSpec> sweep;
  std::vector<NodeSpec> nodes;
  std::vector<PluginSpec> plugins;

  const NodeSpec* node(const std::string& n) const;
};

// Parse errors are appended to diags; the returned spec holds whatever could be read.
GraphSpec parse_graph_text(const std::string& text, const std::string& file, Diagnostics& diags);
GraphSpec parse_graph_file(const std::string& path, Diagnostics& diags);

bool valid_name(const std::string& s);  // node and var names: [A-Za-z_][A-Za-z0-9_-]*

// Var references: the names inside ${...} in every scalar of n.
void collect_refs(const YAML::Node& n, std::vector<std::string>& out);

// n with var references replaced: "${v}" alone takes v's value with its type (a number stays a
// number); inside longer text it is spliced in as text. Unknown vars are left as written.
YAML::Node substitute(const YAML::Node& n, const std::map<std::string, YAML::Node>& vars);

std::string flow_text(const YAML::Node& n);  // a scalar as it is, anything else as flow YAML

}  // namespace untangle
