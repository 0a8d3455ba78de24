// Boost.Geometry's planar types, as the metrics use them.
#pragma once

// GCC 12 reports a maybe-uninitialized false positive deep inside Boost.Geometry's rescaling.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/geometry.hpp>
#include <boost/geometry/geometries/point_xy.hpp>
#include <boost/geometry/geometries/polygon.hpp>
#pragma GCC diagnostic pop

namespace untangle {

namespace bg = boost::geometry;
using BPoint = bg::model::d2::point_xy<double>;
using Polygon = bg::model::polygon<BPoint>;  // clockwise, closed

// The area two polygons share divided by the area they cover together.
inline double overlap_ratio(const Polygon& a, const Polygon& b) {
  bg::model::multi_polygon<Polygon> common;
  bg::intersection(a, b, common);
  const double inter = bg::area(common);
  const double uni = bg::area(a) + bg::area(b) - inter;
  return uni > 0 ? inter / uni : 0.0;
}

}  // namespace untangle
