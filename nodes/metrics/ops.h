// Class-separation metrics of projected points.
#pragma once
#include "pipeline/schema.h"

namespace untangle {

OpSchema neighborhood_hit_op();
OpSchema convex_hulls_op();
OpSchema gaussian_ellipses_op();

}  // namespace untangle
