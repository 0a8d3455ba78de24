// Ops that change a tensor's shape but not its elements, or give a shape or a constant, for any
// element type: Flatten, Reshape, Shape, Squeeze, Unsqueeze, Identity, Dropout (at inference, a
// copy) and Constant.
#include <algorithm>
#include <set>
#include <vector>

#include "nodes/onnx/kernel.h"

namespace untangle::onnx {

namespace {

using Shape = std::vector<std::size_t>;

Tensor reshaped(const Tensor& x, Shape shape) {
  if (element_count(shape) != x.size())
    throw std::runtime_error("a tensor of " + shape_string(x.shape) + " cannot become " + shape_string(shape));
  Tensor y = x;
  y.shape = std::move(shape);
  return y;
}

std::vector<Elem> same_as_input(const Call&, const std::vector<Elem>& in) { return {in[0]}; }

std::vector<Elem> with_int64(const Call& c, const std::vector<Elem>& in, std::size_t i) {
  expect(c, in, i, {Elem::int64});
  return {in[0]};
}

Kernel kernel(std::vector<std::string> attributes,
              std::function<std::vector<Elem>(const Call&, const std::vector<Elem>&)> check,
              std::function<Tensor(const Call&, const std::vector<const Tensor*>&)> run) {
  Kernel k;
  k.attributes = std::move(attributes);
  k.check = std::move(check);
  k.run = [run](const Call& c, const std::vector<const Tensor*>& in) { return std::vector<Tensor>{run(c, in)}; };
  return k;
}

Tensor flatten(const Call& c, const std::vector<const Tensor*>& in) {
  const Tensor& x = *in[0];
  const std::size_t axis = axis_index(attr_int(c.node, "axis", 1), x.shape.size(), "axis", true);
  return reshaped(x, {product(x.shape, 0, axis), product(x.shape, axis, x.shape.size())});
}

// 0 keeps the input's dimension there (unless allowzero, from opset 14), −1 takes what is left.
Tensor reshape(const Call& c, const std::vector<const Tensor*>& in) {
  const Tensor& x = *in[0];
  const std::vector<std::int64_t> want = int_values(*in[1], "shape");
  const bool allow_zero = attr_int(c.node, "allowzero", 0) != 0;
  Shape shape(want.size());
  std::size_t known = 1, infer = want.size();
  for (std::size_t i = 0; i < want.size(); ++i) {
    const std::int64_t v = want[i];
    if (v == -1) {
      if (infer != want.size()) throw std::runtime_error("shape holds −1 twice");
      infer = i;
      continue;
    }
    if (v < -1) throw std::runtime_error("shape holds " + std::to_string(v));
    if (v == 0 && !allow_zero) {
      if (i >= x.shape.size())
        throw std::runtime_error("shape holds 0 at " + std::to_string(i) + ", past the input's rank " + std::to_string(x.shape.size()));
      shape[i] = x.shape[i];
    } else {
      shape[i] = static_cast<std::size_t>(v);
    }
    known = element_count({known, shape[i]});
  }
  if (infer != want.size()) {
    if (known == 0 || x.size() % known != 0)
      throw std::runtime_error("no size for −1 turns " + shape_string(x.shape) + " into " + shape_string(shape));
    shape[infer] = x.size() / known;
  }
  return reshaped(x, shape);
}

Tensor shape_of(const Call& c, const std::vector<const Tensor*>& in) {
  const auto rank = static_cast<std::int64_t>(in[0]->shape.size());
  const auto clamp = [rank](std::int64_t v) { return std::clamp<std::int64_t>(v < 0 ? v + rank : v, 0, rank); };
  const std::int64_t start = clamp(attr_int(c.node, "start", 0)), end = clamp(attr_int(c.node, "end", rank));
  Tensor y = output(DType::i64, {static_cast<std::size_t>(std::max<std::int64_t>(0, end - start))}, c);
  for (std::int64_t i = start; i < end; ++i) y.data<std::int64_t>()[i - start] = static_cast<std::int64_t>(in[0]->shape[i]);
  return y;
}

// Axes from the attribute (before opset 13) or the second input (from it on), each once.
std::vector<std::size_t> axes(const Call& c, const std::vector<const Tensor*>& in, std::size_t rank) {
  std::vector<std::int64_t> values;
  if (c.opset < 13)
    values = attr_ints(c.node, "axes");
  else if (in.size() > 1 && in[1])
    values = int_values(*in[1], "axes");
  std::set<std::size_t> seen;
  for (std::int64_t v : values)
    if (!seen.insert(axis_index(v, rank, "axis")).second) throw std::runtime_error("axis " + std::to_string(v) + " is given twice");
  return std::vector<std::size_t>(seen.begin(), seen.end());
}

Tensor squeeze(const Call& c, const std::vector<const Tensor*>& in) {
  const Tensor& x = *in[0];
  std::vector<std::size_t> drop = axes(c, in, x.shape.size());
  if (drop.empty() && !(c.opset < 13 ? has_attr(c.node, "axes") : in.size() > 1 && in[1]))
    for (std::size_t a = 0; a < x.shape.size(); ++a)
      if (x.shape[a] == 1) drop.push_back(a);
  Shape shape;
  for (std::size_t a = 0; a < x.shape.size(); ++a) {
    const bool dropped = std::find(drop.begin(), drop.end(), a) != drop.end();
    if (dropped && x.shape[a] != 1)
      throw std::runtime_error("axis " + std::to_string(a) + " of " + shape_string(x.shape) + " is not 1 long");
    if (!dropped) shape.push_back(x.shape[a]);
  }
  return reshaped(x, shape);
}

Tensor unsqueeze(const Call& c, const std::vector<const Tensor*>& in) {
  const Tensor& x = *in[0];
  if (c.opset >= 13 && (in.size() < 2 || !in[1])) throw std::runtime_error("no axes are given");
  const std::size_t count = c.opset < 13 ? attr_ints(c.node, "axes").size() : in[1]->size();
  const std::vector<std::size_t> add = axes(c, in, x.shape.size() + count);
  Shape shape;
  for (std::size_t a = 0, from = 0; a < x.shape.size() + add.size(); ++a)
    shape.push_back(std::find(add.begin(), add.end(), a) != add.end() ? 1 : x.shape[from++]);
  return reshaped(x, shape);
}

// At inference Dropout is a copy; what would make it drop (training) or mask is refused.
std::vector<Elem> dropout_check(const Call& c, const std::vector<Elem>& in) {
  if (c.opset < 7 && attr_int(c.node, "is_test", 0) == 0)
    throw Unsupported("is_test=0 (the default before opset 7) asks for training, and only inference is run");
  if (c.node.inputs.size() > 2 && !c.node.inputs[2].empty())
    throw Unsupported("a training_mode input: only inference is run");
  expect_outputs(c, 1, "the mask is bool, which untangle does not hold");
  return {in[0]};
}

Tensor constant(const Call& c, const std::vector<const Tensor*>&) {
  const Node& n = c.node;
  if (n.attributes.size() != 1) throw std::runtime_error("Constant takes exactly one attribute");
  if (const Tensor* t = std::get_if<Tensor>(&n.attributes.begin()->second)) return *t;
  if (has_attr(n, "value_float")) return Tensor::scalar(attr_float(n, "value_float", 0));
  if (has_attr(n, "value_int")) return Tensor::scalar(attr_int(n, "value_int", 0));
  if (has_attr(n, "value_ints")) {
    const auto v = attr_ints(n, "value_ints");
    Tensor t = output(DType::i64, {v.size()}, c);
    std::copy(v.begin(), v.end(), t.data<std::int64_t>());
    return t;
  }
  const auto& v = std::get<std::vector<float>>(n.attributes.begin()->second);
  Tensor t = output(DType::f32, {v.size()}, c);
  std::copy(v.begin(), v.end(), t.data<float>());
  return t;
}

std::vector<Elem> constant_check(const Call& c, const std::vector<Elem>&) {
  const Node& n = c.node;
  if (n.attributes.size() != 1) throw Unsupported("Constant takes exactly one attribute");
  if (const Tensor* t = std::get_if<Tensor>(&n.attributes.begin()->second)) return {elem_of(t->dtype)};
  return {has_attr(n, "value_float") || has_attr(n, "value_floats") ? Elem::float32 : Elem::int64};
}

}  // namespace

void add_shape_kernels(Kernels& k) {
  k["Flatten"] = kernel({"axis"}, same_as_input, flatten);
  k["Reshape"] = kernel({"allowzero"}, [](const Call& c, const std::vector<Elem>& in) {
    if (c.opset < 5) throw Unsupported("Reshape before opset 5 (its shape an attribute) is not run");
    return with_int64(c, in, 1);
  }, reshape);
  k["Shape"] = kernel({"start", "end"}, [](const Call&, const std::vector<Elem>&) { return std::vector<Elem>{Elem::int64}; },
                      shape_of);
  k["Squeeze"] = kernel({"axes"}, [](const Call& c, const std::vector<Elem>& in) { return with_int64(c, in, 1); }, squeeze);
  k["Unsqueeze"] = kernel({"axes"}, [](const Call& c, const std::vector<Elem>& in) { return with_int64(c, in, 1); },
                          unsqueeze);
  const auto copy = [](const Call&, const std::vector<const Tensor*>& in) { return *in[0]; };
  k["Identity"] = kernel({}, same_as_input, copy);
  k["Dropout"] = kernel({"ratio", "seed", "is_test", "consumed_inputs"}, dropout_check, copy);
  k["Constant"] = kernel({"value", "value_float", "value_floats", "value_int", "value_ints"}, constant_check, constant);
}

}  // namespace untangle::onnx
