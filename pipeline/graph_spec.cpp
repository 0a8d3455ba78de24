#include "pipeline/graph_spec.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace untangle {

namespace {

GraphSpec parse_file(const std::string& path, Diagnostics& diags, std::vector<std::string>& including);

// An included graph's names moved under "prefix/": its nodes, its vars and sweep, and every
// reference to them, so that it cannot collide with its includer or another include.
void prefix_graph(GraphSpec& sub, const std::string& prefix) {
  auto pre = [&](const std::string& s) { return prefix + "/" + s; };
  // Every ${v} of the included graph now reads ${prefix/v}.
  std::map<std::string, YAML::Node> renamed;
  for (auto& v : sub.vars) renamed[v.name] = YAML::Node("${" + pre(v.name) + "}"), v.name = pre(v.name);
  for (auto& s : sub.sweep) renamed[s.var] = YAML::Node("${" + pre(s.var) + "}"), s.var = pre(s.var);
  for (auto& n : sub.nodes) {
    n.name = pre(n.name);
    for (auto& in : n.inputs) in.node = pre(in.node);
    for (auto& o : n.over) o = pre(o);
    // New entries rather than assignment, which would rebind the YAML::Node, not replace it.
    std::vector<ParamEntry> params;
    for (const auto& p : n.params) params.push_back({p.name, p.key_loc, substitute(p.value, renamed), p.loc});
    n.params = std::move(params);
  }
}

struct Reader {
  std::string file;
  Diagnostics& diags;
  std::vector<std::string>& including;  // the files being read, outermost first

  Loc at(const YAML::Node& n) const {
    YAML::Mark m = n.Mark();
    if (m.is_null()) return {file, 1, 1};
    return {file, m.line + 1, m.column + 1};
  }
  void error(const YAML::Node& n, const std::string& msg) { diags.push_back({at(n), msg}); }

  bool expect_map(const YAML::Node& n, const std::string& what) {
    if (n.IsMap()) return true;
    error(n, what + " must be a map");
    return false;
  }

  std::string kind(const YAML::Node& n) const {
    if (n.IsMap()) return "a map";
    if (n.IsSequence()) return "a list";
    if (n.IsNull()) return "nothing";
    return "'" + n.Scalar() + "'";
  }

  void read_node(NodeSpec& spec, const YAML::Node& body) {
    if (!expect_map(body, "node '" + spec.name + "'")) return;
    std::set<std::string> keys;
    for (auto it = body.begin(); it != body.end(); ++it) {
      const std::string key = it->first.as<std::string>();
      const YAML::Node val = it->second;
      if (!keys.insert(key).second) {
        error(it->first, "key '" + key + "' given twice in node '" + spec.name + "'");
        continue;
      }
      if (key == "op") {
        if (!val.IsScalar()) error(val, "op must be an op name, got " + kind(val));
        else spec.op = val.Scalar(), spec.op_loc = at(val);
      } else if (key == "inputs") {
        if (val.IsNull() || !expect_map(val, "inputs of '" + spec.name + "'")) continue;
        for (auto in = val.begin(); in != val.end(); ++in) {
          const std::string port = in->first.as<std::string>();
          // A list (or a list of rows) of sources feeds a gathering port several values.
          std::vector<YAML::Node> refs;
          if (in->second.IsSequence()) {
            // A range-for over `in->second` would read a dead temporary: yaml-cpp's iterator
            // returns a proxy, which ends before the loop starts. A Node is a handle; copy it.
            const YAML::Node items = in->second;
            for (const auto& item : items) {
              if (item.IsSequence())
                for (const auto& cell : item) refs.push_back(cell);
              else
                refs.push_back(item);
            }
          } else {
            refs.push_back(in->second);
          }
          for (const auto& node : refs) {
            InputSpec input;
            input.port = port;
            input.port_loc = at(in->first);
            input.loc = at(node);
            input.listed = in->second.IsSequence();
            const std::string ref = node.IsScalar() ? node.Scalar() : "";
            const auto dot = ref.find('.');
            if (dot == std::string::npos || dot == 0 || dot + 1 == ref.size()) {
              error(node, "input '" + input.port + "' must be NODE.PORT" + (input.listed ? "" : " or a list of them") +
                              ", got " + kind(node));
              continue;
            }
            input.node = ref.substr(0, dot);
            input.node_port = ref.substr(dot + 1);
            spec.inputs.push_back(input);
          }
        }
      } else if (key == "params") {
        if (val.IsNull() || !expect_map(val, "params of '" + spec.name + "'")) continue;
        std::set<std::string> names;
        for (auto p = val.begin(); p != val.end(); ++p) {
          ParamEntry e{p->first.as<std::string>(), at(p->first), p->second, at(p->second)};
          if (!names.insert(e.name).second) error(p->first, "param '" + e.name + "' given twice");
          else spec.params.push_back(e);
        }
      } else if (key == "over") {
        spec.over_loc = at(val);
        if (val.IsScalar()) spec.over.push_back(val.Scalar());
        else if (val.IsSequence())
          for (const auto& v : val) spec.over.push_back(v.as<std::string>());
        else error(val, "over must be a var name or a list of them");
      } else if (key == "resources") {
        spec.resources = val;
      } else if (key == "where") {
        spec.where_loc = at(val);
        if (val.IsScalar() && (val.Scalar() == "auto" || val.Scalar() == "local" || val.Scalar() == "cluster"))
          spec.where = val.Scalar();
        else
          error(val, "where must be auto, local or cluster, got " + kind(val));
      } else if (key != "doc") {
        error(it->first, "unknown key '" + key + "' in node '" + spec.name +
                             "' (expected op, inputs, params, over, resources, where or doc)");
      }
    }
    if (spec.op.empty() && keys.count("op") == 0) error(body, "node '" + spec.name + "' has no op");
  }

