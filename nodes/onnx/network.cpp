#include "nodes/onnx/network.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "nodes/onnx/run.h"
#include "nodes/onnx/run_onnx.h"

namespace untangle::onnx {

namespace {

// Samples run at a time where the batch is symbolic: enough to keep the kernels busy, few
// enough that a large network's intermediate values stay small. A value of a sample does not
// depend on the others of its chunk, so neither does it depend on this number.
constexpr std::size_t kChunk = 64;

bool fits(const std::vector<std::size_t>& sample, const std::vector<Dim>& input) {
  if (sample.size() + 1 != input.size()) return false;
  for (std::size_t d = 0; d < sample.size(); ++d)
    if (input[d + 1].value >= 0 && static_cast<std::size_t>(input[d + 1].value) != sample[d]) return false;
  return true;
}

std::string dims_text(const std::vector<Dim>& dims) {
  std::string s = "[";
  for (std::size_t d = 0; d < dims.size(); ++d)
    s += (d ? ", " : "") + (dims[d].value >= 0 ? std::to_string(dims[d].value) : dims[d].param.empty() ? "?" : dims[d].param);
  return s + "]";
}

// x [n, h, w, c] → [n, c, h, w], float32.
Tensor nchw(const Tensor& x) {
  const std::size_t n = x.shape[0], h = x.shape[1], w = x.shape[2], c = x.shape[3];
  Tensor t = Tensor::allocate(DType::f32, {n, c, h, w}, "x in NCHW");
  const float* in = x.data<float>();
  float* out = t.data<float>();
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t y = 0; y < h; ++y)
      for (std::size_t xx = 0; xx < w; ++xx)
        for (std::size_t k = 0; k < c; ++k) out[((i * c + k) * h + y) * w + xx] = in[((i * h + y) * w + xx) * c + k];
  return t;
}

// Rows [lo, hi) of t.
Tensor rows_of(const Tensor& t, std::size_t lo, std::size_t hi) {
  std::vector<std::size_t> shape = t.shape;
  shape[0] = hi - lo;
  Tensor r = Tensor::allocate(t.dtype, shape, "a chunk of x");
  const std::size_t row = t.shape[0] ? t.bytes.size() / t.shape[0] : 0;
  if (row) std::memcpy(r.bytes.data(), t.bytes.data() + lo * row, (hi - lo) * row);
  return r;
}

std::map<std::string, Tensor> run_network(const Tensor& model, const std::vector<Tensor>& weights,
                                          const std::vector<std::string>& names, const Tensor& x_in,
                                          const std::vector<std::string>& wanted_in,
                                          const std::function<void(const std::string&)>& log) {
  const Model m = with_weights(model, weights, names);
  if (m.inputs.size() != 1) {
    std::string list;
    for (const auto& v : m.inputs) list += (list.empty() ? "'" : ", '") + v.name + "'";
    throw std::runtime_error("the ONNX network takes " + std::to_string(m.inputs.size()) + " inputs (" + list +
                             "); evaluate and activations feed it one, x");
  }
  const ValueInfo& input = m.inputs[0];
  DType dtype;
  if (!dtype_of(input.elem, dtype) || dtype != DType::f32)
    throw std::runtime_error("the ONNX network's input '" + input.name + "' is not float32; x is");
  if (x_in.dtype != DType::f32 || x_in.shape.empty()) throw std::runtime_error("x must be float32 samples, one per row");
  const std::vector<std::size_t> sample(x_in.shape.begin() + 1, x_in.shape.end());
  Tensor transposed;
  const Tensor* x = &x_in;
  if (input.has_shape && !fits(sample, input.shape)) {
    const bool image = sample.size() == 3 && input.shape.size() == 4;
    if (image && fits({sample[2], sample[0], sample[1]}, input.shape)) {
      transposed = nchw(x_in);
      x = &transposed;
      log("x is NHWC " + shape_string(x_in.shape) + "; the network's input '" + input.name + "' is NCHW " +
          dims_text(input.shape) + ": x transposed to " + shape_string(transposed.shape));
    } else {
      throw std::runtime_error("x samples are " + shape_string(sample) + "; the network's input '" + input.name +
                               "' is " + dims_text(input.shape) + " (the first dimension the samples)");
    }
  }
  std::vector<std::string> wanted = wanted_in;
  if (wanted.empty())
    for (const auto& v : m.outputs) wanted.push_back(v.name);
  const std::size_t n = x->shape[0];
  std::size_t chunk = kChunk;
  if (input.has_shape && !input.shape.empty() && input.shape[0].value >= 0) {
    chunk = static_cast<std::size_t>(input.shape[0].value);
    if (chunk == 0 || n % chunk != 0)
      throw std::runtime_error("the network's input '" + input.name + "' fixes its batch at " + std::to_string(chunk) +
                               " samples, which does not divide x's " + std::to_string(n));
  }
  std::map<std::string, Tensor> out;
  std::size_t lo = 0;
  do {  // once at least: an empty x still gives each value its shape
    const std::size_t hi = std::min(n, lo + chunk);
    auto got = run(m, {{input.name, rows_of(*x, lo, hi)}}, wanted);
    for (const auto& name : wanted) {
      const Tensor& v = got.at(name);
      if (v.shape.empty() || v.shape[0] != hi - lo || v.dtype == DType::str)
        throw std::runtime_error("the network's value '" + name + "' is " + shape_string(v.shape) + " for " +
                                 std::to_string(hi - lo) + " samples: not one row per sample");
      Tensor& o = out[name];
      if (o.shape.empty()) {
        std::vector<std::size_t> shape = v.shape;
        shape[0] = n;
        o = Tensor::allocate(v.dtype, shape, "value '" + name + "'");
      } else if (o.dtype != v.dtype || !std::equal(o.shape.begin() + 1, o.shape.end(), v.shape.begin() + 1, v.shape.end())) {
        throw std::runtime_error("the network's value '" + name + "' changes shape between samples");
      }
      if (!v.bytes.empty()) std::memcpy(o.bytes.data() + lo * (v.bytes.size() / (hi - lo)), v.bytes.data(), v.bytes.size());
    }
    lo = hi;
  } while (lo < n);
  return out;
}

bool ends_in_softmax(const Tensor& model) {
  const Model m = parse_model(std::string(model.bytes.begin(), model.bytes.end()), "the model");
  if (m.outputs.size() != 1) return false;
  for (const Node& node : m.nodes)
    for (const auto& o : node.outputs)
      if (o == m.outputs[0].name) return node.op_type == "Softmax" && node.domain.empty();
  return false;
}

}  // namespace

nn::ForeignNetwork network() {
  nn::ForeignNetwork n;
  n.kind = "ONNX";
  n.owns = [](const Tensor& model) { return model.dtype == DType::u8 && model.shape.size() == 1; };
  n.run = run_network;
  n.outputs_probabilities = ends_in_softmax;
  return n;
}

}  // namespace untangle::onnx
