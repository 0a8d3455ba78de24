#include <stdexcept>

#include "nodes/metrics/classes.h"
#include "nodes/metrics/geometry.h"
#include "nodes/metrics/ops.h"

namespace untangle {

namespace {

Outputs run(OpContext& ctx) {
  const auto classes = points_by_class(ctx.input("points"), ctx.input("labels"));
  std::vector<Polygon> hulls;
  Outputs out;
  Tensor labels = Tensor::zeros<double>({classes.size()});
  Tensor areas = Tensor::zeros<double>({classes.size()});
  std::size_t c = 0;
  for (const auto& [label, pts] : classes) {
    if (pts.size() < 3)
      throw std::runtime_error("class " + label_text(label) + " has " + std::to_string(pts.size()) +
                               " point(s); a hull needs at least 3");
    bg::model::multi_point<BPoint> mp;
    for (const auto& p : pts) mp.push_back(BPoint(p.x, p.y));
    Polygon hull;
    bg::convex_hull(mp, hull);
    const auto& ring = hull.outer();
    Tensor vertices = Tensor::zeros<double>({ring.size() - 1, 2});  // the ring repeats its first vertex
    for (std::size_t v = 0; v + 1 < ring.size(); ++v) {
      vertices.data<double>()[2 * v] = ring[v].x();
      vertices.data<double>()[2 * v + 1] = ring[v].y();
    }
    out["hulls/" + label_text(label)] = vertices;
    labels.data<double>()[c] = label;
    areas.data<double>()[c] = bg::area(hull);
    hulls.push_back(hull);
    ++c;
  }
  const std::size_t k = hulls.size();
  Tensor overlap = Tensor::zeros<double>({k, k});
  double sum = 0;
  std::size_t pairs = 0;
  for (std::size_t i = 0; i < k; ++i)
    for (std::size_t j = 0; j < k; ++j) {
      double v = 1.0;
      if (i != j) {
        v = overlap_ratio(hulls[i], hulls[j]);
        if (i < j) sum += v, ++pairs;
      }
      overlap.data<double>()[i * k + j] = v;
    }
  out["classes"] = labels;
  out["areas"] = areas;
  out["overlap"] = overlap;
  out["mean_overlap"] = Tensor::scalar(pairs ? sum / pairs : 0.0);
  return out;
}

}  // namespace

OpSchema convex_hulls_op() {
  OpSchema op;
  op.name = "convex_hulls";
  op.light = true;
  op.doc = "Each class's convex hull in a 2-D projection, its area, and how much the hulls overlap: for each pair, "
           "the area they share divided by the area they cover together (Boost.Geometry).";
  op.inputs = {{"points", "[points, 2]"}, {"labels", "one label per point"}};
  op.outputs = {{"hulls", "one polygon per class, named by its label: float64 [vertices, 2], clockwise, open", false,
                 false, true},
                {"classes", "float64 [classes]: the labels, in increasing order"},
                {"areas", "float64 [classes]: hull areas"},
                {"overlap", "float64 [classes, classes]: intersection ÷ union (1 on the diagonal)"},
                {"mean_overlap", "mean of overlap over the pairs of classes"}};
  op.run = run;
  return op;
}

}  // namespace untangle
