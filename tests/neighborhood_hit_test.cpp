// Neighbourhood hit on sets worked out by hand.
#include <doctest/doctest.h>

#include "nodes/metrics/ops.h"
#include "tests/checks.h"
#include "tests/labelled_points.h"

using namespace untangle;

namespace {

Outputs nh(const std::vector<float>& xs, std::size_t dims, const std::vector<int>& labels, int k) {
  OpContext ctx = test::labelled_points(xs, dims, labels);
  ctx.params = YAML::Load("{k: " + std::to_string(k) + "}");
  return neighborhood_hit_op().run(ctx);
}

}  // namespace

TEST_CASE("neighborhood_hit: two far clusters score 1") {
  Outputs out = nh({0, 0, 1, 0, 2, 0, 10, 0, 11, 0, 12, 0}, 2, {0, 0, 0, 1, 1, 1}, 2);
  CHECK(out.at("overall").at(0) == 1.0);
  CHECK(out.at("per_class").shape == std::vector<std::size_t>{2});
}

TEST_CASE("neighborhood_hit: alternating labels on a line, by hand") {
  // Points 0(A) 1(B) 2(A) 3(B). k = 1: every nearest neighbour has the other label (ties at
  // distance 1 go to the lower index) → 0. k = 2: point 0 sees {1, 2} → 1/2; point 1 sees
  // {0, 2} → 0; point 2 sees {1, 3} → 0; point 3 sees {2, 1} → 1/2. Overall 1/4, each class 1/4.
  CHECK(nh({0, 1, 2, 3}, 1, {0, 1, 0, 1}, 1).at("overall").at(0) == 0.0);
  Outputs out = nh({0, 1, 2, 3}, 1, {0, 1, 0, 1}, 2);
  CHECK(out.at("overall").at(0) == 0.25);
  CHECK(out.at("per_class").at(0) == 0.25);
  CHECK(out.at("per_class").at(1) == 0.25);
  // Three A's and one far B with k = 1: the B's neighbour is an A → class B scores 0, the A's 1.
  Outputs lone = nh({0, 1, 2, 50}, 1, {0, 0, 0, 1}, 1);
  CHECK(lone.at("overall").at(0) == 0.75);
  CHECK(lone.at("per_class").at(0) == 1.0);
  CHECK(lone.at("per_class").at(1) == 0.0);
}

TEST_CASE("neighborhood_hit: duplicates and ties at the k-th distance go to the lower index") {
  // x = 5(A) 5(B) 5(B) 3(A) 7(A) on a line in the plane, k = 2. Point 0's two neighbours are its
  // copies 1 and 2 (B, B) → 0; points 1 and 2 see the other two copies (A, B) → 1/2. Points 3
  // and 4 have the three copies at one distance and take the first two, 0 and 1 (A, B) → 1/2;
  // taking 1 and 2 instead would give 0. Overall 2/5; class A (0 + 1/2 + 1/2) / 3, class B 1/2.
  Outputs out = nh({5, 0, 5, 0, 5, 0, 3, 0, 7, 0}, 2, {0, 1, 1, 0, 0}, 2);
  CHECK(out.at("overall").at(0) == 2.0 / 5);
  CHECK(out.at("per_class").at(0) == 1.0 / 3);
  CHECK(out.at("per_class").at(1) == 0.5);
}

TEST_CASE("neighborhood_hit: bad input is refused with a reason") {
  CHECK_CONTAINS(test::error_of([] { nh({0, 1, 2}, 1, {0, 1, 0}, 3); }), "k = 3 needs more than 3 points");
  CHECK_CONTAINS(test::error_of([] { nh({0, 1, 2}, 1, {0, 1}, 1); }), "one number per point");
  CHECK_CONTAINS(test::error_of([] { nh({0, std::nanf(""), 2}, 1, {0, 1, 0}, 1); }), "NaN");
}
