#include <sstream>
#include <stdexcept>

#include "nodes/nn/model.h"
#include "nodes/nn/ops.h"

namespace untangle {

namespace {

Outputs run(OpContext& ctx) {
  const Tensor& config = ctx.input("model");
  if (config.dtype != DType::str || config.strings.size() != 1)
    throw std::runtime_error("model must be the model output of a train node");
  const nn::Model model = nn::Model::from_config(config.strings[0]);
  std::vector<std::string> lines;
  std::istringstream text(model.summary());
  for (std::string line; std::getline(text, line);) lines.push_back(line);
  return {{"summary", Tensor::text(lines)},
          {"params", Tensor::scalar<std::int64_t>(static_cast<std::int64_t>(model.param_count()))},
          {"layers", Tensor::scalar<std::int64_t>(static_cast<std::int64_t>(model.layers.size()))}};
}

}  // namespace

OpSchema model_summary_op() {
  OpSchema op;
  op.name = "model_summary";
  op.light = true;
  op.doc = "A model's architecture as Keras summarises it: layers, output shapes and parameter counts.";
  op.inputs = {{"model", "a train node's model output"}};
  op.outputs = {{"summary", "the summary table, a line per element"},
                {"params", "int64: trainable parameters"},
                {"layers", "int64: layers"}};
  op.run = run;
  return op;
}

}  // namespace untangle
