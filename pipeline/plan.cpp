#include "pipeline/plan.h"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <set>
#include <tuple>
#include <stdexcept>

#include "pipeline/plugin_loader.h"
#include "pipeline/resources.h"

namespace untangle {

namespace {

std::string join(const std::vector<std::string>& v, const std::string& sep = ", ") {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

template <class T> std::vector<std::string> names_of(const std::vector<T>& v) {
  std::vector<std::string> out;
  for (const auto& x : v) out.push_back(x.name);
  return out;
}

struct Planner {
  GraphSpec& g;
  const Registry& ops;
  Diagnostics& diags;
  std::set<std::string> seen;  // one report per distinct message
  std::set<std::string> pinned;  // swept vars that --set fixed to one value

  void error(const Loc& loc, const std::string& msg) {
    Diagnostic d{loc, msg};
    if (seen.insert(d.str()).second) diags.push_back(d);
  }

  void apply(const Override& o) {
    const Loc loc{"--set " + o.key + "=" + o.value, 0, 0};
    YAML::Node value;
    try {
      value = YAML::Load(o.value);
    } catch (const YAML::Exception& e) {
      return error(loc, "value is not valid YAML: " + e.msg);
    }
    const auto dot = o.key.find('.');
    if (dot != std::string::npos) {
      const std::string node = o.key.substr(0, dot), param = o.key.substr(dot + 1);
      auto it = std::find_if(g.nodes.begin(), g.nodes.end(), [&](const NodeSpec& n) { return n.name == node; });
      if (it == g.nodes.end()) return error(loc, "no node '" + node + "' in " + g.file);
      for (auto& p : it->params)
        if (p.name == param) {
          p.value = value;
          p.key_loc = p.loc = loc;
          return;
        }
      it->params.push_back({param, loc, value, loc});
      return;
    }
    bool found = false;
    for (auto s = g.sweep.begin(); s != g.sweep.end(); ++s)
      if (s->var == o.key) {
        g.sweep.erase(s);  // a var set on the command line is pinned, no longer swept
        pinned.insert(o.key);
        found = true;
        break;
      }
    for (auto& v : g.vars)
      if (v.name == o.key) {
        v.value = value;
        v.loc = loc;
        return;
      }
    if (found) return g.vars.push_back({o.key, value, loc});
    std::vector<std::string> known = names_of(g.vars);
    for (const auto& s : g.sweep) known.push_back(s.var);
    error(loc, "no var '" + o.key + "' in " + g.file +
                   (known.empty() ? std::string(" (it declares none)") : " (vars: " + join(known) + ")"));
  }
};

}  // namespace

std::vector<std::size_t> Plan::select(const std::string& name) const {
  auto it = by_name.find(name);
  if (it != by_name.end()) return {it->second};
  auto node = by_node.find(name);
  return node != by_node.end() ? node->second : std::vector<std::size_t>{};
}

Override parse_override(const std::string& arg) {
  auto eq = arg.find('=');
  if (eq == std::string::npos || eq == 0)
    throw std::invalid_argument("--set expects KEY=VALUE (node.param=value or var=value), got '" + arg + "'");
  return {arg.substr(0, eq), arg.substr(eq + 1)};
}

Plan make_plan(GraphSpec g, const Registry& ops, const std::vector<Override>& overrides, Diagnostics& diags) {
  Planner P{g, ops, diags, {}, {}};
  for (const auto& o : overrides) P.apply(o);

  Plan plan;
  plan.file = g.file;
  plan.name = g.name;
  const std::size_t N = g.nodes.size();
  std::map<std::string, std::size_t> idx;
  for (std::size_t i = 0; i < N; ++i) idx[g.nodes[i].name] = i;

  std::set<std::string> var_names;
  for (const auto& v : g.vars) var_names.insert(v.name);
  std::map<std::string, std::size_t> sweep_idx;
  for (std::size_t s = 0; s < g.sweep.size(); ++s) {
    sweep_idx[g.sweep[s].var] = s;
    var_names.insert(g.sweep[s].var);
  }
  const std::vector<std::string> var_list(var_names.begin(), var_names.end());

  // Structure: ops, ports, params, var references.
  std::vector<const OpSchema*> op(N, nullptr);
  // Each node's input ports: its op's, or for an op that takes any (exec) the ones it names.
  std::vector<std::vector<PortSpec>> in_ports(N);
  auto in_port = [&](std::size_t i, const std::string& name) { return find_port(in_ports[i], name); };
  std::vector<std::vector<std::size_t>> preds(N);  // valid upstream edges
  std::vector<Resources> node_resources(N);
  std::vector<std::set<std::size_t>> direct(N);    // swept vars referenced in params
  for (std::size_t i = 0; i < N; ++i) {
    const NodeSpec& n = g.nodes[i];
    op[i] = ops.find(n.op);
    if (!op[i] && !n.op.empty()) P.error(n.op_loc, "unknown op '" + n.op + "' (see `untangle ops`)");
    if (op[i] && op[i]->any_inputs) {
      for (const auto& in : n.inputs)
        if (!in_port(i, in.port)) in_ports[i].push_back({in.port, "", false});
    } else if (op[i]) {
      in_ports[i] = op[i]->inputs;
    }
    for (const auto& in : n.inputs) {
      if (op[i] && !in_port(i, in.port))
        P.error(in.port_loc, "op '" + n.op + "' has no input '" + in.port + "' (inputs: " +
                                 join(names_of(op[i]->inputs)) + ")");
      auto up = idx.find(in.node);
      if (up == idx.end()) {
        P.error(in.loc, "unknown node '" + in.node + "'");
        continue;
      }
      const OpSchema* up_op = ops.find(g.nodes[up->second].op);
      // Ports declared by params are known per instance; the expansion below checks them.
      if (up_op && up_op->outputs_of) up_op = nullptr;
      if (up_op && !up_op->output(in.node_port)) {
        P.error(in.loc, "node '" + in.node + "' (" + up_op->name + ") has no output '" + in.node_port +
                            "' (outputs: " + join(names_of(up_op->outputs)) + ")");
        continue;
      }
      const PortSpec* port = in_port(i, in.port);
      if (port && in.listed && !port->gather)
        P.error(in.loc, "input '" + in.port + "' takes one NODE.PORT; only gathering inputs (like aggregate's x) take a list");
      if (port && port->gather && !in.listed && up_op && up_op->output(in.node_port)->group)
        P.error(in.loc, "input '" + in.port + "' gathers a sweep and cannot take the group '" + in.node_port + "'");
      preds[i].push_back(up->second);
    }
    if (op[i]) {
      for (const auto& port : op[i]->inputs) {
        bool given = std::any_of(n.inputs.begin(), n.inputs.end(), [&](const InputSpec& s) { return s.port == port.name; });
        if (!port.optional && !given)
          P.error(n.loc, "node '" + n.name + "' is missing required input '" + port.name + "' (op " + n.op + ")");
      }
      for (const auto& p : n.params)
        if (!op[i]->param(p.name))
          P.error(p.key_loc, "op '" + n.op + "' has no param '" + p.name + "' (params: " +
                                 join(names_of(op[i]->params)) + ")");
      if (!n.over.empty() && std::none_of(op[i]->inputs.begin(), op[i]->inputs.end(), [](const PortSpec& p) { return p.gather; }))
        P.error(n.over_loc, "'over' applies to ops that gather a sweep; op '" + n.op + "' does not");
    }
    if (op[i]) {
      // Resources: the op's own, then its graph file's, then the node's; each checked.
      Resources r = op[i]->resources;
      for (const YAML::Node* given : {&n.graph_resources, &n.resources}) {
        if (!*given) continue;
        std::vector<ParamIssue> issues;
        const YAML::Node canonical = canonical_param(resources_spec(), *given, issues, *given);
        for (const auto& is : issues)
          P.error(is.mark.is_null() ? n.loc : Loc{n.loc.file, is.mark.line + 1, is.mark.column + 1}, is.message);
        if (issues.empty()) r = with_resources(r, canonical);
      }
      node_resources[i] = r;
    }
    // Gathering over a pinned var gathers its one value: the graph stays valid under any --set.
    for (const auto& v : n.over)
      if (!sweep_idx.count(v) && !P.pinned.count(v)) P.error(n.over_loc, "'over' names '" + v + "', which is not a swept var");
    for (const auto& p : n.params) {
      std::vector<std::string> refs;
      collect_refs(p.value, refs);
      for (const auto& r : refs) {
        if (!var_names.count(r))
          P.error(p.loc, "unknown var '" + r + "'" +
                             (var_list.empty() ? std::string(" (the graph declares no vars)") : " (vars: " + join(var_list) + ")"));
        else if (sweep_idx.count(r))
          direct[i].insert(sweep_idx[r]);
      }
    }
  }

  // A node's params checked against its op's schema and made canonical, with `values` for its
  // vars; `instance` names the sweep instance in messages that depend on a swept value.
  auto resolve_params = [&](std::size_t i, const std::map<std::string, YAML::Node>& values, const std::string& instance) {
    const NodeSpec& n = g.nodes[i];
    YAML::Node params(YAML::NodeType::Map);
    for (const auto& spec : op[i]->params) {
      auto given = std::find_if(n.params.begin(), n.params.end(), [&](const ParamEntry& e) { return e.name == spec.name; });
      std::string err;
      if (given != n.params.end()) {
        std::vector<std::string> refs;
        collect_refs(given->value, refs);
        // An unknown var is already reported; its unsubstituted text would only add noise.
        if (std::any_of(refs.begin(), refs.end(), [&](const std::string& r) { return !var_names.count(r); })) continue;
        std::vector<ParamIssue> issues;
        YAML::Node v = canonical_param(spec, substitute(given->value, values), issues, given->value);
        for (const auto& is : issues) {
          // A --set value has no place in a file; its marks count from its own text.
          const Loc at = is.mark.is_null() || given->loc.line == 0 ? given->loc : Loc{given->loc.file, is.mark.line + 1, is.mark.column + 1};
          P.error(at, is.message + (refs.empty() || instance.empty() ? "" : " (in " + instance + ")"));
        }
        params[spec.name] = v;
      } else if (spec.default_value) {
        params[spec.name] = canonical_param(spec, YAML::Load(*spec.default_value), err);
      } else {
        P.error(n.loc, "node '" + n.name + "' is missing required param '" + spec.name + "' (op " + n.op + ")");
      }
    }
    return params;
  };
  std::map<std::string, YAML::Node> base_vars;
  for (const auto& v : g.vars) base_vars[v.name] = v.value;

  // Cycles, then a topological order (declaration order among the ready).
  std::vector<int> color(N, 0);
  std::vector<std::size_t> stack;
  bool cyclic = false;
  std::function<void(std::size_t)> visit = [&](std::size_t u) {
    color[u] = 1;
    stack.push_back(u);
    for (auto v : preds[u]) {
      if (color[v] == 1) {
        cyclic = true;
        auto from = std::find(stack.begin(), stack.end(), v);
        std::vector<std::string> names;
        for (auto it = from; it != stack.end(); ++it) names.push_back(g.nodes[*it].name);
        std::reverse(names.begin(), names.end());  // data flows upstream → downstream
        names.insert(names.begin(), g.nodes[v].name);
        P.error(g.nodes[*std::min_element(from, stack.end())].loc, "cycle: " + join(names, " -> "));
      } else if (color[v] == 0) {
        visit(v);
      }
    }
    stack.pop_back();
    color[u] = 2;
  };
  for (std::size_t i = 0; i < N; ++i)
    if (color[i] == 0) visit(i);
  if (cyclic) {
    // No instances without an order, but every param is still checked, with each swept var
    // at its first value, so that one run shows every mistake.
    std::map<std::string, YAML::Node> values = base_vars;
    for (const auto& sw : g.sweep)
      if (!sw.values.empty()) values[sw.var] = sw.values.front();
    for (std::size_t i = 0; i < N; ++i)
      if (op[i]) resolve_params(i, values, "");
    return plan;
  }

  std::vector<std::size_t> order;
  {
    std::vector<std::size_t> pending(N);
    std::vector<std::vector<std::size_t>> succ(N);
    for (std::size_t i = 0; i < N; ++i) {
      std::set<std::size_t> uniq(preds[i].begin(), preds[i].end());
      pending[i] = uniq.size();
      for (auto u : uniq) succ[u].push_back(i);
    }
    std::set<std::size_t> ready;
    for (std::size_t i = 0; i < N; ++i)
      if (!pending[i]) ready.insert(i);
    while (!ready.empty()) {
      auto u = *ready.begin();
      ready.erase(ready.begin());
      order.push_back(u);
      for (auto v : succ[u])
        if (--pending[v] == 0) ready.insert(v);
    }
  }

  // Which swept vars each node depends on, directly or through its inputs.
  std::vector<std::set<std::size_t>> dep(N);
  for (auto i : order) {
    dep[i] = direct[i];
    const NodeSpec& n = g.nodes[i];
    for (const auto& in : n.inputs) {
      auto up = idx.find(in.node);
      if (up == idx.end()) continue;
      const PortSpec* port = in_port(i, in.port);
      for (auto s : dep[up->second]) {
        bool gathered = port && port->gather &&
                        (n.over.empty() || std::find(n.over.begin(), n.over.end(), g.sweep[s].var) != n.over.end());
        if (!gathered || direct[i].count(s)) dep[i].insert(s);
      }
    }
  }

  // Expansion: one instance per combination of the node's swept values.
  using Binding = std::vector<int>;  // value index per sweep var, -1 where unbound
  std::vector<std::vector<std::pair<std::size_t, Binding>>> of_node(N);  // instances, bound how
  // Labels show a var by its own name: an included graph's "mlp/seed" reads "seed" there.
  auto label = [&](const Binding& b, const std::set<std::size_t>& vars) {
    std::vector<std::string> parts;
    for (auto s : vars) {
      const std::string& var = g.sweep[s].var;
      parts.push_back(var.substr(var.rfind('/') + 1) + "=" + flow_text(g.sweep[s].values[b[s]]));
    }
    return join(parts, ",");
  };
  // Instances that would compute the same thing (same op, params and sources), say the one
  // training that two included graphs both declare, are one instance under several names.
  std::map<std::string, std::size_t> by_signature;
  auto restrict_to = [](Binding b, const std::set<std::size_t>& vars) {
    for (std::size_t s = 0; s < b.size(); ++s)
      if (!vars.count(s)) b[s] = -1;
    return b;
  };
  for (auto i : order) {
    const NodeSpec& n = g.nodes[i];
    if (!op[i]) continue;
    const std::vector<std::size_t> vars(dep[i].begin(), dep[i].end());
    Binding b(g.sweep.size(), -1);
    for (auto s : vars) b[s] = 0;
    while (true) {
      Instance inst;
      inst.node = n.name;
      inst.op = op[i];
      inst.name = vars.empty() ? n.name : n.name + "[" + label(b, dep[i]) + "]";
      std::map<std::string, YAML::Node> values = base_vars;
      for (auto s : vars) values[g.sweep[s].var] = g.sweep[s].values[b[s]];

      inst.params = resolve_params(i, values, vars.empty() ? "" : inst.name);
      inst.outputs = op[i]->outputs_of ? op[i]->outputs_of(inst.params) : op[i]->outputs;
      inst.graph_dir = std::filesystem::path(n.loc.file).parent_path().string();
      if (inst.graph_dir.empty()) inst.graph_dir = ".";
      inst.resources = node_resources[i];
      inst.remote = n.where == "cluster" || (n.where == "auto" && !op[i]->light);

      for (const auto& port : in_ports[i])
        for (const auto& in : n.inputs) {
          if (in.port != port.name || !idx.count(in.node)) continue;
          const std::size_t u = idx[in.node];
          if (!of_node[u].empty() && !plan.instances[of_node[u].front().first].output(in.node_port)) {
            const Instance& up = plan.instances[of_node[u].front().first];
            P.error(in.loc, "node '" + in.node + "' (" + up.op->name + ") has no output '" + in.node_port +
                                "' (outputs: " + join(names_of(up.outputs)) + ")");
            continue;
          }
          PlanInput pi{port.name, {}, in.node_port, {}};
          std::set<std::size_t> shared, rest;
          for (auto s : dep[u]) (dep[i].count(s) ? shared : rest).insert(s);
          for (const auto& [j, bound] : of_node[u]) {
            if (restrict_to(bound, shared) != restrict_to(b, shared)) continue;
            pi.from.push_back(j);
            // A listed source is named by its instance and port: "raw_pca_nh.overall".
            pi.labels.push_back(in.listed ? plan.instances[j].name + "." + in.node_port : label(bound, rest));
          }
          if (!pi.from.empty()) inst.inputs.push_back(pi);
        }

      std::string signature = inst.op->name + "\n" + flow_text(inst.params) + "\n";
      // The same relative names in two graph files' directories are two different files.
      if (inst.op->files_from_graph_dir) signature += "dir " + inst.graph_dir + "\n";
      for (const auto& in : inst.inputs)
        for (std::size_t k = 0; k < in.from.size(); ++k)
          signature += in.port + " " + std::to_string(in.from[k]) + "." + in.from_port + " " + in.labels[k] + "\n";
      auto same = by_signature.find(signature);
      const std::size_t id = same != by_signature.end() ? same->second : plan.instances.size();
      plan.by_name[inst.name] = id;
      plan.by_node[n.name].push_back(id);
      if (same == by_signature.end()) {
        by_signature[signature] = id;
        plan.instances.push_back(std::move(inst));
      }
      of_node[i].push_back({id, b});

      // Next combination, the last var varying fastest.
      int k = static_cast<int>(vars.size()) - 1;
      while (k >= 0 && ++b[vars[k]] == static_cast<int>(g.sweep[vars[k]].values.size())) b[vars[k--]] = 0;
      if (k < 0) break;
    }
  }

  for (std::size_t i = 0; i < plan.instances.size(); ++i) {
    std::set<std::size_t> ups;
    for (const auto& in : plan.instances[i].inputs) ups.insert(in.from.begin(), in.from.end());
    for (auto u : ups) plan.instances[u].dependents.push_back(i);
  }

  std::stable_sort(diags.begin(), diags.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.loc.line, a.loc.col) < std::tie(b.loc.line, b.loc.col);
  });
  return plan;
}

