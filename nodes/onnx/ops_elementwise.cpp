// Element by element: the four arithmetic ops with NumPy broadcasting (and the axis-aligned
// broadcasting of opsets before 7), the activations, and Clip. Each output element is one
// expression of its inputs' elements, so nothing here depends on an order of summation.
#include <cmath>
#include <limits>
#include <type_traits>

#include "nodes/numeric/elementary.h"
#include "nodes/onnx/erf.h"
#include "nodes/onnx/kernel.h"

namespace untangle::onnx {

namespace {

const std::vector<Elem> kArithmetic = {Elem::float32, Elem::float64, Elem::int64, Elem::int32};

// y[i] = f(a[i'], b[i'']) over the broadcast shape, the last axis innermost.
template <class T, class F>
Tensor broadcast(const Tensor& a, const Tensor& b, const std::vector<std::size_t>& b_shape, F f, const Call& c) {
  const std::vector<std::size_t> shape = broadcast_shape(a.shape, b_shape);
  Tensor y = output(a.dtype, shape, c);
  const std::size_t n = y.size(), rank = shape.size();
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  T* py = y.data<T>();
  if (n == 0) return y;
  if (rank == 0) {
    *py = f(*pa, *pb);
    return y;
  }
  const std::vector<std::size_t> sa = broadcast_strides(a.shape, shape), sb = broadcast_strides(b_shape, shape);
  const std::size_t inner = shape[rank - 1], ia = sa[rank - 1], ib = sb[rank - 1];
  std::vector<std::size_t> index(rank, 0);
  std::size_t oa = 0, ob = 0;
  for (std::size_t done = 0; done < n; done += inner) {
    for (std::size_t j = 0; j < inner; ++j) py[done + j] = f(pa[oa + j * ia], pb[ob + j * ib]);
    for (std::size_t axis = rank - 1; axis-- > 0;) {
      oa += sa[axis], ob += sb[axis];
      if (++index[axis] < shape[axis]) break;
      oa -= sa[axis] * shape[axis], ob -= sb[axis] * shape[axis], index[axis] = 0;
    }
  }
  return y;
}

enum class Arith { add, sub, mul, div };

// Integers wrap around as NumPy's do, rather than overflow into undefined behaviour.
template <class T>
T apply(Arith op, T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    switch (op) {
      case Arith::add: return a + b;
      case Arith::sub: return a - b;
      case Arith::mul: return a * b;
      case Arith::div: return a / b;
    }
    return a;
  } else {
    using U = std::make_unsigned_t<T>;
    const U ua = static_cast<U>(a), ub = static_cast<U>(b);
    switch (op) {
      case Arith::add: return static_cast<T>(ua + ub);
      case Arith::sub: return static_cast<T>(ua - ub);
      case Arith::mul: return static_cast<T>(ua * ub);
      case Arith::div:
        if (b == 0) throw std::runtime_error("integer division by zero");
        if (b == -1) return static_cast<T>(U(0) - ua);
        return a / b;  // towards zero, as C and ONNX Runtime divide
    }
    return a;
  }
}

// Before opset 7, B broadcast only with broadcast=1, its axes lined up with A's from `axis`
// (the trailing ones by default); that is NumPy broadcasting of B padded with 1s on the right.
std::vector<std::size_t> legacy_shape(const Call& c, const Tensor& a, const Tensor& b) {
  if (c.opset >= 7) return b.shape;
  if (!attr_int(c.node, "broadcast", 0)) {
    if (a.shape != b.shape)
      throw std::runtime_error("shapes " + shape_string(a.shape) + " and " + shape_string(b.shape) +
                               " differ, and broadcast is 0");
    return b.shape;
  }
  if (b.shape.size() > a.shape.size())
    throw std::runtime_error("B " + shape_string(b.shape) + " has more axes than A " + shape_string(a.shape));
  const std::size_t axis = has_attr(c.node, "axis") ? axis_index(attr_int(c.node, "axis", 0), a.shape.size(), "axis")
                                                    : a.shape.size() - b.shape.size();
  if (axis + b.shape.size() > a.shape.size())
    throw std::runtime_error("B " + shape_string(b.shape) + " from axis " + std::to_string(axis) + " overruns A " +
                             shape_string(a.shape));
  std::vector<std::size_t> shape(axis, 1);
  shape.insert(shape.end(), b.shape.begin(), b.shape.end());
  shape.resize(a.shape.size(), 1);
  return shape;
}

Kernel arithmetic(Arith op) {
  Kernel k;
  k.attributes = {"broadcast", "axis"};  // opsets before 7
  k.check = [](const Call& c, const std::vector<Elem>& in) {
    expect(c, in, 0, kArithmetic);
    if (in[1] != in[0]) expect(c, in, 1, {in[0]});
    return std::vector<Elem>{in[0]};
  };
  k.run = [op](const Call& c, const std::vector<const Tensor*>& in) {
    const Tensor &a = *in[0], &b = *in[1];
    const std::vector<std::size_t> b_shape = legacy_shape(c, a, b);
    switch (a.dtype) {
      case DType::f32: return std::vector<Tensor>{broadcast<float>(a, b, b_shape, [op](float x, float y) { return apply(op, x, y); }, c)};
      case DType::f64: return std::vector<Tensor>{broadcast<double>(a, b, b_shape, [op](double x, double y) { return apply(op, x, y); }, c)};
      case DType::i64:
        return std::vector<Tensor>{broadcast<std::int64_t>(a, b, b_shape, [op](std::int64_t x, std::int64_t y) { return apply(op, x, y); }, c)};
      case DType::i32:
        return std::vector<Tensor>{broadcast<std::int32_t>(a, b, b_shape, [op](std::int32_t x, std::int32_t y) { return apply(op, x, y); }, c)};
      default: throw std::runtime_error(std::string("no arithmetic on ") + dtype_name(a.dtype));
    }
  };
  return k;
}

template <class F>
Tensor map(const Tensor& x, F f, const Call& c) {
  Tensor y = output(DType::f32, x.shape, c);
  const float* px = x.data<float>();
  float* py = y.data<float>();
  for (std::size_t i = 0, n = x.size(); i < n; ++i) py[i] = f(px[i]);
  return y;
}

// A float32 function of one float32 input, with the attributes it reads.
template <class Make>
Kernel unary(std::vector<std::string> attributes, Make make) {
  Kernel k;
  k.attributes = std::move(attributes);
  k.check = [](const Call& c, const std::vector<Elem>& in) {
    expect(c, in, 0, {Elem::float32});
    return std::vector<Elem>{Elem::float32};
  };
  k.run = [make](const Call& c, const std::vector<const Tensor*>& in) {
    return std::vector<Tensor>{map(*in[0], make(c), c)};
  };
  return k;
}

// Clip's bounds: attributes before opset 11, optional scalar inputs from it on.
float bound(const Call& c, const std::vector<const Tensor*>& in, std::size_t i, const char* name, float def) {
  if (c.opset < 11) return attr_float(c.node, name, def);
  if (i >= in.size() || !in[i]) return def;
  if (in[i]->size() != 1) throw std::runtime_error(std::string(name) + " holds " + std::to_string(in[i]->size()) + " values, not one");
  return in[i]->data<float>()[0];
}

Kernel clip() {
  Kernel k;
  k.attributes = {"min", "max"};  // opsets before 11
  k.check = [](const Call& c, const std::vector<Elem>& in) {
    expect(c, in, 0, {Elem::float32});
    for (std::size_t i = 1; i < in.size(); ++i) expect(c, in, i, {Elem::float32});
    return std::vector<Elem>{Elem::float32};
  };
  k.run = [](const Call& c, const std::vector<const Tensor*>& in) {
    const float lo = bound(c, in, 1, "min", -std::numeric_limits<float>::infinity());
    const float hi = bound(c, in, 2, "max", std::numeric_limits<float>::infinity());
    // NaN passes through, as NumPy's clip lets it.
    return std::vector<Tensor>{map(*in[0], [lo, hi](float v) { return v < lo ? lo : v > hi ? hi : v; }, c)};
  };
  return k;
}

}  // namespace

void add_elementwise_kernels(Kernels& k) {
  k["Add"] = arithmetic(Arith::add);
  k["Sub"] = arithmetic(Arith::sub);
  k["Mul"] = arithmetic(Arith::mul);
  k["Div"] = arithmetic(Arith::div);
  // -0 and NaN stay as they are.
  k["Relu"] = unary({}, [](const Call&) { return [](float v) { return v < 0 ? 0.0f : v; }; });
  k["LeakyRelu"] = unary({"alpha"}, [](const Call& c) {
    const float alpha = attr_float(c.node, "alpha", 0.01f);
    return [alpha](float v) { return v < 0 ? alpha * v : v; };
  });
  // In double, rounded once to float32.
  k["Sigmoid"] = unary({}, [](const Call&) {
    return [](float v) { return static_cast<float>(1.0 / (1.0 + num::exp(-static_cast<double>(v)))); };
  });
  k["Tanh"] = unary({}, [](const Call&) { return [](float v) { return static_cast<float>(num::tanh(v)); }; });
  k["Erf"] = unary({}, [](const Call&) { return [](float v) { return static_cast<float>(erf(v)); }; });
  k["Clip"] = clip();
}

}  // namespace untangle::onnx
