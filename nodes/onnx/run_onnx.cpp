#include "nodes/onnx/run_onnx.h"

#include <stdexcept>

#include "nodes/onnx/model.h"
#include "nodes/onnx/run.h"
#include "nodes/onnx/weights.h"

namespace untangle::onnx {

namespace {

std::string typed(const Tensor& t) { return std::string(dtype_name(t.dtype)) + " " + shape_string(t.shape); }

}  // namespace

Model with_weights(const Tensor& model, const std::vector<Tensor>& weights, const std::vector<std::string>& names) {
  if (model.dtype != DType::u8 || model.shape.size() != 1)
    throw std::runtime_error("the model is " + typed(model) + ", not an ONNX file's bytes (uint8 [bytes])");
  if (weights.size() != names.size()) throw std::invalid_argument("run_onnx: a name for every weight");
  Model m = parse_model(std::string(model.bytes.begin(), model.bytes.end()), "the model");
  std::map<std::string, const Tensor*> given;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    const std::string name = initializer_of(names[i]);
    auto it = m.initializers.find(name);
    if (it == m.initializers.end()) throw std::runtime_error("weight '" + name + "' is no initializer of the model");
    if (!given.emplace(name, &weights[i]).second) throw std::runtime_error("weight '" + name + "' is given twice");
    if (weights[i].dtype != it->second.dtype || weights[i].shape != it->second.shape)
      throw std::runtime_error("weight '" + name + "' is " + typed(weights[i]) + "; the model's initializer is " +
                               typed(it->second));
  }
  for (auto& [name, t] : m.initializers) {
    auto it = given.find(name);
    if (it == given.end()) throw std::runtime_error("the weights have no '" + name + "', an initializer of the model");
    t = *it->second;
  }
  return m;
}

std::map<std::string, Tensor> run_onnx(const Tensor& model, const std::vector<Tensor>& weights,
                                       const std::vector<std::string>& names, const std::map<std::string, Tensor>& inputs,
                                       const std::vector<std::string>& wanted) {
  return run(with_weights(model, weights, names), inputs, wanted);
}

}  // namespace untangle::onnx
