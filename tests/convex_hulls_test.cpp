// Convex hulls, their areas and overlaps on shapes worked out by hand.
#include <doctest/doctest.h>

#include "nodes/metrics/ops.h"
#include "tests/checks.h"
#include "tests/labelled_points.h"

using namespace untangle;

namespace {

Outputs hulls(const std::vector<double>& xy, const std::vector<int>& labels) {
  OpContext ctx = test::labelled_points(xy, 2, labels);
  return convex_hulls_op().run(ctx);
}

}  // namespace

TEST_CASE("convex_hulls: a triangle with an inner point, and two half-overlapping squares") {
  // Class 0: triangle (0,0) (4,0) (0,3) plus an inside point: area 6, three vertices.
  // Classes 1 and 2: unit squares at x = 10 and x = 10.5 (plus a centre point each): they share
  // 0.5, cover 1.5 together → overlap 1/3. The triangle touches neither.
  Outputs out = hulls({0, 0, 4, 0, 0, 3, 1, 1,                            //
                       10, 0, 11, 0, 11, 1, 10, 1, 10.5, 0.5,             //
                       10.5, 0, 11.5, 0, 11.5, 1, 10.5, 1, 11, 0.5},
                      {0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2});
  const double* a = out.at("areas").data<double>();
  CHECK(a[0] == doctest::Approx(6.0));
  CHECK(a[1] == doctest::Approx(1.0));
  CHECK(a[2] == doctest::Approx(1.0));
  CHECK(out.at("hulls/0").shape == std::vector<std::size_t>{3, 2});
  CHECK(out.at("hulls/1").shape == std::vector<std::size_t>{4, 2});
  const double* o = out.at("overlap").data<double>();
  CHECK(o[0] == 1.0);
  CHECK(o[1 * 3 + 2] == doctest::Approx(1.0 / 3));
  CHECK(o[2 * 3 + 1] == doctest::Approx(1.0 / 3));
  CHECK(o[0 * 3 + 1] == 0.0);
  CHECK(out.at("mean_overlap").at(0) == doctest::Approx((0 + 0 + 1.0 / 3) / 3));
}

TEST_CASE("convex_hulls: a class of fewer than three points and NaN input are refused") {
  CHECK_CONTAINS(test::error_of([] { hulls({0, 0, 1, 0, 0, 1, 5, 5, 6, 6}, {0, 0, 0, 7, 7}); }),
                 "class 7 has 2 point(s); a hull needs at least 3");
  CHECK_CONTAINS(test::error_of([] { hulls({0, 0, 1, 0, 0, std::nan("")}, {0, 0, 0}); }), "NaN");
}
