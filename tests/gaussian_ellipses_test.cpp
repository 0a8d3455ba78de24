// Gaussian ellipses against closed forms and a Monte-Carlo estimate.
#include <doctest/doctest.h>

#include <cmath>

#include "nodes/common/random.h"
#include "nodes/metrics/ops.h"
#include "tests/checks.h"
#include "tests/labelled_points.h"

using namespace untangle;

namespace {

Outputs ellipses(const std::vector<double>& xy, const std::vector<int>& labels) {
  OpContext ctx = test::labelled_points(xy, 2, labels);
  ctx.params = YAML::Load("{scale: 1.4142135623730951}");
  return gaussian_ellipses_op().run(ctx);
}

// Four points (±1, 0), (0, ±1) around (cx, cy): sample covariance (2/3)·I.
void diamond(std::vector<double>& xy, std::vector<int>& labels, double cx, double cy, int label) {
  for (auto [dx, dy] : {std::pair{1.0, 0.0}, {-1.0, 0.0}, {0.0, 1.0}, {0.0, -1.0}}) {
    xy.push_back(cx + dx);
    xy.push_back(cy + dy);
    labels.push_back(label);
  }
}

}  // namespace

TEST_CASE("gaussian_ellipses: two circles overlap as the lens formula says, a far one not at all") {
  std::vector<double> xy;
  std::vector<int> labels;
  diamond(xy, labels, 0, 0, 0);
  diamond(xy, labels, 1, 0, 1);
  diamond(xy, labels, 100, 0, 2);
  Outputs out = ellipses(xy, labels);
  CHECK(out.at("covariances").data<double>()[0] == doctest::Approx(2.0 / 3));
  CHECK(out.at("means").data<double>()[2] == doctest::Approx(1.0));
  // Circles of radius r = √2·√(2/3) whose centres are d = 1 apart.
  const double r = std::sqrt(4.0 / 3), d = 1.0;
  const double lens = 2 * r * r * std::acos(d / (2 * r)) - d / 2 * std::sqrt(4 * r * r - d * d);
  const double expected = lens / (2 * M_PI * r * r - lens);
  const double* o = out.at("overlap").data<double>();
  CHECK(o[1] == doctest::Approx(expected).epsilon(1e-3));
  CHECK(o[2] == 0.0);
  CHECK(out.at("overlapping_pairs").at(0) == 1);
  CHECK(out.at("mean_overlap").at(0) == doctest::Approx(expected / 3).epsilon(1e-3));
  // Equal covariances Σ = (2/3) I: the distance is |Δμ|² / (8 · 2/3).
  CHECK(out.at("bhattacharyya").data<double>()[1] == doctest::Approx(3.0 / 16));
  CHECK(out.at("bhattacharyya").data<double>()[0] == 0.0);
}

TEST_CASE("gaussian_ellipses: the overlap of two rotated ellipses matches a Monte-Carlo estimate") {
  Rng rng(5);
  std::vector<double> xy;
  std::vector<int> labels;
  for (int c = 0; c < 2; ++c)
    for (int i = 0; i < 60; ++i) {
      const double u = 3 * (rng.uniform() - 0.5), v = rng.uniform() - 0.5;
      const double angle = c == 0 ? 0.5 : -0.3;
      xy.push_back(c * 0.8 + std::cos(angle) * u - std::sin(angle) * v);
      xy.push_back(std::sin(angle) * u + std::cos(angle) * v);
      labels.push_back(c);
    }
  Outputs out = ellipses(xy, labels);
  const double* m = out.at("means").data<double>();
  const double* s = out.at("covariances").data<double>();
  auto inside = [&](int c, double x, double y) {  // (p-μ)ᵀ Σ⁻¹ (p-μ) ≤ scale²
    const double a = s[4 * c], b = s[4 * c + 1], d = s[4 * c + 3];
    const double dx = x - m[2 * c], dy = y - m[2 * c + 1];
    return (d * dx * dx - 2 * b * dx * dy + a * dy * dy) / (a * d - b * b) <= 2.0;
  };
  Rng mc(7);
  std::size_t both = 0, either = 0;
  for (int i = 0; i < 400000; ++i) {
    const double x = -4 + 8.8 * mc.uniform(), y = -4 + 8 * mc.uniform();
    const bool p = inside(0, x, y), q = inside(1, x, y);
    both += p && q;
    either += p || q;
  }
  CHECK(out.at("overlap").data<double>()[1] == doctest::Approx(static_cast<double>(both) / either).epsilon(0.02));
}

TEST_CASE("gaussian_ellipses: the emitted outlines lie on each class's ellipse, one per class, named by label") {
  // A tilted, stretched class (so Σ has an off-diagonal term) and a diamond labelled 7.
  std::vector<double> xy = {0, 0, 3, 1, 1, 2, -2, -1, 4, 3, -1, 1};
  std::vector<int> labels(6, -2);
  diamond(xy, labels, 20, 5, 7);
  Outputs out = ellipses(xy, labels);
  CHECK(out.count("ellipses/-2") == 1);
  CHECK(out.count("ellipses/7") == 1);
  const double* m = out.at("means").data<double>();
  const double* s = out.at("covariances").data<double>();
  for (auto [c, name] : {std::pair{0, "ellipses/-2"}, {1, "ellipses/7"}}) {
    const Tensor& e = out.at(name);
    REQUIRE(e.shape == std::vector<std::size_t>{180, 2});
    const double a = s[4 * c], b = s[4 * c + 1], d = s[4 * c + 3];
    for (std::size_t v : {0, 37, 179}) {
      const double dx = e.data<double>()[2 * v] - m[2 * c], dy = e.data<double>()[2 * v + 1] - m[2 * c + 1];
      CHECK((d * dx * dx - 2 * b * dx * dy + a * dy * dy) / (a * d - b * b) == doctest::Approx(2.0));
    }
    // Open (the last vertex is not the first again) and clockwise (negative shoelace area).
    const double* p = e.data<double>();
    CHECK(std::hypot(p[0] - p[2 * 179], p[1] - p[2 * 179 + 1]) > 1e-3);
    double twice_area = 0;
    for (std::size_t v = 0; v < 180; ++v) {
      const std::size_t w = (v + 1) % 180;
      twice_area += p[2 * v] * p[2 * w + 1] - p[2 * w] * p[2 * v + 1];
    }
    CHECK(twice_area < 0);
  }
}

TEST_CASE("gaussian_ellipses: small, duplicate, collinear and NaN classes are refused with a reason") {
  CHECK_CONTAINS(test::error_of([] { ellipses({0, 0, 1, 0}, {3, 3}); }), "class 3 has 2 point(s); a covariance needs at least 3");
  CHECK_CONTAINS(test::error_of([] { ellipses({1, 1, 1, 1, 1, 1}, {0, 0, 0}); }), "duplicates of each other or lie on one line");
  CHECK_CONTAINS(test::error_of([] { ellipses({0, 0, 1, 1, 2, 2}, {0, 0, 0}); }), "covariance is singular");
  CHECK_CONTAINS(test::error_of([] { ellipses({0, 0, 1, std::nan(""), 2, 0}, {0, 0, 0}); }), "NaN");
}
