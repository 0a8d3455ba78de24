#include "nodes/onnx/kernel.h"

#include <algorithm>

namespace untangle::onnx {

namespace {

template <class T>
const T* find(const Node& n, const std::string& name, const char* kind) {
  auto it = n.attributes.find(name);
  if (it == n.attributes.end()) return nullptr;
  const T* v = std::get_if<T>(&it->second);
  if (!v) throw std::runtime_error("attribute '" + name + "' is not " + kind);
  return v;
}

}  // namespace

bool has_attr(const Node& n, const std::string& name) { return n.attributes.count(name) > 0; }

std::int64_t attr_int(const Node& n, const std::string& name, std::int64_t def) {
  const auto* v = find<std::int64_t>(n, name, "an int");
  return v ? *v : def;
}

float attr_float(const Node& n, const std::string& name, float def) {
  const auto* v = find<float>(n, name, "a float");
  return v ? *v : def;
}

std::string attr_string(const Node& n, const std::string& name, const std::string& def) {
  const auto* v = find<std::string>(n, name, "a string");
  return v ? *v : def;
}

std::vector<std::int64_t> attr_ints(const Node& n, const std::string& name, std::vector<std::int64_t> def) {
  const auto* v = find<std::vector<std::int64_t>>(n, name, "a list of ints");
  return v ? *v : def;
}

void expect(const Call& c, const std::vector<Elem>& in, std::size_t i, const std::vector<Elem>& allowed) {
  if (i >= in.size() || c.node.inputs[i].empty() || in[i] == Elem::undefined) return;
  for (Elem e : allowed)
    if (in[i] == e || e == Elem::undefined) return;
  std::string names;
  for (std::size_t k = 0; k < allowed.size(); ++k)
    names += (k == 0 ? "" : k + 1 == allowed.size() ? " or " : ", ") + elem_name(allowed[k]);
  throw Unsupported("input " + std::to_string(i) + " ('" + c.node.inputs[i] + "') is " + elem_name(in[i]) + "; " +
                    c.node.op_type + " takes " + names + " here");
}

void expect_outputs(const Call& c, std::size_t n, const std::string& why) {
  for (std::size_t i = n; i < c.node.outputs.size(); ++i)
    if (!c.node.outputs[i].empty())
      throw Unsupported("output " + std::to_string(i) + " ('" + c.node.outputs[i] + "'): " + why);
}

std::size_t axis_index(std::int64_t axis, std::size_t rank, const std::string& what, bool end) {
  const auto r = static_cast<std::int64_t>(rank);
  const std::int64_t a = axis < 0 ? axis + r : axis;
  if (a < 0 || a > r || (a == r && !end))
    throw std::runtime_error(what + " " + std::to_string(axis) + " is outside a tensor of rank " + std::to_string(rank));
  return static_cast<std::size_t>(a);
}

std::vector<std::int64_t> int_values(const Tensor& t, const std::string& what) {
  std::vector<std::int64_t> out(t.size());
  if (t.dtype == DType::i64)
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = t.data<std::int64_t>()[i];
  else if (t.dtype == DType::i32)
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = t.data<std::int32_t>()[i];
  else
    throw std::runtime_error(what + " is " + dtype_name(t.dtype) + ", not int64");
  return out;
}

Tensor output(DType dtype, std::vector<std::size_t> shape, const Call& c) {
  return Tensor::allocate(dtype, std::move(shape), c.node.op_type + "'s output");
}

std::size_t product(const std::vector<std::size_t>& shape, std::size_t from, std::size_t to) {
  return element_count(std::vector<std::size_t>(shape.begin() + from, shape.begin() + to));
}

std::vector<std::size_t> broadcast_shape(const std::vector<std::size_t>& a, const std::vector<std::size_t>& b) {
  const std::size_t rank = std::max(a.size(), b.size());
  std::vector<std::size_t> out(rank);
  for (std::size_t i = 0; i < rank; ++i) {
    const std::size_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const std::size_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      throw std::runtime_error("shapes " + shape_string(a) + " and " + shape_string(b) + " do not broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

std::vector<std::size_t> broadcast_strides(const std::vector<std::size_t>& shape, const std::vector<std::size_t>& out) {
  std::vector<std::size_t> strides(out.size(), 0);
  std::size_t step = 1;
  for (std::size_t i = shape.size(); i-- > 0;) {
    const std::size_t o = i + (out.size() - shape.size());
    strides[o] = shape[i] == 1 && out[o] != 1 ? 0 : step;
    step *= shape[i];
  }
  return strides;
}

}  // namespace untangle::onnx
