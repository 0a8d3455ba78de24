// A model-making node's outputs (train's, load_onnx's) as the `model` and `weights` inputs of a
// node that runs the model, the weights group by member name, as the executor gives them.
#pragma once
#include <string>

#include "pipeline/schema.h"

namespace untangle::test {

inline void give_model(OpContext& ctx, const Outputs& node) {
  ctx.inputs["model"] = {node.at("model")};
  for (const auto& [name, t] : node)
    if (name.rfind("weights/", 0) == 0) {
      ctx.inputs["weights"].push_back(t);
      ctx.labels["weights"].push_back(name.substr(8));
    }
}

}  // namespace untangle::test
