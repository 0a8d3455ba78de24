// What the interpreter knows of one ONNX op: the attributes it reads, what it accepts (checked
// for the whole graph before anything runs) and how it computes. Each ops_*.cpp adds the kernels
// of one group of ops; run.cpp evaluates a graph with them.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "nodes/onnx/model.h"

namespace untangle::onnx {

// A node as its kernel sees it, with the opset it is read under (Softmax's axis, Clip's bounds
// and others changed meaning between opsets).
struct Call {
  const Node& node;
  std::int64_t opset;
};

// What a kernel cannot do for a node: "attribute mode='wrap': ...". The node is named by the caller.
struct Unsupported : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Kernel {
  std::vector<std::string> attributes;  // those it reads; a node with any other is not run
  // The element types of the outputs, given those of the inputs (undefined for one left out);
  // throws Unsupported for what it does not do.
  std::function<std::vector<Elem>(const Call&, const std::vector<Elem>& in)> check;
  // The outputs, given the inputs (null for one left out). Shapes are checked here, as they are
  // known only now; a bad one throws std::runtime_error.
  std::function<std::vector<Tensor>(const Call&, const std::vector<const Tensor*>& in)> run;
};
using Kernels = std::map<std::string, Kernel>;

void add_elementwise_kernels(Kernels& k);  // Add, Sub, Mul, Div, Relu, LeakyRelu, Sigmoid, Tanh, Erf, Clip
void add_softmax_kernels(Kernels& k);      // Softmax, LogSoftmax
void add_linear_kernels(Kernels& k);       // Gemm, MatMul
void add_conv_kernels(Kernels& k);         // Conv
void add_pool_kernels(Kernels& k);         // MaxPool, AveragePool, GlobalAveragePool
void add_batchnorm_kernels(Kernels& k);    // BatchNormalization
void add_shape_kernels(Kernels& k);        // Flatten, Reshape, Shape, Squeeze, Unsqueeze, Identity, Dropout, Constant
void add_layout_kernels(Kernels& k);       // Transpose, Concat, Pad, Gather

// Attributes, with ONNX's defaults when absent. A value of another kind is an error (the checker
// lets through what a schema does not type).
bool has_attr(const Node& n, const std::string& name);
std::int64_t attr_int(const Node& n, const std::string& name, std::int64_t def);
float attr_float(const Node& n, const std::string& name, float def);
std::string attr_string(const Node& n, const std::string& name, const std::string& def);
std::vector<std::int64_t> attr_ints(const Node& n, const std::string& name, std::vector<std::int64_t> def = {});

// Refuses an input type not among `allowed`: "input 1 ('W') is int8; Conv takes float32". An input
// left out, or past the node's last, passes, and so does an undefined type on either side: a value
// made by a node that cannot run, which is named already.
void expect(const Call& c, const std::vector<Elem>& in, std::size_t i, const std::vector<Elem>& allowed);
// Refuses any output past the first `n` (an optional mask or index output the kernel does not make).
void expect_outputs(const Call& c, std::size_t n, const std::string& why);

// `axis` in [-rank, rank) (or [-rank, rank] with `end`) as an index from 0, else an error.
std::size_t axis_index(std::int64_t axis, std::size_t rank, const std::string& what, bool end = false);
// The values of an integer tensor (int64 or int32), as ONNX passes shapes, axes and pads.
std::vector<std::int64_t> int_values(const Tensor& t, const std::string& what);
// A zero tensor of an op's output, its size checked like every other (Tensor::allocate).
Tensor output(DType dtype, std::vector<std::size_t> shape, const Call& c);
// Product of shape[from, to).
std::size_t product(const std::vector<std::size_t>& shape, std::size_t from, std::size_t to);

// NumPy's broadcasting: the shape both broadcast to, else an error naming both.
std::vector<std::size_t> broadcast_shape(const std::vector<std::size_t>& a, const std::vector<std::size_t>& b);
// Element strides of a row-major tensor of `shape` read as one of `out` (which it broadcasts to):
// 0 along the axes it repeats.
std::vector<std::size_t> broadcast_strides(const std::vector<std::size_t>& shape, const std::vector<std::size_t>& out);

}  // namespace untangle::onnx
