// Keras's SGD (with momentum and Nesterov) and Adam update rules.
#pragma once
#include <memory>
#include <string>

#include <yaml-cpp/yaml.h>

#include "nodes/nn/runner.h"
#include "pipeline/schema.h"

namespace untangle::nn {

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual void step(Model& model, const Grads& grads) = 0;
  virtual std::string describe() const = 0;
  // {sgd: {lr: 0.5}}, {adam: {lr: 0.001}}, or just sgd / adam with Keras's defaults; checked
  // against schema() (throws std::invalid_argument).
  static std::unique_ptr<Optimizer> parse(const YAML::Node& spec);
  // The `optimizer` param: every setting with its default and bounds.
  static ParamSpec schema();
};

}  // namespace untangle::nn
