#include <stdexcept>
#include <vector>

#include "nodes/data/ops.h"

namespace untangle {

namespace {

// The shape past the first axis; a scalar's is its own (empty) shape.
std::vector<std::size_t> row_shape(const Tensor& t) {
  return {t.shape.begin() + (t.shape.empty() ? 0 : 1), t.shape.end()};
}

Outputs run(OpContext& ctx) {
  const auto& xs = ctx.inputs.at("x");
  const auto& labels = ctx.labels.at("x");
  if (xs.empty()) throw std::runtime_error("nothing to join");
  const Tensor& first = xs.front();
  if (first.shape.empty()) throw std::runtime_error(labels[0] + " is a scalar; concat joins rows (first axis)");
  Tensor out;
  out.dtype = first.dtype;
  out.shape = first.shape;
  out.shape[0] = 0;
  for (std::size_t k = 0; k < xs.size(); ++k) {
    const Tensor& t = xs[k];
    // Rows of different types or shapes do not make one set: a silent conversion would hide it.
    if (t.dtype != first.dtype)
      throw std::runtime_error(labels[k] + " is " + dtype_name(t.dtype) + " but " + labels[0] + " is " +
                               dtype_name(first.dtype));
    if (t.shape.empty() || row_shape(t) != row_shape(first))
      throw std::runtime_error(labels[k] + " has rows of shape " + shape_string(row_shape(t)) + " but " + labels[0] +
                               " has rows of shape " + shape_string(row_shape(first)));
    out.shape[0] += t.shape[0];
    if (t.dtype == DType::str)
      out.strings.insert(out.strings.end(), t.strings.begin(), t.strings.end());
    else
      out.bytes.insert(out.bytes.end(), t.bytes.begin(), t.bytes.end());
  }
  return {{"y", out}};
}

}  // namespace

OpSchema concat_op() {
  OpSchema op;
  op.name = "concat";
  op.doc = "Joins tensors along their first axis, in the order listed: e.g. a data set's training and test rows "
           "as one set.\nAll must have one type and the same shape past the first axis.";
  PortSpec x{"x", "a list of node.port to join (rows first)"};
  x.gather = true;
  op.inputs = {x};
  op.outputs = {{"y", "their rows, one after another"}};
  op.run = run;
  return op;
}

}  // namespace untangle
