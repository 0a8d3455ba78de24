#include "nodes/onnx/run.h"

#include <algorithm>
#include <set>
#include <stdexcept>

#include "nodes/onnx/kernel.h"

namespace untangle::onnx {

namespace {

using Error = std::runtime_error;

const Kernels& kernels() {
  static const Kernels k = [] {
    Kernels k;
    add_elementwise_kernels(k);
    add_softmax_kernels(k);
    add_linear_kernels(k);
    add_conv_kernels(k);
    add_pool_kernels(k);
    add_batchnorm_kernels(k);
    add_shape_kernels(k);
    add_layout_kernels(k);
    return k;
  }();
  return k;
}

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

std::string declared(const ValueInfo& v) {
  if (!v.has_shape) return elem_name(v.elem) + " of any shape";
  std::vector<std::string> dims;
  for (const Dim& d : v.shape) dims.push_back(d.value >= 0 ? std::to_string(d.value) : d.param.empty() ? "?" : d.param);
  return elem_name(v.elem) + " [" + join(dims, ", ") + "]";
}

void check_feed(const ValueInfo& v, const Tensor& t, const std::string& file) {
  bool fits = t.dtype == DType::str ? false : elem_of(t.dtype) == v.elem;
  if (v.has_shape) {
    fits = fits && t.shape.size() == v.shape.size();
    for (std::size_t i = 0; fits && i < t.shape.size(); ++i)
      fits = v.shape[i].value < 0 || static_cast<std::size_t>(v.shape[i].value) == t.shape[i];
  }
  if (!fits)
    throw Error(file + ": graph input '" + v.name + "' is given " + dtype_name(t.dtype) + " " + shape_string(t.shape) +
                "; the model takes " + declared(v));
}


}  // namespace

std::vector<std::string> supported_ops() {
  std::vector<std::string> out;
  for (const auto& [name, k] : kernels()) out.push_back(name);
  return out;
}

std::vector<std::string> unsupported(const Model& m) {
  std::vector<std::string> lines;
  std::map<std::string, Elem> types;  // undefined: made by a node that cannot run
  for (const auto& [name, t] : m.initializers) types[name] = elem_of(t.dtype);
  for (const ValueInfo& v : m.inputs) {
    DType d;
    if (v.kind != "tensor")
      lines.push_back("graph input '" + v.name + "' is no tensor but of kind " + v.kind);
    else if (!dtype_of(v.elem, d))
      lines.push_back("graph input '" + v.name + "' is " + elem_name(v.elem) + ", which untangle does not hold");
    types[v.name] = v.kind == "tensor" ? v.elem : Elem::undefined;
  }
  for (std::size_t i = 0; i < m.nodes.size(); ++i) {
    const Node& n = m.nodes[i];
    const std::string who = describe(n, i) + ": ";
    std::vector<Elem> in;
    for (const std::string& name : n.inputs) in.push_back(name.empty() ? Elem::undefined : types[name]);
    for (const std::string& out : n.outputs) types[out] = Elem::undefined;
    const auto k = n.domain.empty() ? kernels().find(n.op_type) : kernels().end();
    if (k == kernels().end()) {
      lines.push_back(who + "an op untangle does not run");
      continue;
    }
    bool attributes_ok = true;
    for (const auto& [name, value] : n.attributes)
      if (std::find(k->second.attributes.begin(), k->second.attributes.end(), name) == k->second.attributes.end()) {
        lines.push_back(who + "attribute '" + name + "' is not supported; " + n.op_type + " reads " +
                        (k->second.attributes.empty() ? "none" : join(k->second.attributes, ", ")));
        attributes_ok = false;
      }
    if (!attributes_ok) continue;
    try {
      const std::vector<Elem> outs = k->second.check(Call{n, m.opset}, in);
      for (std::size_t o = 0; o < outs.size() && o < n.outputs.size(); ++o) types[n.outputs[o]] = outs[o];
    } catch (const std::exception& e) {
      lines.push_back(who + e.what());
    }
  }
  return lines;
}

void check_supported(const Model& m) {
  const std::vector<std::string> lines = unsupported(m);
  if (lines.empty()) return;
  throw Error(m.file + ": untangle cannot run this model:\n  " + join(lines, "\n  ") + "\nIt runs the ops " +
              join(supported_ops(), ", ") + " (float32 data; integers where ONNX computes shapes).");
}

std::map<std::string, Tensor> run(const Model& m, const std::map<std::string, Tensor>& inputs,
                                  std::vector<std::string> wanted) {
  check_supported(m);
  if (wanted.empty())
    for (const ValueInfo& v : m.outputs) wanted.push_back(v.name);

  std::map<std::string, const Tensor*> env;
  for (const auto& [name, t] : m.initializers) env[name] = &t;
  std::set<std::string> input_names;
  for (const ValueInfo& v : m.inputs) {
    input_names.insert(v.name);
    auto it = inputs.find(v.name);
    if (it == inputs.end()) throw Error(m.file + ": no value is given for the graph input '" + v.name + "'");
    check_feed(v, it->second, m.file);
    env[v.name] = &it->second;
  }
  for (const auto& [name, t] : inputs)
    if (!input_names.count(name)) {
      std::vector<std::string> names(input_names.begin(), input_names.end());
      throw Error(m.file + ": '" + name + "' is no input of the model; its inputs are " + join(names, ", "));
    }

  // Only the nodes that the wanted values depend on run, so that an early layer's activations
  // cost that layer only.
  std::map<std::string, std::size_t> producer;
  for (std::size_t i = 0; i < m.nodes.size(); ++i)
    for (const std::string& out : m.nodes[i].outputs)
      if (!out.empty()) producer[out] = i;
  std::vector<bool> needed(m.nodes.size(), false);
  std::vector<std::string> todo;
  for (const std::string& w : wanted) {
    if (!env.count(w) && !producer.count(w)) throw Error(m.file + ": '" + w + "' is no value of the model");
    todo.push_back(w);
  }
  while (!todo.empty()) {
    const std::string name = todo.back();
    todo.pop_back();
    auto p = producer.find(name);
    if (p == producer.end() || needed[p->second]) continue;
    needed[p->second] = true;
    for (const std::string& in : m.nodes[p->second].inputs)
      if (!in.empty()) todo.push_back(in);
  }
  std::map<std::string, std::size_t> last_use;
  for (std::size_t i = 0; i < m.nodes.size(); ++i)
    if (needed[i])
      for (const std::string& in : m.nodes[i].inputs) last_use[in] = i;
  const std::set<std::string> keep(wanted.begin(), wanted.end());

  std::map<std::string, Tensor> owned;  // what the nodes made, dropped after its last reader
  for (std::size_t i = 0; i < m.nodes.size(); ++i) {
    if (!needed[i]) continue;
    const Node& n = m.nodes[i];
    std::vector<const Tensor*> in;
    for (const std::string& name : n.inputs) in.push_back(name.empty() ? nullptr : env.at(name));
    std::vector<Tensor> outs;
    try {
      outs = kernels().at(n.op_type).run(Call{n, m.opset}, in);
    } catch (const std::exception& e) {
      throw Error(m.file + ": " + describe(n, i) + ": " + e.what());
    }
    for (std::size_t o = 0; o < n.outputs.size(); ++o) {
      if (n.outputs[o].empty()) continue;
      if (o >= outs.size()) throw Error(m.file + ": " + describe(n, i) + ": output " + std::to_string(o) + " is not made");
      if (!last_use.count(n.outputs[o]) && !keep.count(n.outputs[o])) continue;  // read by nothing that runs
      Tensor& t = owned[n.outputs[o]] = std::move(outs[o]);
      env[n.outputs[o]] = &t;
    }
    for (const std::string& name : n.inputs)
      if (!name.empty() && last_use[name] == i && !keep.count(name) && owned.erase(name)) env.erase(name);
  }
  std::map<std::string, Tensor> out;
  for (const std::string& w : wanted) out[w] = *env.at(w);
  return out;
}

}  // namespace untangle::onnx
