// Running a model as it travels between nodes: load_onnx's `model` (the file's bytes) and its
// `weights` group, which an op receives as tensors with their member names. This is what an op
// that reads a layer's activations calls.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "nodes/onnx/model.h"
#include "pipeline/tensor.h"

namespace untangle::onnx {

// The values named in `wanted` (any value of the graph; its outputs when empty), with the
// initializers taken from `weights` (members named as load_onnx names them): each initializer
// once, of the model's element type and shape, and nothing else.
std::map<std::string, Tensor> run_onnx(const Tensor& model, const std::vector<Tensor>& weights,
                                       const std::vector<std::string>& names, const std::map<std::string, Tensor>& inputs,
                                       const std::vector<std::string>& wanted = {});

// The model of load_onnx's `model` bytes with its initializers from `weights`, checked as
// run_onnx checks them: for running it more than once.
Model with_weights(const Tensor& model, const std::vector<Tensor>& weights, const std::vector<std::string>& names);

}  // namespace untangle::onnx
