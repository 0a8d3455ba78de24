// Points grouped by their label, for the per-class metrics.
#pragma once
#include <cmath>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "pipeline/tensor.h"

namespace untangle {

struct Point2 {
  double x, y;
};

// label → its points, labels in increasing order. Checks the shapes and that every value is
// finite.
inline std::map<double, std::vector<Point2>> points_by_class(const Tensor& pts, const Tensor& lab) {
  if (pts.dtype == DType::str || pts.shape.size() != 2 || pts.shape[1] != 2)
    throw std::runtime_error("points must be numeric [points, 2], got " + shape_string(pts.shape));
  const std::size_t n = pts.shape[0];
  if (lab.dtype == DType::str || lab.size() != n)
    throw std::runtime_error("labels must hold one number per point (" + std::to_string(n) + "), got " + std::to_string(lab.size()));
  std::map<double, std::vector<Point2>> out;
  for (std::size_t i = 0; i < n; ++i) {
    const Point2 p{pts.at(2 * i), pts.at(2 * i + 1)};
    if (!std::isfinite(p.x) || !std::isfinite(p.y))
      throw std::runtime_error("points hold a NaN or infinite value (point " + std::to_string(i) + ")");
    out[lab.at(i)].push_back(p);
  }
  return out;
}

inline std::string label_text(double label) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", label);
  return buf;
}

}  // namespace untangle
