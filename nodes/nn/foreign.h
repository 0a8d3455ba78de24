// Networks that `train` did not make, such as load_onnx's (nodes/onnx), reach evaluate and
// activations through this one hook, so that nn/ knows nothing of their format: the family
// that reads them sets it when the ops are registered (nodes/register.cpp). Without it (a build
// without ONNX) such a model is the error it always was. What the family's code computes must
// show in the model tensor itself (load_onnx stamps its interpreter's version into it), since the
// keys of evaluate and activations hold their inputs, not that code.
#pragma once
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "pipeline/tensor.h"

namespace untangle::nn {

struct ForeignNetwork {
  std::string kind;     // "ONNX", for messages
  // Whether a node's `model` input is such a network.
  std::function<bool(const Tensor& model)> owns;
  // The network's values named in `wanted` (its outputs when empty) for the samples x, with the
  // weights group (its tensors and member names). `log` says how x was fed where it had to be
  // converted (an image layout); a value's first dimension is the sample.
  std::function<std::map<std::string, Tensor>(const Tensor& model, const std::vector<Tensor>& weights,
                                              const std::vector<std::string>& names, const Tensor& x,
                                              const std::vector<std::string>& wanted,
                                              const std::function<void(const std::string&)>& log)>
      run;
  // Whether the network's output is a Softmax's (probabilities); otherwise it holds logits or
  // log-probabilities, which softmax turns into the same probabilities.
  std::function<bool(const Tensor& model)> outputs_probabilities;
};

void set_foreign_network(ForeignNetwork network);
// The network set, if `model` is one of its kind; null otherwise.
const ForeignNetwork* foreign_network(const Tensor& model);

}  // namespace untangle::nn
