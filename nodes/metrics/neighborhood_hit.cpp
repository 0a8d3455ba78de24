#include <cmath>
#include <map>
#include <numeric>
#include <stdexcept>

#include "nodes/metrics/knn.h"
#include "nodes/metrics/ops.h"

namespace untangle {

namespace {

Outputs run(OpContext& ctx) {
  const Tensor& pts = ctx.input("points");
  const Tensor& lab = ctx.input("labels");
  if (pts.dtype == DType::str || pts.shape.size() != 2) throw std::runtime_error("points must be numeric [points, dimensions]");
  const std::size_t n = pts.shape[0], d = pts.shape[1];
  if (lab.dtype == DType::str || lab.size() != n)
    throw std::runtime_error("labels must hold one number per point (" + std::to_string(n) + "), got " + std::to_string(lab.size()));
  const auto k = static_cast<std::size_t>(ctx.integer("k"));
  if (k >= n) throw std::runtime_error("k = " + std::to_string(k) + " needs more than " + std::to_string(n) + " points");
  std::vector<double> x(n * d);
  for (std::size_t i = 0; i < n * d; ++i) {
    x[i] = pts.at(i);
    if (!std::isfinite(x[i])) throw std::runtime_error("points hold a NaN or infinite value (point " + std::to_string(i / d) + ")");
  }
  const std::vector<std::size_t> nb = knn::neighbours(x, n, d, k);
  std::vector<double> hit(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t same = 0;
    for (std::size_t m = 0; m < k; ++m) same += lab.at(nb[i * k + m]) == lab.at(i);
    hit[i] = static_cast<double>(same) / k;
  }
  std::map<double, std::pair<double, std::size_t>> by_class;  // label → (sum, count)
  for (std::size_t i = 0; i < n; ++i) {
    auto& c = by_class[lab.at(i)];
    c.first += hit[i];
    c.second++;
  }
  Tensor per_class = Tensor::zeros<double>({by_class.size()});
  std::size_t j = 0;
  for (const auto& [label, c] : by_class) per_class.data<double>()[j++] = c.first / c.second;
  return {{"overall", Tensor::scalar(std::accumulate(hit.begin(), hit.end(), 0.0) / n)}, {"per_class", per_class}};
}

}  // namespace

OpSchema neighborhood_hit_op() {
  OpSchema op;
  op.name = "neighborhood_hit";
  op.light = true;
  op.doc = "Neighbourhood hit: for each point, the share of its k nearest neighbours (itself excluded) that carry its "
           "label, averaged over all points and over each class.\nNeighbours are exact, by Euclidean distance, found "
           "through a k-d tree (fast for the few dimensions of a projection); equal distances go to the neighbour "
           "listed first.";
  op.inputs = {{"points", "[points, dimensions], e.g. a projection"}, {"labels", "one label per point"}};
  op.outputs = {{"overall", "mean hit over all points, in [0, 1]"},
                {"per_class", "float64 [classes]: mean hit of each class's points, classes in increasing label order"}};
  ParamSpec k{"k", ParamType::integer, "neighbours per point", "6"};
  k.min = 1;
  op.params = {k};
  op.run = run;
  return op;
}

}  // namespace untangle
