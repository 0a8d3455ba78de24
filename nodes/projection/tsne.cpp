#include <cmath>
#include <stdexcept>

#include "nodes/common/random.h"
#include "nodes/projection/ops.h"
#include "nodes/projection/tsne_core.h"

namespace untangle {

namespace {

// scikit-learn (≥ 1.2) defaults: momentum 0.5 while exaggerating, then 0.8; per-coordinate
// gains; learning rate "auto" = max(n / exaggeration / 4, 50).
Outputs run(OpContext& ctx) {
  const Tensor& x = ctx.input("x");
  if (x.dtype == DType::str || x.shape.empty()) throw std::runtime_error("x must be numeric with a point axis first");
  const std::size_t n = x.shape[0], d = n ? x.size() / n : 0;
  const double perplexity = ctx.number("perplexity");
  if (n < 3) throw std::runtime_error("t-SNE needs at least 3 points");
  if (perplexity >= n - 1)
    throw std::runtime_error("perplexity " + std::to_string(perplexity) + " must be below the number of points - 1 (" +
                             std::to_string(n - 1) + ")");
  const auto iterations = static_cast<std::size_t>(ctx.integer("iterations"));
  const double exaggeration = ctx.number("early_exaggeration");
  const std::string lr_text = ctx.string("learning_rate");
  double lr = std::max(n / exaggeration / 4.0, 50.0);
  if (lr_text != "auto") {
    char* end = nullptr;
    lr = std::strtod(lr_text.c_str(), &end);
    if (end == lr_text.c_str() || *end || !(lr > 0)) throw std::runtime_error("learning_rate must be auto or a positive number");
  }

  std::vector<double> sq(n * n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      double s = 0;
      for (std::size_t c = 0; c < d; ++c) {
        const double diff = x.at(i * d + c) - x.at(j * d + c);
        s += diff * diff;
      }
      if (!std::isfinite(s)) throw std::runtime_error("x holds a NaN or infinite value (point " + std::to_string(i) + ")");
      sq[i * n + j] = s;
    }
  const std::vector<double> p = tsne::joint_probabilities(sq, n, perplexity);

  std::vector<double> y(2 * n);
  if (ctx.string("init") == "pca") {
    OpContext sub;
    sub.inputs["x"] = {x};
    sub.params = YAML::Load("{n_components: 2}");
    const Tensor pts = pca_op().run(sub).at("points");
    double mean = 0, var = 0;
    for (std::size_t i = 0; i < n; ++i) mean += pts.at(2 * i) / n;
    for (std::size_t i = 0; i < n; ++i) var += (pts.at(2 * i) - mean) * (pts.at(2 * i) - mean) / n;
    const double scale = var > 0 ? 1e-4 / std::sqrt(var) : 1.0;
    for (std::size_t i = 0; i < 2 * n; ++i) y[i] = pts.at(i) * scale;
  } else {
    Rng rng(static_cast<std::uint64_t>(ctx.integer("seed")));
    for (auto& v : y) v = 1e-4 * rng.normal();
  }

  constexpr std::size_t kExploration = 250;
  std::vector<double> update(2 * n, 0.0), gains(2 * n, 1.0), kl;
  for (std::size_t it = 0; it < iterations; ++it) {
    const bool exploring = it < kExploration;
    const double momentum = exploring ? 0.5 : 0.8;
    std::vector<double> g = tsne::gradient(p, y, n, exploring ? exaggeration : 1.0);
    for (std::size_t k = 0; k < 2 * n; ++k) {
      gains[k] = update[k] * g[k] < 0 ? gains[k] + 0.2 : std::max(gains[k] * 0.8, 0.01);
      update[k] = momentum * update[k] - lr * gains[k] * g[k];
      y[k] += update[k];
    }
    if ((it + 1) % 50 == 0) {
      kl.push_back(tsne::kl_divergence(p, y, n));
      ctx.progress(static_cast<double>(it + 1) / iterations, "iteration " + std::to_string(it + 1) + " KL " + std::to_string(kl.back()));
    }
  }
  Tensor points = Tensor::zeros<float>({n, 2});
  for (std::size_t i = 0; i < 2 * n; ++i) points.data<float>()[i] = static_cast<float>(y[i]);
  Tensor kls = Tensor::zeros<double>({kl.size()});
  std::copy(kl.begin(), kl.end(), kls.data<double>());
  return {{"points", points}, {"kl", kls}};
}

}  // namespace

OpSchema tsne_op() {
  OpSchema op;
  op.name = "tsne";
  op.doc = "t-SNE to 2-D with the exact gradient (O(n²) per iteration; for up to a few thousand points).\nAffinities "
           "calibrated to the perplexity by bisection per point; early exaggeration for the first 250 iterations; "
           "scikit-learn's momentum, gains and automatic learning rate.";
  op.inputs = {{"x", "points, first axis = point (trailing axes flattened)"}};
  op.outputs = {{"points", "float32 [points, 2]"}, {"kl", "float64: KL divergence after every 50 iterations"}};
  ParamSpec perplexity{"perplexity", ParamType::number, "effective number of neighbours", "30"};
  perplexity.min = 1;
  ParamSpec iterations{"iterations", ParamType::integer, "gradient steps", "1000"};
  iterations.min = 50;
  ParamSpec ee{"early_exaggeration", ParamType::number, "P is multiplied by this for the first 250 iterations", "12"};
  ee.min = 1;
  ParamSpec lr{"learning_rate", ParamType::string, "auto (max(n / early_exaggeration / 4, 50)) or a number", "auto"};
  ParamSpec init{"init", ParamType::choice, "starting layout: the first two principal components, or random", "pca"};
  init.choices = {"pca", "random"};
  ParamSpec seed{"seed", ParamType::integer, "for random init", "0"};
  seed.min = 0;
  op.params = {perplexity, iterations, ee, lr, init, seed};
  op.run = run;
  return op;
}

}  // namespace untangle
