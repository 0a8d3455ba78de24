#include <algorithm>
#include <stdexcept>

#include "nodes/nn/data.h"
#include "nodes/nn/foreign.h"
#include "nodes/nn/model.h"
#include "nodes/nn/ops.h"
#include "nodes/nn/runner.h"
#include "nodes/numeric/elementary.h"

namespace untangle {

namespace {

nn::Model trained(const OpContext& ctx) {
  const Tensor& config = ctx.input("model");
  if (config.dtype != DType::str || config.strings.size() != 1)
    throw std::runtime_error("model must be the model output of a train node");
  nn::Model m = nn::Model::from_config(config.strings[0]);
  m.load(ctx.inputs.at("weights"), ctx.labels.at("weights"));
  return m;
}

// What evaluate reports, from each sample's class probabilities (rows × k), its labels and the
// summed loss.
Outputs evaluation(const std::vector<float>& probs, const std::vector<std::uint8_t>& labels, std::size_t k,
                   double loss_sum, std::size_t correct) {
  const std::size_t rows = labels.size();
  Tensor confusion = Tensor::zeros<std::int64_t>({k, k});  // row: true class, column: predicted
  for (std::size_t i = 0; i < rows; ++i) {
    const float* p = &probs[i * k];
    const auto pred = static_cast<std::size_t>(std::max_element(p, p + k) - p);
    confusion.data<std::int64_t>()[labels[i] * k + pred]++;
  }
  Tensor probabilities = Tensor::zeros<float>({rows, k});
  std::copy(probs.begin(), probs.end(), probabilities.data<float>());
  Tensor per_class = Tensor::zeros<double>({k});
  for (std::size_t c = 0; c < k; ++c) {
    std::int64_t total = 0;
    for (std::size_t j = 0; j < k; ++j) total += confusion.data<std::int64_t>()[c * k + j];
    per_class.data<double>()[c] = total ? static_cast<double>(confusion.data<std::int64_t>()[c * k + c]) / total : 0.0;
  }
  return {{"loss", Tensor::scalar(loss_sum / rows)},
          {"accuracy", Tensor::scalar(static_cast<double>(correct) / rows)},
          {"confusion", confusion},
          {"per_class_accuracy", per_class},
          {"probabilities", probabilities}};
}

// A network from elsewhere (foreign.h): its one output holds a score per class, turned into
// probabilities by the same softmax and cross-entropy as a trained model's, sample by sample.
Outputs evaluate_foreign(OpContext& ctx, const nn::ForeignNetwork& net) {
  const Tensor& model = ctx.input("model");
  const Tensor& x = ctx.input("x");
  if (x.shape.empty()) throw std::runtime_error("x must hold samples, one per row");
  const auto values = net.run(model, ctx.inputs.at("weights"), ctx.labels.at("weights"), x, {}, ctx.log);
  if (values.size() != 1)
    throw std::runtime_error("the " + net.kind + " network has " + std::to_string(values.size()) +
                             " outputs; evaluate takes one, a score per class");
  const auto& [name, scores] = *values.begin();
  const std::size_t rows = x.shape[0];
  if (scores.dtype != DType::f32 || scores.shape.size() != 2 || scores.shape[0] != rows || scores.shape[1] < 2)
    throw std::runtime_error("the " + net.kind + " network's output '" + name + "' is " + dtype_name(scores.dtype) + " " +
                             shape_string(scores.shape) + "; evaluate takes float32 [samples, classes]");
  const std::size_t k = scores.shape[1];
  const auto labels = nn::class_labels(ctx.input("y"), rows, k, "y");
  const bool probabilities = net.outputs_probabilities(model);
  ctx.log("output '" + name + "' taken as " + (probabilities ? "probabilities (a Softmax's)" : "logits"));
  std::vector<float> probs(rows * k), z(k);
  double loss_sum = 0;
  std::size_t correct = 0;
  for (std::size_t i = 0; i < rows; ++i) {
    const float* s = scores.data<float>() + i * k;
    for (std::size_t j = 0; j < k; ++j) z[j] = probabilities ? static_cast<float>(num::log(s[j])) : s[j];
    float* p = &probs[i * k];
    loss_sum += nn::softmax_cross_entropy(z.data(), k, labels[i], p);
    correct += static_cast<std::size_t>(std::max_element(p, p + k) - p) == labels[i];
  }
  return evaluation(probs, labels, k, loss_sum, correct);
}

Outputs evaluate(OpContext& ctx) {
  if (const nn::ForeignNetwork* net = nn::foreign_network(ctx.input("model"))) return evaluate_foreign(ctx, *net);
  nn::Model model = trained(ctx);
  nn::Runner runner(model);
  const Tensor& x = ctx.input("x");
  if (nn::sample_shape(x, "x") != model.input) throw std::runtime_error("x samples do not have the model's input shape");
  const std::size_t rows = x.shape[0], k = runner.classes();
  const auto labels = nn::class_labels(ctx.input("y"), rows, k, "y");
  std::vector<float> probs;
  const nn::BatchStats s = runner.evaluate(x.data<float>(), labels.data(), rows, &probs);
  return evaluation(probs, labels, k, s.loss_sum, s.correct);
}

// The value `layer` names of a network from elsewhere: any value of its graph.
Outputs activations_foreign(OpContext& ctx, const nn::ForeignNetwork& net) {
  const std::string name = ctx.string("layer");
  auto values =
      net.run(ctx.input("model"), ctx.inputs.at("weights"), ctx.labels.at("weights"), ctx.input("x"), {name}, ctx.log);
  return {{"values", std::move(values.at(name))}};
}

Outputs activations(OpContext& ctx) {
  if (const nn::ForeignNetwork* net = nn::foreign_network(ctx.input("model"))) return activations_foreign(ctx, *net);
  nn::Model model = trained(ctx);
  const Tensor& x = ctx.input("x");
  if (nn::sample_shape(x, "x") != model.input) throw std::runtime_error("x samples do not have the model's input shape");
  const std::string name = ctx.string("layer");
  std::size_t upto = 0;
  while (upto < model.layers.size() && model.layers[upto]->name != name) ++upto;
  if (upto == model.layers.size()) model.layer(name);  // throws, listing the layers
  nn::Runner runner(model);  // the final softmax is applied the way training saw it
  std::vector<std::size_t> shape{x.shape[0]};
  for (auto d : model.layers[upto]->out_shape) shape.push_back(d);
  Tensor out = Tensor::zeros<float>(shape);
  runner.forward_to(upto, x.data<float>(), x.shape[0], out.data<float>());
  return {{"values", out}};
}

std::vector<PortSpec> model_inputs() {
  return {{"model", "the model output of a train node (or of load_onnx, in a build with ONNX)"},
          {"weights", "the weights output of the same node"}};
}

}  // namespace

OpSchema evaluate_op() {
  OpSchema op;
  op.name = "evaluate";
  // 2: per-sample probabilities; 3: convolutions as fixed fma chains, own sigmoid (kernels.h);
  // 4: dense layers on numeric/gemm, softmax and loss on numeric/elementary.
  op.version = 4;
  op.light = true;
  op.doc = "A trained model's mean cross-entropy loss and accuracy on (x, y), its confusion matrix, per-class accuracy\n"
           "and each sample's class probabilities.\nA network from load_onnx: its one output, a score per class, is "
           "taken as probabilities where a Softmax makes it, else as logits (so a LogSoftmax's too), and the node's log "
           "says which; x is fed as activations says.";
  op.inputs = model_inputs();
  op.inputs.push_back({"x", "float32 samples"});
  op.inputs.push_back({"y", "integer labels"});
  op.outputs = {{"loss", "mean categorical cross-entropy"},
                {"accuracy", "fraction classified correctly"},
                {"confusion", "int64 [classes, classes]: row = true class, column = predicted"},
                {"per_class_accuracy", "float64 [classes]: recall of each class"},
                {"probabilities", "float32 [samples, classes]: the model's softmax output for each sample"}};
  op.run = evaluate;
  return op;
}

OpSchema activations_op() {
  OpSchema op;
  op.name = "activations";
  op.version = 3;  // 2: convolutions as fixed fma chains, own sigmoid (kernels.h); 3: dense layers on numeric/gemm
  op.doc = "The values of one layer of a trained model (after its activation), one row per input sample.\nOf a "
           "network from load_onnx, any value of its graph by name. x is fed as it is where its samples have the shape "
           "of the network's input; image samples in untangle's layout, NHWC, are transposed to NCHW (PyTorch's) where "
           "that is the input's shape, and the node's log says so; any other shape is an error.";
  op.inputs = model_inputs();
  op.inputs.push_back({"x", "float32 samples"});
  op.outputs = {{"values", "float32 [samples, layer output shape...]"}};
  op.params = {{"layer", ParamType::string, "the layer's name, e.g. fc1 (of an ONNX network: a value's name)", std::nullopt}};
  op.run = activations;
  return op;
}

}  // namespace untangle
