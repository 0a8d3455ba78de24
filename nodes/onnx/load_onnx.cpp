#include <map>
#include <string>
#include <vector>

#include "nodes/onnx/model.h"
#include "nodes/onnx/ops.h"
#include "nodes/onnx/run.h"
#include "nodes/onnx/weights.h"

namespace untangle {

namespace {

std::vector<std::string> onnx_files(const YAML::Node& params) { return {params["file"].as<std::string>()}; }

// Runs the model once on zeros, every symbolic dimension 1, so that a weight whose shape does not
// fit its node fails here, naming the node, rather than wherever the model is first used. False,
// and nothing run, when an input's rank is unknown or it is no float: zeros stand for data, not
// for integers, which may be a shape or indices that zeros would make wrong.
bool dry_run(const onnx::Model& m) {
  std::map<std::string, Tensor> zeros;
  for (const onnx::ValueInfo& v : m.inputs) {
    DType dtype;
    if (!v.has_shape || !onnx::dtype_of(v.elem, dtype) || (dtype != DType::f32 && dtype != DType::f64)) return false;
    std::vector<std::size_t> shape;
    for (const onnx::Dim& d : v.shape) shape.push_back(d.value >= 0 ? static_cast<std::size_t>(d.value) : 1);
    zeros[v.name] = Tensor::allocate(dtype, shape, m.file + ": graph input '" + v.name + "'");
  }
  onnx::run(m, zeros);
  return true;
}

Outputs run(OpContext& ctx) {
  const std::string path = onnx_files(ctx.params)[0], bytes = onnx::read_file(path);
  const onnx::Model m = onnx::parse_model(bytes, path);
  // Refused here rather than where it would run, so that a graph fails at its first node.
  onnx::check_supported(m);
  // ONNX's shape inference only on a model that ran on untangle's own kernels, which check every
  // attribute that inference trusts (model.h); else the model goes on as the file has it.
  const bool ran = dry_run(m);
  Outputs out;
  out["model"] = Tensor::file(onnx::stamped(ran ? onnx::infer_shapes(bytes, path) : bytes, path, onnx::kInterpreter));
  for (const auto& [name, t] : m.initializers) out["weights/" + onnx::member_of(name)] = t;
  ctx.log(std::to_string(m.nodes.size()) + " nodes, " + std::to_string(m.initializers.size()) +
          " initializers, opset " + std::to_string(m.opset) + (m.producer.empty() ? "" : ", from " + m.producer));
  return out;
}

}  // namespace

OpSchema load_onnx_op() {
  OpSchema op;
  op.name = "load_onnx";
  op.version = 2;  // 2: the interpreter's version in the model (run.h)
  op.doc =
      "A network trained elsewhere (PyTorch, Keras, …), from an ONNX file: parsed and checked by ONNX's checker, every "
      "op, attribute and element type checked to be one untangle runs, run once on zeros (a sample of one where the "
      "batch is symbolic) so that a weight that does not fit fails here, then typed by ONNX's shape inference.\nThe "
      "file enters the cache key by content, not by path, and so do the versions of ONNX and protobuf, whose shape "
      "inference and serialisation make `model`; `model` holds the version of untangle's ONNX interpreter (metadata "
      "untangle.interpreter), so that what runs it reruns when the interpreter changes. Weights kept in other files (external data) are refused.";
  PortSpec model{"model", "u8 [bytes]: the model with every value typed by shape inference, an ONNX file"};
  model.file = "onnx";
  PortSpec weights{"weights", "the initializers, one tensor each, named as in the model ('/' and '%' percent-encoded)"};
  weights.group = true;
  op.outputs = {model, weights};
  ParamSpec file{"file", ParamType::path, "the .onnx file (relative to the working directory)", std::nullopt};
  file.hashed = false;  // the file's content enters the key (files), not where it lies
  op.params = {file};
  op.files = onnx_files;
  op.key_extra = [](const YAML::Node&) { return onnx::library_versions(); };
  op.run = run;
  return op;
}

}  // namespace untangle