  GraphSpec read(const YAML::Node& root) {
    GraphSpec g;
    g.file = file;
    g.name = std::filesystem::path(file).stem().string();
    if (!root.IsMap()) {
      error(root, "a graph file must be a map with 'nodes:' (and optionally name, vars, sweep)");
      return g;
    }
    std::set<std::string> keys;
    bool has_nodes = false;
    std::vector<GraphSpec> included;
    YAML::Node resources;  // the file's own defaults, for its own nodes
    for (auto it = root.begin(); it != root.end(); ++it) {
      const std::string key = it->first.as<std::string>();
      const YAML::Node val = it->second;
      if (!keys.insert(key).second) {
        error(it->first, "key '" + key + "' given twice");
        continue;
      }
      if (key == "name") {
        if (val.IsScalar()) g.name = val.Scalar();
        else error(val, "name must be a string");
      } else if (key == "vars") {
        if (val.IsNull() || !expect_map(val, "vars")) continue;
        for (auto v = val.begin(); v != val.end(); ++v) {
          const std::string name = v->first.as<std::string>();
          if (!valid_name(name)) error(v->first, "'" + name + "' is not a valid var name");
          g.vars.push_back({name, v->second, at(v->first)});
        }
      } else if (key == "sweep") {
        if (val.IsNull() || !expect_map(val, "sweep")) continue;
        for (auto s = val.begin(); s != val.end(); ++s) {
          SweepSpec sw{s->first.as<std::string>(), {}, at(s->first)};
          if (!s->second.IsSequence() || s->second.size() == 0) {
            error(s->second, "sweep of '" + sw.var + "' must be a non-empty list of values");
            continue;
          }
          const YAML::Node values = s->second;  // not a range-for over s->second: see inputs above
          for (const auto& v : values) sw.values.push_back(v);
          g.sweep.push_back(sw);
        }
      } else if (key == "include") {
        if (val.IsNull() || !expect_map(val, "include")) continue;
        for (auto in = val.begin(); in != val.end(); ++in) {
          const std::string prefix = in->first.as<std::string>();
          if (!valid_name(prefix)) error(in->first, "'" + prefix + "' is not a valid include name (letters, digits, _ and -)");
          if (!in->second.IsScalar() || in->second.Scalar().empty()) {
            error(in->second, "include '" + prefix + "' must name a graph file");
            continue;
          }
          const std::filesystem::path path = std::filesystem::path(file).parent_path() / in->second.Scalar();
          const std::string where = path.lexically_normal().string();
          if (std::find(including.begin(), including.end(), where) != including.end()) {
            error(in->second, "'" + in->second.Scalar() + "' includes itself (through " + including.back() + ")");
            continue;
          }
          if (!std::filesystem::exists(path)) {
            error(in->second, "no graph file '" + where + "'");
            continue;
          }
          included.push_back(parse_file(where, diags, including));
          prefix_graph(included.back(), prefix);
        }
      } else if (key == "resources") {
        resources = val;
      } else if (key == "plugins") {
        if (val.IsNull()) continue;
        if (!val.IsSequence()) {
          error(val, "plugins must be a list of plugin files (shared libraries)");
          continue;
        }
        for (const auto& p : val) {
          if (!p.IsScalar() || p.Scalar().empty()) {
            error(p, "a plugin must be a file name, got " + kind(p));
            continue;
          }
          const auto path = std::filesystem::path(file).parent_path() / p.Scalar();
          g.plugins.push_back({path.lexically_normal().string(), at(p)});
        }
      } else if (key == "nodes") {
        has_nodes = true;
        if (!expect_map(val, "nodes")) continue;
        std::set<std::string> names;
        for (auto n = val.begin(); n != val.end(); ++n) {
          NodeSpec spec;
          spec.name = n->first.as<std::string>();
          spec.loc = at(n->first);
          if (!valid_name(spec.name))
            error(n->first, "'" + spec.name + "' is not a valid node name (letters, digits, _ and -)");
          if (!names.insert(spec.name).second) {
            error(n->first, "node '" + spec.name + "' defined twice");
            continue;
          }
          read_node(spec, n->second);
          g.nodes.push_back(std::move(spec));
        }
      } else if (key != "doc" && key != "description") {
        error(it->first, "unknown key '" + key + "' (expected name, include, plugins, resources, vars, sweep, nodes or doc)");
      }
    }
    if (!has_nodes && included.empty()) error(root, "the graph has no 'nodes:' section");
    for (auto& n : g.nodes) n.graph_resources = resources;
    // Included graphs come first, as if their nodes were written above the includer's. The
    // lists are built anew, never shifted: shifting assigns YAML::Nodes, and assigning a
    // YAML::Node rebinds the node it refers to instead of replacing it.
    included.push_back(std::move(g));
    GraphSpec all;
    all.file = included.back().file;
    all.name = included.back().name;
    for (auto& part : included) {
      for (auto& v : part.vars) all.vars.push_back(std::move(v));
      for (auto& s : part.sweep) all.sweep.push_back(std::move(s));
      for (auto& n : part.nodes) all.nodes.push_back(std::move(n));
      for (auto& p : part.plugins) all.plugins.push_back(std::move(p));
    }
    return all;
  }
};

}  // namespace

