// The silhouette coefficient, an op untangle does not ship, as a plugin. For a point of class
// c, a is its mean distance to the other points of c and b its smallest mean distance to the
// points of another class; its silhouette is (b - a) / max(a, b), in [-1, 1]: near 1 when the
// classes are compact and apart, near 0 when they touch, negative when they interleave.
#include <untangle/plugin.h>

#include <cmath>
#include <map>
#include <stdexcept>
#include <vector>

using namespace untangle;

namespace {

Outputs silhouette(OpContext& ctx) {
  const Tensor& points = ctx.input("points");
  const Tensor& labels = ctx.input("labels");
  if (points.shape.size() != 2) throw std::invalid_argument("points must be [points, dimensions], got " + shape_string(points.shape));
  const std::size_t n = points.shape[0], d = points.shape[1];
  if (labels.shape != std::vector<std::size_t>{n})
    throw std::invalid_argument("labels must be [" + std::to_string(n) + "], one per point, got " + shape_string(labels.shape));

  // Classes in increasing label order, as untangle's metrics report them.
  std::map<long long, std::size_t> index;
  for (std::size_t i = 0; i < n; ++i) index.emplace(static_cast<long long>(labels.at(i)), 0);
  if (index.size() < 2) throw std::invalid_argument("the silhouette needs two classes or more, got " + std::to_string(index.size()));
  std::size_t c = 0;
  for (auto& [label, k] : index) k = c++;
  std::vector<std::size_t> cls(n), count(c, 0);
  for (std::size_t i = 0; i < n; ++i) ++count[cls[i] = index[static_cast<long long>(labels.at(i))]];

  std::vector<double> x(n * d);
  for (std::size_t i = 0; i < n * d; ++i) x[i] = points.at(i);
  ctx.log("silhouette of " + std::to_string(n) + " points in " + std::to_string(c) + " classes");

  // One pass per point over all others, summed in index order: the same bits on every run.
  std::vector<double> s(n), sum(c);
  for (std::size_t i = 0; i < n; ++i) {
    std::fill(sum.begin(), sum.end(), 0.0);
    for (std::size_t j = 0; j < n; ++j) {
      double dd = 0;
      for (std::size_t k = 0; k < d; ++k) dd += (x[i * d + k] - x[j * d + k]) * (x[i * d + k] - x[j * d + k]);
      sum[cls[j]] += std::sqrt(dd);
    }
    const std::size_t own = cls[i];
    if (count[own] == 1) continue;  // a class of one point has silhouette 0 by convention
    const double a = sum[own] / double(count[own] - 1);
    double b = INFINITY;
    for (std::size_t k = 0; k < c; ++k)
      if (k != own) b = std::min(b, sum[k] / double(count[k]));
    s[i] = std::max(a, b) > 0 ? (b - a) / std::max(a, b) : 0.0;
    if (i % 256 == 0) ctx.progress(double(i) / double(n), "point " + std::to_string(i));
  }

  Tensor per_class = Tensor::zeros<double>({c});
  double total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    per_class.data<double>()[cls[i]] += s[i];
    total += s[i];
  }
  for (std::size_t k = 0; k < c; ++k) per_class.data<double>()[k] /= double(count[k]);
  return {{"score", Tensor::scalar(total / double(n))}, {"per_class", per_class}};
}

void add_ops(Registry& ops) {
  OpSchema op;
  op.name = "silhouette";
  op.doc = "Silhouette coefficient of labelled points: (b - a) / max(a, b) per point, averaged.\n"
           "a: mean distance to its own class, b: smallest mean distance to another class; Euclidean, exact.";
  op.inputs = {{"points", "[points, dimensions], e.g. a projection"}, {"labels", "one integer label per point"}};
  op.outputs = {{"score", "float64: the mean silhouette over all points, in [-1, 1]"},
                {"per_class", "float64 [classes]: the mean silhouette of each class, in increasing label order"}};
  op.run = silhouette;
  ops.add(op);
}

}  // namespace

UNTANGLE_PLUGIN(add_ops)
