#include "nodes/metrics/knn.h"

#include <nanoflann.hpp>
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>

namespace untangle::knn {

double squared_distance(const double* a, const double* b, std::size_t d) {
  double s = 0;
  for (std::size_t c = 0; c < d; ++c) s += (a[c] - b[c]) * (a[c] - b[c]);
  return s;
}

namespace {

struct Points {
  const double* x;
  std::size_t n, d;
  std::size_t kdtree_get_point_count() const { return n; }
  double kdtree_get_pt(std::size_t i, std::size_t c) const { return x[i * d + c]; }
  template <class Box>
  bool kdtree_get_bbox(Box&) const {
    return false;
  }
};

// nanoflann's L2 metric, but through squared_distance, so the tree and the ranking agree.
struct Metric {
  using ElementType = double;
  using DistanceType = double;
  const Points& p;
  explicit Metric(const Points& points) : p(points) {}
  double evalMetric(const double* a, std::size_t j, std::size_t d) const { return squared_distance(a, &p.x[j * d], d); }
  double accum_dist(double a, double b, std::size_t) const { return (a - b) * (a - b); }
};

using Tree = nanoflann::KDTreeSingleIndexAdaptor<Metric, Points, -1, std::size_t>;

// The k best of the points the tree offers, by (squared distance, index). The tree must not
// pass over a point that ties with the k-th: it offers only points strictly nearer than
// worstDist(), and skips a cell whose lower bound, summed incrementally and so rounded, exceeds
// it. worstDist() is therefore the k-th distance plus a relative margin far above that rounding,
// plus the smallest normal double so that a k-th distance of 0 (duplicates) still lets ties in.
class Best {
 public:
  Best(std::size_t self, std::size_t k, std::pair<double, std::size_t>* out) : self_(self), k_(k), out_(out) {}
  bool full() const { return count_ == k_; }
  double worstDist() const {
    if (!full()) return std::numeric_limits<double>::infinity();
    const double s = out_[k_ - 1].first;
    return s + s * 1e-9 + std::numeric_limits<double>::min();
  }
  bool addPoint(double dist, std::size_t j) {
    if (j == self_) return true;
    const std::pair<double, std::size_t> e{dist, j};
    if (full() && !(e < out_[k_ - 1])) return true;
    std::size_t m = full() ? k_ - 1 : count_++;
    for (; m > 0 && e < out_[m - 1]; --m) out_[m] = out_[m - 1];
    out_[m] = e;
    return true;
  }

 private:
  std::size_t self_, k_, count_ = 0;
  std::pair<double, std::size_t>* out_;
};

}  // namespace

std::vector<std::size_t> neighbours(const std::vector<double>& x, std::size_t n, std::size_t d, std::size_t k) {
  if (k == 0 || k >= n) throw std::invalid_argument("knn: k must be at least 1 and below the number of points");
  // Every squared distance is at most the bounding box's squared diagonal, computed alike.
  double diagonal = 0;
  for (std::size_t c = 0; c < d; ++c) {
    double lo = x[c], hi = x[c];
    for (std::size_t i = 1; i < n; ++i) lo = std::min(lo, x[i * d + c]), hi = std::max(hi, x[i * d + c]);
    diagonal += (hi - lo) * (hi - lo);
  }
  if (!std::isfinite(diagonal)) throw std::runtime_error("points lie too far apart: their squared distances overflow");

  const Points points{x.data(), n, d};
  std::vector<std::size_t> out(n * k);
  const Tree tree(static_cast<int>(d), points);
  // Queries in the tree's order, so that consecutive ones walk the same cells.
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n), [&](const tbb::blocked_range<std::size_t>& r) {
    std::vector<std::pair<double, std::size_t>> best(k);
    for (std::size_t q = r.begin(); q < r.end(); ++q) {
      const std::size_t i = tree.vAcc[q];
      Best result(i, k, best.data());
      tree.findNeighbors(result, &x[i * d], nanoflann::SearchParams());
      for (std::size_t m = 0; m < k; ++m) out[i * k + m] = best[m].second;
    }
  });
  return out;
}

}  // namespace untangle::knn