const NodeSpec* GraphSpec::node(const std::string& n) const {
  for (const auto& x : nodes)
    if (x.name == n) return &x;
  return nullptr;
}

bool valid_name(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
  return true;
}

namespace {

GraphSpec parse_text(const std::string& text, const std::string& file, Diagnostics& diags,
                     std::vector<std::string>& including) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    diags.push_back({{file, e.mark.line + 1, e.mark.column + 1}, "YAML syntax: " + e.msg});
    GraphSpec g;
    g.file = file;
    return g;
  }
  including.push_back(std::filesystem::path(file).lexically_normal().string());
  Reader r{file, diags, including};
  GraphSpec g;
  try {
    g = r.read(root);
  } catch (const YAML::Exception& e) {
    // e.g. a key that is itself a map; report it where yaml-cpp saw it
    diags.push_back({{file, e.mark.line + 1, e.mark.column + 1}, e.msg});
    g = GraphSpec{};
    g.file = file;
  }
  including.pop_back();
  return g;
}

GraphSpec parse_file(const std::string& path, Diagnostics& diags, std::vector<std::string>& including) {
  std::ifstream in(path);
  if (!in) {
    Diagnostic d;
    d.loc.file = path;
    d.message = "cannot read graph file";
    diags.push_back(d);
    GraphSpec g;
    g.file = path;
    return g;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_text(ss.str(), path, diags, including);
}

}  // namespace

GraphSpec parse_graph_text(const std::string& text, const std::string& file, Diagnostics& diags) {
  std::vector<std::string> including;
  return parse_text(text, file, diags, including);
}

GraphSpec parse_graph_file(const std::string& path, Diagnostics& diags) {
  std::vector<std::string> including;
  return parse_file(path, diags, including);
}

std::string flow_text(const YAML::Node& n) {
  if (n.IsScalar()) return n.Scalar();
  YAML::Emitter e;
  e << YAML::Flow << n;
  return e.c_str();
}

void collect_refs(const YAML::Node& n, std::vector<std::string>& out) {
  if (n.IsScalar()) {
    const std::string& s = n.Scalar();
    for (std::size_t p = s.find("${"); p != std::string::npos; p = s.find("${", p + 2)) {
      auto e = s.find('}', p);
      if (e == std::string::npos) break;
      out.push_back(s.substr(p + 2, e - p - 2));
    }
  } else if (n.IsSequence()) {
    for (const auto& x : n) collect_refs(x, out);
  } else if (n.IsMap()) {
    for (auto it = n.begin(); it != n.end(); ++it) collect_refs(it->second, out);
  }
}

YAML::Node substitute(const YAML::Node& n, const std::map<std::string, YAML::Node>& vars) {
  if (n.IsScalar()) {
    const std::string& s = n.Scalar();
    if (s.find("${") == std::string::npos) return n;
    if (s.size() > 3 && s.compare(0, 2, "${") == 0 && s.back() == '}' && s.find('}') == s.size() - 1) {
      auto it = vars.find(s.substr(2, s.size() - 3));
      if (it != vars.end()) return YAML::Clone(it->second);
    }
    std::string out;
    std::size_t pos = 0;
    for (std::size_t p = s.find("${"); p != std::string::npos; p = s.find("${", pos)) {
      auto e = s.find('}', p);
      if (e == std::string::npos) break;
      out += s.substr(pos, p - pos);
      auto it = vars.find(s.substr(p + 2, e - p - 2));
      out += it != vars.end() ? flow_text(it->second) : s.substr(p, e - p + 1);
      pos = e + 1;
    }
    return YAML::Node(out + s.substr(pos));
  }
  if (n.IsSequence()) {
    YAML::Node out(YAML::NodeType::Sequence);
    for (const auto& x : n) out.push_back(substitute(x, vars));
    return out;
  }
  if (n.IsMap()) {
    YAML::Node out(YAML::NodeType::Map);
    for (auto it = n.begin(); it != n.end(); ++it) out[it->first] = substitute(it->second, vars);
    return out;
  }
  return n;
}

}  // namespace untangle
