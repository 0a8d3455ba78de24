#include <string>
#include <vector>

#include "nodes/onnx/model.h"
#include "nodes/onnx/ops.h"
#include "nodes/onnx/run.h"
#include "nodes/onnx/weights.h"

namespace untangle {

namespace {

std::vector<std::string> onnx_files(const YAML::Node& params) { return {params["file"].as<std::string>()}; }

Outputs run(OpContext& ctx) {
  const onnx::Model m = onnx::read_model(onnx_files(ctx.params)[0]);
  // Refused here rather than where it would run, so that a graph fails at its first node.
  onnx::check_supported(m);
  Outputs out;
  out["model"] = Tensor::file(m.inferred);
  for (const auto& [name, t] : m.initializers) out["weights/" + onnx::member_of(name)] = t;
  ctx.log(std::to_string(m.nodes.size()) + " nodes, " + std::to_string(m.initializers.size()) +
          " initializers, opset " + std::to_string(m.opset) + (m.producer.empty() ? "" : ", from " + m.producer));
  return out;
}

}  // namespace

OpSchema load_onnx_op() {
  OpSchema op;
  op.name = "load_onnx";
  op.doc =
      "A network trained elsewhere (PyTorch, Keras, …), from an ONNX file: parsed, checked by ONNX's checker and "
      "typed by its shape inference, and every op, attribute and element type checked to be one untangle runs.\nThe "
      "file enters the cache key by content, not by path. Weights kept in other files (external data) are refused.";
  PortSpec model{"model", "u8 [bytes]: the model after shape inference, an ONNX file"};
  model.file = "onnx";
  PortSpec weights{"weights", "the initializers, one tensor each, named as in the model ('/' and '%' percent-encoded)"};
  weights.group = true;
  op.outputs = {model, weights};
  ParamSpec file{"file", ParamType::path, "the .onnx file (relative to the working directory)", std::nullopt};
  file.hashed = false;  // the file's content enters the key (files), not where it lies
  op.params = {file};
  op.files = onnx_files;
  op.run = run;
  return op;
}

}  // namespace untangle
