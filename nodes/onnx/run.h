// Evaluates an ONNX model's graph, node by node in the file's (topological) order, with the kernels
// of the ops_*.cpp files. Every output is the same bits on every x86-64 CPU and thread count:
// products go through num::gemm, elementary functions through num::, and every sum runs in one
// fixed order.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "nodes/onnx/model.h"

namespace untangle::onnx {

// What the interpreter computes, as a version: load_onnx stamps it into its `model` output, so
// that the keys of every node that runs the model (evaluate, activations) change with it.
// Changed with any change of the values the interpreter gives (this file and the ops_*.cpp).
inline constexpr const char* kInterpreter = "1";

// What keeps the model from running, one line per problem ("node 'p' (Pad): attribute
// mode='wrap' ..."): ops, attributes and element types untangle does not run, and graph inputs
// that are no tensor. Empty when it all runs.
std::vector<std::string> unsupported(const Model& m);
// Throws the lines of `unsupported`, the file's name and the ops untangle runs, if there are any.
void check_supported(const Model& m);
std::vector<std::string> supported_ops();  // sorted

// The values named in `wanted` (the graph's outputs when empty): any input, initializer or
// node output of the graph, computed from `inputs`, which must give each graph input, with its
// element type and the dimensions the model fixes. Only the nodes they depend on run.
std::map<std::string, Tensor> run(const Model& m, const std::map<std::string, Tensor>& inputs,
                                  std::vector<std::string> wanted = {});

}  // namespace untangle::onnx
