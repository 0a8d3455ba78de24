// A sequential network built from the YAML layer list of a graph, with Keras's defaults:
// layer names, Glorot-uniform kernels, zero biases, and the summary Keras prints.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "nodes/nn/layer.h"
#include "pipeline/schema.h"

namespace untangle::nn {

class Model {
 public:
  // layers: a YAML list such as [{dense: {units: 100, activation: sigmoid, name: fc1}}, flatten],
  // checked against schema(). Throws std::invalid_argument naming the layer for anything it
  // cannot build.
  static Model build(const YAML::Node& layers, const Shape& input);
  // The `model` param: each layer type with its settings, defaults and bounds. Its canonical
  // form names every layer (Keras's dense_1, conv2d_2, ...) and every pool's stride.
  static ParamSpec schema();

  void init(std::uint64_t seed);
  std::size_t param_count() const;
  std::string summary() const;  // the table Keras prints, with totals
  std::string config() const;   // YAML that build() accepts back: {input: [...], layers: [...]}
  static Model from_config(const std::string& yaml);

  // Weights as the members of a group port: "<layer>/<kernel|bias>", Keras layout.
  void save(Outputs& out, const std::string& port) const;
  void load(const std::vector<Tensor>& members, const std::vector<std::string>& names);

  Layer& layer(const std::string& name);  // throws, listing the names, when absent

  Shape input;
  std::vector<std::unique_ptr<Layer>> layers;
  YAML::Node spec;  // the resolved layer list (names filled in)
};

}  // namespace untangle::nn
