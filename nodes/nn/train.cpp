#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <stdexcept>

#include "nodes/nn/data.h"
#include "nodes/nn/model.h"
#include "nodes/nn/ops.h"
#include "nodes/nn/optimizer.h"
#include "nodes/nn/runner.h"

namespace untangle {

namespace {

using nn::Model;
using nn::Runner;

std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
  Rng r(a * 0x9e3779b97f4a7c15ull + b);
  return r.next();
}

std::string fmt(const char* f, double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

Tensor series(const std::vector<double>& v) {
  Tensor t = Tensor::zeros<double>({v.size()});
  std::copy(v.begin(), v.end(), t.data<double>());
  return t;
}

Outputs run(OpContext& ctx) {
  const Tensor& x = ctx.input("x");
  const nn::Shape sample = nn::sample_shape(x, "x");
  Model model;
  std::unique_ptr<nn::Optimizer> opt;
  try {
    model = Model::build(ctx.params["model"], sample);
    opt = nn::Optimizer::parse(ctx.params["optimizer"]);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string("model: ") + e.what());
  }
  const auto seed = static_cast<std::uint64_t>(ctx.integer("seed"));
  model.init(seed);
  Runner runner(model);
  ctx.log(model.summary());

  // Keras's validation_split holds out the last part of the data, before any shuffling.
  const std::size_t rows = x.shape[0];
  const auto labels = nn::class_labels(ctx.input("y"), rows, runner.classes(), "y");
  const double split = ctx.number("validation_split");
  std::size_t n_train = rows;
  const float* val_x = nullptr;
  std::vector<std::uint8_t> val_y;
  if (ctx.has("val_x") != ctx.has("val_y")) throw std::runtime_error("give both val_x and val_y, or neither");
  if (ctx.has("val_x")) {
    const Tensor& vx = ctx.input("val_x");
    if (nn::sample_shape(vx, "val_x") != sample) throw std::runtime_error("val_x samples differ in shape from x");
    val_x = vx.data<float>();
    val_y = nn::class_labels(ctx.input("val_y"), vx.shape[0], runner.classes(), "val_y");
  } else if (split > 0) {
    n_train = static_cast<std::size_t>(rows * (1.0 - split));
    if (n_train == 0 || n_train == rows) throw std::runtime_error("validation_split leaves no training or no validation data");
    val_x = x.data<float>() + n_train * nn::volume(sample);
    val_y.assign(labels.begin() + static_cast<long>(n_train), labels.end());
  }

  const std::size_t bs = static_cast<std::size_t>(ctx.integer("batch_size"));
  const std::size_t epochs = static_cast<std::size_t>(ctx.integer("epochs"));
  const std::size_t width = nn::volume(sample);
  const std::size_t batches = (n_train + bs - 1) / bs;
  std::vector<double> h_loss, h_acc, h_val_loss, h_val_acc;
  std::vector<double>& h_secs = ctx.timings["epoch_seconds"];
  std::vector<float> xb(std::min(bs, n_train) * width);
  std::vector<std::uint8_t> yb(std::min(bs, n_train));
  std::vector<std::size_t> order(n_train);
  for (std::size_t e = 0; e < epochs; ++e) {
    const auto t0 = std::chrono::steady_clock::now();
    std::iota(order.begin(), order.end(), 0);
    if (ctx.boolean("shuffle")) {
      Rng rng(mix(seed, e + 1));
      for (std::size_t i = n_train; i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
    }
    double loss_sum = 0;
    std::size_t correct = 0;
    for (std::size_t b = 0; b < batches; ++b) {
      const std::size_t lo = b * bs, n = std::min(bs, n_train - lo);
      for (std::size_t r = 0; r < n; ++r) {
        std::memcpy(&xb[r * width], x.data<float>() + order[lo + r] * width, width * sizeof(float));
        yb[r] = labels[order[lo + r]];
      }
      const nn::BatchStats s = runner.train_batch(xb.data(), yb.data(), n, mix(mix(seed, e + 1), b));
      if (!std::isfinite(s.loss_sum))
        throw std::runtime_error("the loss became " + std::string(std::isnan(s.loss_sum) ? "NaN" : "infinite") +
                                 " in epoch " + std::to_string(e + 1) + ", batch " + std::to_string(b + 1) +
                                 "; try a lower learning rate (" + opt->describe() + ")");
      opt->step(model, runner.gradients());
      loss_sum += s.loss_sum;
      correct += s.correct;
      ctx.progress((e + (b + 1.0) / batches) / epochs,
                   "epoch " + std::to_string(e + 1) + "/" + std::to_string(epochs) + " loss " + fmt("%.4f", loss_sum / (lo + n)));
    }
    h_loss.push_back(loss_sum / n_train);
    h_acc.push_back(static_cast<double>(correct) / n_train);
    std::string line = "epoch " + std::to_string(e + 1) + "/" + std::to_string(epochs) + "  loss " + fmt("%.4f", h_loss.back()) +
                       "  accuracy " + fmt("%.4f", h_acc.back());
    if (val_x) {
      const nn::BatchStats v = runner.evaluate(val_x, val_y.data(), val_y.size());
      h_val_loss.push_back(v.loss_sum / val_y.size());
      h_val_acc.push_back(static_cast<double>(v.correct) / val_y.size());
      line += "  val_loss " + fmt("%.4f", h_val_loss.back()) + "  val_accuracy " + fmt("%.4f", h_val_acc.back());
    }
    h_secs.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    ctx.log(line + "  " + fmt("%.2f s", h_secs.back()));
  }

  Outputs out;
  model.save(out, "weights");
  Tensor config;
  config.dtype = DType::str;
  config.strings = {model.config()};
  out["model"] = config;
  out["history/loss"] = series(h_loss);
  out["history/accuracy"] = series(h_acc);
  if (val_x) {
    out["history/val_loss"] = series(h_val_loss);
    out["history/val_accuracy"] = series(h_val_acc);
  }
  return out;
}

}  // namespace

OpSchema train_op() {
  OpSchema op;
  op.name = "train";
  // One core: a sweep of trainings fills a cluster best one per core; a big one asks for more.
  op.resources = {1, "2G", "2h", "", 0};
  op.version = 5;  // 2: vectorised sigmoid; 3: canonical layers in `model`, no history/seconds;
                   // 4: convolutions as fixed fma chains, own sigmoid (kernels.h); 5: dense layers on
                   // numeric/gemm, softmax, loss, Adam and initialisers on numeric/elementary
  op.doc =
      "Trains a sequential network with categorical cross-entropy, as Keras's fit() does.\nmodel is a list of layers "
      "(dense, conv2d, maxpool2d, flatten, activation, dropout; settings below). The last layer must end in softmax.";
  op.inputs = {{"x", "float32 samples, first axis = sample"},
               {"y", "integer class labels, one per sample"},
               {"val_x", "validation samples (instead of validation_split)", true},
               {"val_y", "validation labels", true}};
  op.outputs = {{"weights", "one dataset per layer variable, Keras layout: <layer>/kernel, <layer>/bias", false, false, true},
                {"model", "the architecture as YAML (input shape and layers), for evaluate and activations"},
                {"history", "per epoch: loss, accuracy, val_loss, val_accuracy (when validating); seconds per epoch are in the entry's timings", false, false, true}};
  ParamSpec model = Model::schema();
  ParamSpec loss{"loss", ParamType::choice, "the loss (over a softmax output)", "categorical_crossentropy"};
  loss.choices = {"categorical_crossentropy"};
  ParamSpec optimizer = nn::Optimizer::schema();
  ParamSpec batch{"batch_size", ParamType::integer, "samples per gradient step", "32"};
  batch.min = 1;
  ParamSpec epochs{"epochs", ParamType::integer, "passes over the training data", "1"};
  epochs.min = 1;
  ParamSpec seed{"seed", ParamType::integer, "initial weights, shuffling and dropout all follow from it", "0"};
  seed.min = 0;
  ParamSpec shuffle{"shuffle", ParamType::boolean, "a new order of the training data every epoch", "true"};
  ParamSpec split{"validation_split", ParamType::number, "fraction held out from the end of x, y for validation", "0"};
  split.min = 0;
  split.max = 0.99;
  op.params = {model, loss, optimizer, batch, epochs, seed, shuffle, split};
  op.run = run;
  return op;
}

}  // namespace untangle
