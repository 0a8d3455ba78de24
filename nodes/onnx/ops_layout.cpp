// Ops that move elements without computing with them, for any element type: Transpose, Concat,
// Pad (constant, edge and reflect) and Gather.
#include <algorithm>
#include <cstring>
#include <vector>

#include "nodes/onnx/kernel.h"

namespace untangle::onnx {

namespace {

using Shape = std::vector<std::size_t>;

Shape strides_of(const Shape& shape) {
  Shape s(shape.size(), 1);
  for (std::size_t a = shape.size(); a-- > 1;) s[a - 1] = s[a] * shape[a];
  return s;
}

// Calls f(output index, multi-index) for every element of `shape`, the last axis fastest.
template <class F>
void each_index(const Shape& shape, F f) {
  const std::size_t n = element_count(shape);
  Shape index(shape.size(), 0);
  for (std::size_t i = 0; i < n; ++i) {
    f(i, index);
    for (std::size_t a = shape.size(); a-- > 0;) {
      if (++index[a] < shape[a]) break;
      index[a] = 0;
    }
  }
}

Tensor transpose(const Call& c, const std::vector<const Tensor*>& in) {
  const Tensor& x = *in[0];
  const std::size_t rank = x.shape.size();
  std::vector<std::int64_t> perm = attr_ints(c.node, "perm");
  if (!has_attr(c.node, "perm"))
    for (std::size_t a = rank; a-- > 0;) perm.push_back(static_cast<std::int64_t>(a));
  std::vector<bool> seen(rank, false);
  if (perm.size() != rank) throw std::runtime_error("perm has " + std::to_string(perm.size()) + " axes for rank " + std::to_string(rank));
  for (std::int64_t p : perm) {
    if (p < 0 || p >= static_cast<std::int64_t>(rank) || seen[p]) throw std::runtime_error("perm is no permutation");
    seen[p] = true;
  }
  Shape shape(rank);
  for (std::size_t a = 0; a < rank; ++a) shape[a] = x.shape[perm[a]];
  Tensor y = output(x.dtype, shape, c);
  const Shape from = strides_of(x.shape);
  const std::size_t size = dtype_size(x.dtype);
  each_index(shape, [&](std::size_t i, const Shape& index) {
    std::size_t src = 0;
    for (std::size_t a = 0; a < rank; ++a) src += index[a] * from[perm[a]];
    std::memcpy(y.bytes.data() + i * size, x.bytes.data() + src * size, size);
  });
  return y;
}

Tensor concat(const Call& c, const std::vector<const Tensor*>& in) {
  const Tensor& first = *in[0];
  const std::size_t rank = first.shape.size();
  const std::size_t axis = axis_index(attr_int(c.node, "axis", 1), rank, "axis");
  Shape shape = first.shape;
  shape[axis] = 0;
  for (const Tensor* t : in) {
    Shape a = t->shape, b = first.shape;
    if (a.size() == rank) a[axis] = b[axis] = 0;
    if (a != b) throw std::runtime_error(shape_string(t->shape) + " and " + shape_string(first.shape) + " do not join on axis " + std::to_string(axis));
    shape[axis] += t->shape[axis];
  }
  Tensor y = output(first.dtype, shape, c);
  const std::size_t outer = product(shape, 0, axis), inner = product(shape, axis + 1, rank) * dtype_size(first.dtype);
  unsigned char* dst = y.bytes.data();
  for (std::size_t o = 0; o < outer; ++o)
    for (const Tensor* t : in) {
      const std::size_t chunk = t->shape[axis] * inner;
      if (chunk) std::memcpy(dst, t->bytes.data() + o * chunk, chunk);
      dst += chunk;
    }
  return y;
}

// The pad value as the data's element type: attribute `value` before opset 11, then the optional
// constant_value input.
std::vector<unsigned char> pad_value(const Call& c, const std::vector<const Tensor*>& in, DType dtype) {
  std::vector<unsigned char> out(dtype_size(dtype), 0);
  if (c.opset >= 11) {
    if (in.size() > 2 && in[2]) {
      if (in[2]->size() != 1) throw std::runtime_error("constant_value holds " + std::to_string(in[2]->size()) + " values, not one");
      std::memcpy(out.data(), in[2]->bytes.data(), out.size());
    }
    return out;
  }
  const double v = attr_float(c.node, "value", 0);
  switch (dtype) {
    case DType::f32: { const float f = static_cast<float>(v); std::memcpy(out.data(), &f, sizeof f); break; }
    case DType::f64: std::memcpy(out.data(), &v, sizeof v); break;
    default: if (v != 0) throw std::runtime_error("a nonzero pad value for " + std::string(dtype_name(dtype)) + " data");
  }
  return out;
}

// Where output position o of an axis reads from, or −1 for the constant.
std::int64_t source(const std::string& mode, std::int64_t o, std::int64_t size) {
  if (o >= 0 && o < size) return o;
  if (mode == "constant") return -1;
  if (size == 0) throw std::runtime_error("an empty axis cannot be padded by " + mode);
  if (mode == "edge") return o < 0 ? 0 : size - 1;
  if (size == 1) return 0;
  const std::int64_t period = 2 * (size - 1), m = ((o % period) + period) % period;
  return m < size ? m : period - m;
}

Tensor pad(const Call& c, const std::vector<const Tensor*>& in) {
  const Tensor& x = *in[0];
  const std::size_t rank = x.shape.size();
  const std::string mode = attr_string(c.node, "mode", "constant");
  const std::vector<std::int64_t> pads = c.opset < 11 ? attr_ints(c.node, "pads") : int_values(*in[1], "pads");
  if (pads.size() != 2 * rank)
    throw std::runtime_error("pads has " + std::to_string(pads.size()) + " values for rank " + std::to_string(rank));
  constexpr std::int64_t limit = std::int64_t(1) << 40;  // far past any tensor, far inside 64 bits
  for (std::int64_t p : pads)
    if (p <= -limit || p >= limit) throw std::runtime_error("pads holds " + std::to_string(p));
  Shape shape(rank);
  for (std::size_t a = 0; a < rank; ++a) {
    const std::int64_t size = static_cast<std::int64_t>(x.shape[a]) + pads[a] + pads[rank + a];
    if (size < 0) throw std::runtime_error("pads crop axis " + std::to_string(a) + " below nothing");
    shape[a] = static_cast<std::size_t>(size);
  }
  Tensor y = output(x.dtype, shape, c);
  const std::vector<unsigned char> value = pad_value(c, in, x.dtype);
  std::vector<std::vector<std::int64_t>> from(rank);  // per axis: output position → input position or −1
  for (std::size_t a = 0; a < rank; ++a)
    for (std::size_t o = 0; o < shape[a]; ++o)
      from[a].push_back(source(mode, static_cast<std::int64_t>(o) - pads[a], static_cast<std::int64_t>(x.shape[a])));
  const Shape strides = strides_of(x.shape);
  const std::size_t size = dtype_size(x.dtype);
  each_index(shape, [&](std::size_t i, const Shape& index) {
    std::size_t src = 0;
    bool padding = false;
    for (std::size_t a = 0; a < rank && !padding; ++a) {
      const std::int64_t s = from[a][index[a]];
      padding = s < 0;
      src += padding ? 0 : static_cast<std::size_t>(s) * strides[a];
    }
    std::memcpy(y.bytes.data() + i * size, padding ? value.data() : x.bytes.data() + src * size, size);
  });
  return y;
}

Tensor gather(const Call& c, const std::vector<const Tensor*>& in) {
  const Tensor &x = *in[0], &indices = *in[1];
  const std::size_t rank = x.shape.size();
  if (rank == 0) throw std::runtime_error("Gather takes no scalar");
  const std::size_t axis = axis_index(attr_int(c.node, "axis", 0), rank, "axis");
  const std::vector<std::int64_t> at = int_values(indices, "indices");
  Shape shape(x.shape.begin(), x.shape.begin() + axis);
  shape.insert(shape.end(), indices.shape.begin(), indices.shape.end());
  shape.insert(shape.end(), x.shape.begin() + axis + 1, x.shape.end());
  Tensor y = output(x.dtype, shape, c);
  const auto size = static_cast<std::int64_t>(x.shape[axis]);
  const std::size_t outer = product(x.shape, 0, axis), inner = product(x.shape, axis + 1, rank) * dtype_size(x.dtype);
  unsigned char* dst = y.bytes.data();
  for (std::size_t o = 0; o < outer; ++o)
    for (std::int64_t i : at) {
      if (i < -size || i >= size)
        throw std::runtime_error("index " + std::to_string(i) + " is outside an axis of " + std::to_string(size));
      const std::size_t row = static_cast<std::size_t>(i < 0 ? i + size : i);
      if (inner) std::memcpy(dst, x.bytes.data() + (o * x.shape[axis] + row) * inner, inner);
      dst += inner;
    }
  return y;
}

Kernel kernel(std::vector<std::string> attributes,
              std::function<std::vector<Elem>(const Call&, const std::vector<Elem>&)> check,
              Tensor (*run)(const Call&, const std::vector<const Tensor*>&)) {
  Kernel k;
  k.attributes = std::move(attributes);
  k.check = std::move(check);
  k.run = [run](const Call& c, const std::vector<const Tensor*>& in) { return std::vector<Tensor>{run(c, in)}; };
  return k;
}

}  // namespace

void add_layout_kernels(Kernels& k) {
  k["Transpose"] = kernel({"perm"}, [](const Call&, const std::vector<Elem>& in) { return std::vector<Elem>{in[0]}; },
                          transpose);
  k["Concat"] = kernel({"axis"}, [](const Call& c, const std::vector<Elem>& in) {
    for (std::size_t i = 1; i < in.size(); ++i) expect(c, in, i, {in[0]});
    return std::vector<Elem>{in[0]};
  }, concat);
  k["Pad"] = kernel({"mode", "pads", "value"}, [](const Call& c, const std::vector<Elem>& in) {
    const std::string mode = attr_string(c.node, "mode", "constant");
    if (mode != "constant" && mode != "edge" && mode != "reflect")
      throw Unsupported("mode '" + mode + "' is none of constant, edge and reflect");
    expect(c, in, 1, {Elem::int64});
    expect(c, in, 2, {in[0]});
    return std::vector<Elem>{in[0]};
  }, pad);
  k["Gather"] = kernel({"axis"}, [](const Call& c, const std::vector<Elem>& in) {
    expect(c, in, 1, {Elem::int64, Elem::int32});
    return std::vector<Elem>{in[0]};
  }, gather);
}

}  // namespace untangle::onnx