const PortSpec* Instance::output(const std::string& port) const { return find_port(outputs, port); }

Plan load_plan(const std::string& path, const Registry& ops, const std::vector<Override>& overrides,
               const std::vector<std::string>& plugins) {
  Diagnostics diags;
  GraphSpec spec = parse_graph_file(path, diags);
  std::shared_ptr<Registry> with_plugins;
  if (!spec.plugins.empty() || !plugins.empty()) {
    with_plugins = std::make_shared<Registry>(ops);
    for (const auto& p : plugins) spec.plugins.push_back({p, {"--plugin", 0, 0}});
    for (const auto& p : spec.plugins) try {
        load_plugin(p.path, *with_plugins);
      } catch (const std::exception& e) {
        diags.push_back({p.loc, e.what()});
      }
  }
  // Keep going after a structural error so that one run reports every problem.
  Plan plan = make_plan(std::move(spec), with_plugins ? *with_plugins : ops, overrides, diags);
  plan.ops = with_plugins;
  // In file order, as a compiler lists them; the checks above run in passes, not in that order.
  std::map<std::string, std::size_t> file_rank;
  for (const auto& d : diags) file_rank.emplace(d.loc.file, file_rank.size());
  std::stable_sort(diags.begin(), diags.end(), [&](const Diagnostic& x, const Diagnostic& y) {
    return std::make_tuple(file_rank[x.loc.file], x.loc.line, x.loc.col) < std::make_tuple(file_rank[y.loc.file], y.loc.line, y.loc.col);
  });
  if (!diags.empty()) throw GraphError(diags);
  return plan;
}

}  // namespace untangle
