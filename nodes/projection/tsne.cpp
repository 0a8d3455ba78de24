#include <oneapi/tbb/parallel_for.h>

#include <chrono>
#include <cmath>
#include <functional>
#include <memory>
#include <stdexcept>

#include "nodes/common/random.h"
#include "nodes/projection/ops.h"
#include "nodes/projection/tsne_bh.h"
#include "nodes/projection/tsne_core.h"
#include "nodes/projection/tsne_fft.h"

namespace untangle {

namespace {

// x projected on its first k principal components, by the pca op.
Tensor principal_points(const Tensor& x, std::size_t k) {
  OpContext sub;
  sub.inputs["x"] = {x};
  sub.params = YAML::Load("{n_components: " + std::to_string(k) + "}");
  return pca_op().run(sub).at("points");
}

// Points as doubles, row-major, reduced to `dims` principal components when they have more.
std::vector<double> input_points(const Tensor& x, std::size_t n, std::size_t& d, std::size_t dims) {
  // Checked before any reduction: PCA would spread one NaN over every point.
  for (std::size_t k = 0; k < n * d; ++k)
    if (!std::isfinite(x.at(k))) throw std::runtime_error("x holds a NaN or infinite value (point " + std::to_string(k / d) + ")");
  if (dims && d > dims) {
    const Tensor reduced = principal_points(x, dims);
    d = dims;
    return std::vector<double>(reduced.data<float>(), reduced.data<float>() + n * d);
  }
  std::vector<double> v(n * d);
  for (std::size_t k = 0; k < n * d; ++k) v[k] = x.at(k);
  return v;
}

// The first two principal components, scaled so the first has standard deviation 1e-4.
std::vector<double> pca_layout(const std::vector<double>& v, std::size_t n, std::size_t d) {
  Tensor t = Tensor::zeros<double>({n, d});
  std::copy(v.begin(), v.end(), t.data<double>());
  const Tensor pts = principal_points(t, 2);
  double mean = 0, var = 0;
  for (std::size_t i = 0; i < n; ++i) mean += pts.at(2 * i) / n;
  for (std::size_t i = 0; i < n; ++i) var += (pts.at(2 * i) - mean) * (pts.at(2 * i) - mean) / n;
  const double scale = var > 0 ? 1e-4 / std::sqrt(var) : 1.0;
  std::vector<double> y(2 * n);
  for (std::size_t i = 0; i < 2 * n; ++i) y[i] = pts.at(i) * scale;
  return y;
}

// What `auto` picks. The exact method's cost grows as n²; past 2000 points Barnes-Hut is the
// sensible default. The FFT method's cost per iteration is mostly its grid's, which grows with
// the embedding's extent rather than with n, so it wins on large n. Measured on MNIST (PCA-50,
// perplexity 30, 1000 iterations, 2 busy cores), the op took with Barnes-Hut / FFT: 5,000 points
// 21 s / 69 s, 10,000 54 s / 126 s (before the grid went to single precision, which halved its
// FFTs), 20,000 213 s / 179 s; the switch is put between.
constexpr std::size_t kExactUpTo = 2000;
constexpr std::size_t kBarnesHutUpTo = 15000;

// scikit-learn (≥ 1.2) defaults: momentum 0.5 while exaggerating, then 0.8; per-coordinate
// gains; learning rate "auto" = max(n / exaggeration / 4, 50). As in scikit-learn, the two
// phases are separate descents: the second starts with no velocity and unit gains.
Outputs run(OpContext& ctx) {
  const Tensor& x = ctx.input("x");
  if (x.dtype == DType::str || x.shape.empty()) throw std::runtime_error("x must be numeric with a point axis first");
  const std::size_t n = x.shape[0];
  std::size_t d = n ? x.size() / n : 0;
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
  std::string method = ctx.string("method");
  if (method == "auto") method = n <= kExactUpTo ? "exact" : n <= kBarnesHutUpTo ? "barnes_hut" : "fft";
  const double theta = ctx.number("theta");
  const double late = ctx.number("late_exaggeration");
  const auto late_start = static_cast<std::size_t>(ctx.integer("late_exaggeration_start"));
  if (late != 1 && late_start >= iterations)
    throw std::runtime_error("late_exaggeration_start (" + std::to_string(late_start) + ") must be below iterations (" +
                             std::to_string(iterations) + ") for late_exaggeration to act");

  // Where the time goes, for `untangle show`: the reduction, the affinities, the descent.
  using Clock = std::chrono::steady_clock;
  auto lap = [&ctx, t = Clock::now()](const char* what) mutable {
    const auto now = Clock::now();
    ctx.timings[what] = {std::chrono::duration<double>(now - t).count()};
    t = now;
  };
  const std::vector<double> v = input_points(x, n, d, static_cast<std::size_t>(ctx.integer("pca_dims")));
  lap("input_seconds");
  // Each method supplies the gradient and the KL divergence of the embedding it was last given.
  std::function<std::vector<double>(const std::vector<double>&, double)> gradient;
  std::function<double(const std::vector<double>&)> kl_of;
  std::vector<double> dense;
  tsne::SparseP sparse;
  std::unique_ptr<tsne::BarnesHut> bh;
  std::unique_ptr<tsne::FftGradient> fft;
  double z = 0;
  if (method == "exact") {
    std::vector<double> sq(n * n);
    tbb::parallel_for(std::size_t(0), n, [&](std::size_t i) {
      for (std::size_t j = 0; j < n; ++j) {
        double s = 0;
        for (std::size_t c = 0; c < d; ++c) s += (v[i * d + c] - v[j * d + c]) * (v[i * d + c] - v[j * d + c]);
        sq[i * n + j] = s;
      }
    });
    dense = tsne::joint_probabilities(sq, n, perplexity);
    gradient = [&](const std::vector<double>& y, double ex) { return tsne::gradient(dense, y, n, ex); };
    kl_of = [&](const std::vector<double>& y) { return tsne::kl_divergence(dense, y, n); };
  } else {
    sparse = tsne::sparse_joint_probabilities(v, n, d, perplexity);
    if (method == "fft")
      fft = std::make_unique<tsne::FftGradient>(sparse);
    else
      bh = std::make_unique<tsne::BarnesHut>(sparse, theta);
    gradient = [&](const std::vector<double>& y, double ex) {
      const auto& g = fft ? fft->gradient(y, ex) : bh->gradient(y, ex);
      z = g.z;
      return g.grad;
    };
    // Measured with the normalisation of the step just taken, as scikit-learn does: exact Z
    // would cost O(n²). The FFT method's Z is as close to exact as its forces.
    kl_of = [&](const std::vector<double>& y) { return tsne::sparse_kl_divergence(sparse, y, z); };
  }

  lap("affinities_seconds");
  std::vector<double> y(2 * n);
  if (ctx.string("init") == "pca") {
    y = pca_layout(v, n, d);
  } else {
    Rng rng(static_cast<std::uint64_t>(ctx.integer("seed")));
    for (auto& c : y) c = 1e-4 * rng.normal();
  }

  constexpr std::size_t kExploration = 250;
  std::vector<double> update(2 * n, 0.0), gains(2 * n, 1.0), kl;
  for (std::size_t it = 0; it < iterations; ++it) {
    const bool exploring = it < kExploration;
    const double momentum = exploring ? 0.5 : 0.8;
    if (it == kExploration) {
      std::fill(update.begin(), update.end(), 0.0);
      std::fill(gains.begin(), gains.end(), 1.0);
    }
    const std::vector<double> g = gradient(y, exploring ? exaggeration : it >= late_start ? late : 1.0);
    const bool report = (it + 1) % 50 == 0;
    if (report) kl.push_back(kl_of(y));
    for (std::size_t k = 0; k < 2 * n; ++k) {
      gains[k] = update[k] * g[k] < 0 ? gains[k] + 0.2 : std::max(gains[k] * 0.8, 0.01);
      update[k] = momentum * update[k] - lr * gains[k] * g[k];
      y[k] += update[k];
    }
    if (report)
      ctx.progress(static_cast<double>(it + 1) / iterations, "iteration " + std::to_string(it + 1) + " KL " + std::to_string(kl.back()));
  }
  lap("descent_seconds");
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
  op.resources = {2, "2G", "1h", "", 0};
  // 2: k = 3·perplexity + 1 neighbours, the grouped Barnes-Hut walk, and velocity and gains
  // reset when early exaggeration ends. 3: method fft, which auto picks for large n. 4: fft's
  // force interpolates q² times each pair's exact separation. 5: neighbour distances, PCA, exp and
  // log and the fft method's transforms on numeric/, the same bits on every CPU.
  op.version = 5;
  op.doc = "t-SNE to 2-D, exact (O(n²) per iteration), Barnes-Hut (O(n log n)) or FFT-interpolated (FIt-SNE, "
           "O(n) plus the grid's FFTs).\nAffinities calibrated to the "
           "perplexity by bisection per point; early exaggeration for the first 250 iterations, optionally late "
           "exaggeration after; scikit-learn's "
           "momentum, gains and automatic learning rate. The KL divergence is recorded before the step of every 50th "
           "iteration; Barnes-Hut's is over the neighbour affinities with the approximated normalisation, as in "
           "scikit-learn.";
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
  ParamSpec method{"method", ParamType::choice,
                   "exact, barnes_hut (affinities to the 3·perplexity nearest neighbours, far repulsion through a "
                   "quadtree), fft (the same affinities, repulsion interpolated on a grid and convolved by FFT), or "
                   "auto: exact up to 2000 points, barnes_hut up to 15000, fft beyond",
                   "auto"};
  method.choices = {"auto", "exact", "barnes_hut", "fft"};
  ParamSpec theta{"theta", ParamType::number, "Barnes-Hut's accuracy/speed trade-off: 0 is exact repulsion", "0.5"};
  theta.min = 0;
  theta.max = 1;
  ParamSpec pca_dims{"pca_dims", ParamType::integer, "first reduce x to this many principal components; 0: off", "0"};
  pca_dims.min = 0;
  ParamSpec late{"late_exaggeration", ParamType::number, "P is multiplied by this from late_exaggeration_start on; 1: off",
                 "1"};
  late.min = 1;
  ParamSpec late_start{"late_exaggeration_start", ParamType::integer,
                       "the iteration late exaggeration starts at (early exaggeration ends at 250)", "250"};
  late_start.min = 250;
  op.params = {perplexity, iterations, ee, lr, init, seed, method, theta, pca_dims, late, late_start};
  op.run = run;
  return op;
}

}  // namespace untangle
