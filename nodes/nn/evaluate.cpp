#include <stdexcept>

#include "nodes/nn/data.h"
#include "nodes/nn/model.h"
#include "nodes/nn/ops.h"
#include "nodes/nn/runner.h"

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

Outputs evaluate(OpContext& ctx) {
  nn::Model model = trained(ctx);
  nn::Runner runner(model);
  const Tensor& x = ctx.input("x");
  if (nn::sample_shape(x, "x") != model.input) throw std::runtime_error("x samples do not have the model's input shape");
  const std::size_t rows = x.shape[0], k = runner.classes();
  const auto labels = nn::class_labels(ctx.input("y"), rows, k, "y");
  std::vector<float> probs;
  const nn::BatchStats s = runner.evaluate(x.data<float>(), labels.data(), rows, &probs);
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
  return {{"loss", Tensor::scalar(s.loss_sum / rows)},
          {"accuracy", Tensor::scalar(static_cast<double>(s.correct) / rows)},
          {"confusion", confusion},
          {"per_class_accuracy", per_class},
          {"probabilities", probabilities}};
}

Outputs activations(OpContext& ctx) {
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
  return {{"model", "the model output of a train node"}, {"weights", "the weights output of the same train node"}};
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
           "and each sample's class probabilities.";
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
  op.doc = "The values of one layer of a trained model (after its activation), one row per input sample.";
  op.inputs = model_inputs();
  op.inputs.push_back({"x", "float32 samples"});
  op.outputs = {{"values", "float32 [samples, layer output shape...]"}};
  op.params = {{"layer", ParamType::string, "the layer's name, e.g. fc1", std::nullopt}};
  op.run = activations;
  return op;
}

}  // namespace untangle
