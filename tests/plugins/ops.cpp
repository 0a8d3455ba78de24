// Plugins for the plugin tests, one source built several ways (tests/CMakeLists.txt):
//   PLUGIN_FACTOR   the factor `scale` multiplies by: two builds stand for a plugin before and
//                   after a rebuild that changed its code
//   PLUGIN_TAKEN    also adds an op named `constant`, which untangle already has
//   PLUGIN_BROKEN   also adds an op without a run function, which the registry refuses
#include "pipeline/plugin.h"

#include <stdexcept>

using namespace untangle;

namespace {

OpSchema scale() {
  OpSchema op;
  op.name = "scale";
  op.doc = "x times a factor compiled into the plugin, times the param by.";
  op.inputs = {{"x", "a float64 scalar"}};
  op.outputs = {{"y", "float64"}};
  op.params = {{"by", ParamType::number, "a factor", "1"}};
  op.run = [](OpContext& ctx) {
    ctx.progress(0.5, "halfway");
    ctx.log("scaling by " + std::to_string(PLUGIN_FACTOR));
    return Outputs{{"y", Tensor::scalar(ctx.input("x").at(0) * PLUGIN_FACTOR * ctx.number("by"))}};
  };
  return op;
}

OpSchema fail() {
  OpSchema op;
  op.name = "fail";
  op.doc = "Throws, with the param why in its message.";
  op.outputs = {{"y", "never"}};
  op.params = {{"why", ParamType::string, "the message", std::nullopt}};
  op.run = [](OpContext& ctx) -> Outputs { throw std::runtime_error("cannot go on: " + ctx.string("why")); };
  return op;
}

void add_ops(Registry& ops) {
  ops.add(scale());
  ops.add(fail());
#ifdef PLUGIN_TAKEN
  OpSchema taken = scale();
  taken.name = "constant";
  ops.add(taken);
#endif
#ifdef PLUGIN_BROKEN
  OpSchema broken;
  broken.name = "broken";
  ops.add(broken);
#endif
}

}  // namespace

UNTANGLE_PLUGIN(add_ops)
