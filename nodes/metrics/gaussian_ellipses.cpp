#include <cmath>
#include <stdexcept>

#include "nodes/metrics/classes.h"
#include "nodes/metrics/geometry.h"
#include "nodes/metrics/ops.h"
#include "nodes/numeric/elementary.h"

namespace untangle {

namespace {

struct Gaussian {
  double mx, my, sxx, sxy, syy;  // mean and sample covariance
  double det() const { return sxx * syy - sxy * sxy; }
};

Gaussian fit(const std::vector<Point2>& pts) {
  Gaussian g{0, 0, 0, 0, 0};
  for (const auto& p : pts) g.mx += p.x, g.my += p.y;
  g.mx /= pts.size();
  g.my /= pts.size();
  for (const auto& p : pts) {
    g.sxx += (p.x - g.mx) * (p.x - g.mx);
    g.sxy += (p.x - g.mx) * (p.y - g.my);
    g.syy += (p.y - g.my) * (p.y - g.my);
  }
  const double n1 = static_cast<double>(pts.size() - 1);
  g.sxx /= n1, g.sxy /= n1, g.syy /= n1;
  return g;
}

// The ellipse {μ + R (scale √λ1 cos t, scale √λ2 sin t)} as a polygon whose vertices lie on it.
// The default 720 vertices put its area within 2e-5 of the ellipse's, for the overlaps; the
// emitted outlines only need to look smooth in a figure.
constexpr int kOutlineVertices = 180;

Polygon ellipse(const Gaussian& g, double scale, int vertices = 720) {
  const double half = (g.sxx + g.syy) / 2, diff = (g.sxx - g.syy) / 2;
  const double root = std::sqrt(diff * diff + g.sxy * g.sxy);
  const double a = scale * std::sqrt(std::max(half + root, 0.0)), b = scale * std::sqrt(std::max(half - root, 0.0));
  const double theta = 0.5 * num::atan2(2 * g.sxy, g.sxx - g.syy);
  double c, s;
  num::sincos(theta, s, c);
  Polygon poly;
  for (int v = vertices; v >= 0; --v) {  // clockwise, closed: Boost.Geometry's default polygon
    const double t = 2 * M_PI * (v % vertices) / vertices;
    double ct, st;
    num::sincos(t, st, ct);
    const double u = a * ct, w = b * st;
    poly.outer().push_back(BPoint(g.mx + c * u - s * w, g.my + s * u + c * w));
  }
  return poly;
}

double bhattacharyya(const Gaussian& p, const Gaussian& q) {
  const double sxx = (p.sxx + q.sxx) / 2, sxy = (p.sxy + q.sxy) / 2, syy = (p.syy + q.syy) / 2;
  const double det = sxx * syy - sxy * sxy;
  const double dx = p.mx - q.mx, dy = p.my - q.my;
  const double mahalanobis = (syy * dx * dx - 2 * sxy * dx * dy + sxx * dy * dy) / det;
  return mahalanobis / 8 + 0.5 * num::log(det / std::sqrt(p.det() * q.det()));
}

Outputs run(OpContext& ctx) {
  const auto classes = points_by_class(ctx.input("points"), ctx.input("labels"));
  const double scale = ctx.number("scale");
  std::vector<Gaussian> gs;
  const std::size_t k = classes.size();
  Tensor labels = Tensor::zeros<double>({k}), means = Tensor::zeros<double>({k, 2}), covs = Tensor::zeros<double>({k, 2, 2});
  for (const auto& [label, pts] : classes) {
    if (pts.size() < 3)
      throw std::runtime_error("class " + label_text(label) + " has " + std::to_string(pts.size()) +
                               " point(s); a covariance needs at least 3");
    Gaussian g = fit(pts);
    // A singular covariance means every point of the class lies on one line (or on one spot):
    // its ellipse has no area and the Bhattacharyya distance is undefined.
    if (!(g.det() > 1e-12 * (g.sxx + g.syy) * (g.sxx + g.syy)))
      throw std::runtime_error("class " + label_text(label) + "'s points are duplicates of each other or lie on one line; " +
                               "their covariance is singular");
    const std::size_t c = gs.size();
    labels.data<double>()[c] = label;
    means.data<double>()[2 * c] = g.mx;
    means.data<double>()[2 * c + 1] = g.my;
    double* cv = covs.data<double>() + 4 * c;
    cv[0] = g.sxx, cv[1] = g.sxy, cv[2] = g.sxy, cv[3] = g.syy;
    gs.push_back(g);
  }
  std::vector<Polygon> polys;
  for (const auto& g : gs) polys.push_back(ellipse(g, scale));
  Outputs out;
  for (std::size_t c = 0; c < k; ++c) {
    const Polygon outline = ellipse(gs[c], scale, kOutlineVertices);
    const auto& ring = outline.outer();
    Tensor vertices = Tensor::zeros<double>({ring.size() - 1, 2});  // open, as convex_hulls' hulls
    for (std::size_t v = 0; v + 1 < ring.size(); ++v) {
      vertices.data<double>()[2 * v] = ring[v].x();
      vertices.data<double>()[2 * v + 1] = ring[v].y();
    }
    out["ellipses/" + label_text(labels.data<double>()[c])] = vertices;
  }
  Tensor overlap = Tensor::zeros<double>({k, k}), distance = Tensor::zeros<double>({k, k});
  double sum = 0;
  std::int64_t overlapping = 0;
  std::size_t pairs = 0;
  for (std::size_t i = 0; i < k; ++i)
    for (std::size_t j = 0; j < k; ++j) {
      double v = 1.0;
      if (i != j) {
        v = overlap_ratio(polys[i], polys[j]);
        distance.data<double>()[i * k + j] = bhattacharyya(gs[i], gs[j]);
        if (i < j) sum += v, ++pairs, overlapping += v > 0;
      }
      overlap.data<double>()[i * k + j] = v;
    }
  out["classes"] = labels;
  out["means"] = means;
  out["covariances"] = covs;
  out["overlap"] = overlap;
  out["mean_overlap"] = Tensor::scalar(pairs ? sum / pairs : 0.0);
  out["bhattacharyya"] = distance;
  out["overlapping_pairs"] = Tensor::scalar<std::int64_t>(overlapping);
  return out;
}

}  // namespace

OpSchema gaussian_ellipses_op() {
  OpSchema op;
  op.name = "gaussian_ellipses";
  op.light = true;
  op.version = 3;  // 2: the ellipses output; 3: angles and logarithms by numeric/elementary
  op.doc = "A Gaussian fitted to each class of a 2-D projection, drawn as the ellipse of semi-axes scale·√λ along "
           "its covariance's eigenvectors; pairwise overlap of the ellipses (shared area ÷ covered area), "
           "Bhattacharyya distances between the Gaussians, and how many pairs of ellipses overlap at all.";
  op.inputs = {{"points", "[points, 2]"}, {"labels", "one label per point"}};
  op.outputs = {{"ellipses",
                 "one polygon per class, named by its label: float64 [180, 2], vertices on the ellipse, clockwise, "
                 "open (the first vertex is not repeated)",
                 false, false, true},
                {"classes", "float64 [classes]: the labels, in increasing order"},
                {"means", "float64 [classes, 2]"},
                {"covariances", "float64 [classes, 2, 2]: sample covariances"},
                {"overlap", "float64 [classes, classes]: intersection ÷ union of the ellipses (1 on the diagonal)"},
                {"mean_overlap", "mean of overlap over the pairs of classes"},
                {"bhattacharyya", "float64 [classes, classes]: Bhattacharyya distance between the Gaussians"},
                {"overlapping_pairs", "int64: pairs of classes whose ellipses share any area"}};
  ParamSpec scale{"scale", ParamType::number, "semi-axes are scale·√λ (the report's figure: √2)", "1.4142135623730951"};
  scale.min = 0;
  op.params = {scale};
  op.run = run;
  return op;
}

}  // namespace untangle
