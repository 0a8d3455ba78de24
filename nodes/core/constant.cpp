#include "nodes/core/ops.h"

namespace untangle {

OpSchema constant_op() {
  OpSchema op;
  op.name = "constant";
  op.light = true;
  op.doc = "A scalar given as a param: the smallest source node (for trying graphs and measuring the engine).";
  op.outputs = {{"y", "float64 scalar"}};
  op.params = {{"value", ParamType::number, "the value", "0"}};
  op.run = [](OpContext& ctx) { return Outputs{{"y", Tensor::scalar(ctx.number("value"))}}; };
  return op;
}

OpSchema add_op() {
  OpSchema op;
  op.name = "add";
  op.light = true;
  op.doc = "a + b + c for scalars a and b (b optional) and a param c.";
  op.inputs = {{"a", "scalar"}, {"b", "scalar", true}};
  op.outputs = {{"y", "float64 scalar"}};
  op.params = {{"c", ParamType::number, "added to the inputs", "0"}};
  op.run = [](OpContext& ctx) {
    double y = ctx.input("a").at(0) + ctx.number("c");
    if (ctx.has("b")) y += ctx.input("b").at(0);
    return Outputs{{"y", Tensor::scalar(y)}};
  };
  return op;
}

}  // namespace untangle
