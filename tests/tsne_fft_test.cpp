// The FFT-interpolated t-SNE against exact sums, and the op's options around it.
#include <doctest/doctest.h>

#include <cmath>

#include "nodes/common/random.h"
#include "nodes/metrics/ops.h"
#include "nodes/projection/ops.h"
#include "nodes/projection/tsne_core.h"
#include "nodes/projection/tsne_fft.h"
#include "pipeline/schema.h"
#include "tests/tsne_inputs.h"

using namespace untangle;
using test::clusters;
using test::squared_distances;
using test::uniform_points;

namespace {

// Σ_{j≠i} q_ij² (y_i − y_j) into force, and Z, term by term.
double exact_repulsion(const std::vector<double>& y, std::vector<double>& force) {
  const std::size_t n = y.size() / 2;
  force.assign(2 * n, 0.0);
  double z = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j)
      if (i != j) {
        const double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
        const double q = 1 / (1 + dx * dx + dy * dy);
        z += q;
        force[2 * i] += q * q * dx;
        force[2 * i + 1] += q * q * dy;
      }
  return z;
}

double relative_error(const std::vector<double>& a, const std::vector<double>& b) {
  double d = 0, s = 0;
  for (std::size_t k = 0; k < a.size(); ++k) d += (a[k] - b[k]) * (a[k] - b[k]), s += b[k] * b[k];
  return std::sqrt(d / s);
}

}  // namespace

TEST_CASE("tsne fft: repulsion and Z agree with the exact sums, closely with a fine grid") {
  // Wide (as after early exaggeration: boxes of width 1), narrow (as at the start: min_boxes
  // across), and with duplicate points, which share a box and its weights. These points are
  // sparse (one per 5 square units), so most of the force comes from near pairs, where the
  // interpolation errs most: FIt-SNE's grid (3 nodes in boxes of width 1, the default) is
  // within a few percent; 5 nodes in boxes of width 0.5 within 1e-3.
  auto dup = uniform_points(300, 2, 30, 3);
  for (std::size_t i = 0; i < 20; ++i) dup[2 * (100 + i)] = dup[0], dup[2 * (100 + i) + 1] = dup[1];
  for (const auto& y : {uniform_points(300, 2, 40, 1), uniform_points(300, 2, 1e-3, 2), dup}) {
    CAPTURE(y[0]);
    std::vector<double> exact, coarse, fine;
    const double z = exact_repulsion(y, exact);
    const double zc = tsne::FftRepulsion().compute(y, coarse);
    const double zf = tsne::FftRepulsion({5, 0.5, 50}).compute(y, fine);
    CHECK(relative_error(coarse, exact) < 0.05);
    CHECK(std::abs(zc - z) / z < 5e-3);
    CHECK(relative_error(fine, exact) < 1e-3);
    CHECK(std::abs(zf - z) / z < 1e-4);
    CHECK(relative_error(fine, exact) <= relative_error(coarse, exact) + 1e-6);  // the narrow set: both at rounding level
  }
}

TEST_CASE("tsne fft: two points in one box repel each other along their separation, less as they meet") {
  // Far corners make the grid's boxes width 1, so the pair shares a box and the interpolation
  // is at its coarsest. Whatever the grid, the interpolated kernel multiplies the pair's exact
  // separation: their relative force is parallel to it and shrinks with it, as the exact
  // 2·q²·(y_a − y_b) does. The far points push both alike, to well below the pair's force.
  for (const double d : {1e-1, 1e-2, 1e-3}) {
    CAPTURE(d);
    const double ax = 0.31, ay = 0.17, sx = 0.6 * d, sy = 0.8 * d;
    const std::vector<double> y{-30, -30, 30, -30, -30, 30, 30, 30, ax, ay, ax + sx, ay + sy};
    std::vector<double> force;
    tsne::FftRepulsion().compute(y, force);
    const double fx = force[8] - force[10], fy = force[9] - force[11];  // on a, minus on b
    const double along = -(fx * sx + fy * sy) / (d * d), across = (fx * sy - fy * sx) / (d * d);
    const double q = 1 / (1 + d * d);
    CHECK(along == doctest::Approx(2 * q * q).epsilon(0.02));
    CHECK(std::abs(across) < 1e-3 * along);
  }
}

TEST_CASE("tsne fft: with every point a neighbour, the gradient and KL are close to exact") {
  const std::size_t n = 200, d = 4;
  const auto x = uniform_points(n, d, 4, 5);
  const double perplexity = 67;  // 3 · 67 ≥ n - 1: P holds every pair, only the repulsion is approximated
  const auto dense = tsne::joint_probabilities(squared_distances(x, n, d), n, perplexity);
  const auto sparse = tsne::sparse_joint_probabilities(x, n, d, perplexity);
  REQUIRE(sparse.val.size() == n * (n - 1));
  auto y = uniform_points(n, 2, 30, 6);
  tsne::FftGradient fft(sparse, {5, 0.5, 50});  // a fine grid: the sums within 1e-3 (see above)
  for (double exaggeration : {1.0, 12.0}) {
    const auto& g = fft.gradient(y, exaggeration);
    CHECK(relative_error(g.grad, tsne::gradient(dense, y, n, exaggeration)) < 1e-3);
  }
  const double z = fft.gradient(y, 1.0).z;
  CHECK(tsne::sparse_kl_divergence(sparse, y, z) == doctest::Approx(tsne::kl_divergence(dense, y, n)).epsilon(1e-4));
}

TEST_CASE("tsne fft: separates clusters, survives duplicate points, and ignores the thread count") {
  Tensor x, labels;
  clusters(300, x, labels);
  for (std::size_t c = 0; c < 5; ++c) x.data<float>()[3 * 5 + c] = x.data<float>()[0 * 5 + c];  // point 3 = point 0
  OpContext ctx;
  ctx.inputs["x"] = {x};
  ctx.params = test::tsne_params("method: fft, iterations: 150");  // early exaggeration only: the grid dominates the time
  const auto [many, one] = test::tsne_on_many_threads_and_one(ctx);
  CHECK(many.at("points").digest() == one.at("points").digest());
  CHECK(many.at("kl").digest() == one.at("kl").digest());
  const float* p = many.at("points").data<float>();
  for (std::size_t k = 0; k < 600; ++k) REQUIRE(std::isfinite(p[k]));
  CHECK(test::hit(many.at("points"), labels) == 1.0);
  // Its final KL is close to the exact method's (on its own P: all pairs, not only neighbours).
  ctx.params = test::tsne_params("method: exact, iterations: 150");
  const Outputs exact = tsne_op().run(ctx);
  CHECK(many.at("kl").data<double>()[2] == doctest::Approx(exact.at("kl").data<double>()[2]).epsilon(0.1));
}

TEST_CASE("tsne: late exaggeration multiplies P from its start on, and its default changes nothing") {
  // An independent descent on the exact gradient: scikit-learn's two phases, P multiplied by 3
  // from iteration 260.
  const std::size_t n = 30, d = 4;
  const auto xs = uniform_points(n, d, 4, 11);
  Tensor x = Tensor::zeros<double>({n, d});
  std::copy(xs.begin(), xs.end(), x.data<double>());
  const auto p = tsne::joint_probabilities(squared_distances(xs, n, d), n, 5);
  std::vector<double> y(2 * n);
  Rng rng(3);
  for (auto& c : y) c = 1e-4 * rng.normal();
  auto descend = [&](std::size_t from, std::size_t to, double momentum, auto exaggeration) {
    std::vector<double> update(2 * n, 0.0), gains(2 * n, 1.0);
    for (std::size_t it = from; it < to; ++it) {
      const auto g = tsne::gradient(p, y, n, exaggeration(it));
      for (std::size_t k = 0; k < 2 * n; ++k) {
        gains[k] = update[k] * g[k] < 0 ? gains[k] + 0.2 : std::max(gains[k] * 0.8, 0.01);
        update[k] = momentum * update[k] - 50 * gains[k] * g[k];
        y[k] += update[k];
      }
    }
  };
  descend(0, 250, 0.5, [](std::size_t) { return 12.0; });
  descend(250, 300, 0.8, [](std::size_t it) { return it >= 260 ? 3.0 : 1.0; });

  OpContext ctx;
  ctx.inputs["x"] = {x};
  ctx.params = test::tsne_params("perplexity: 5, iterations: 300, init: random, seed: 3, method: exact, late_exaggeration: 3, "
                      "late_exaggeration_start: 260");
  const Tensor points = tsne_op().run(ctx).at("points");
  for (std::size_t k = 0; k < 2 * n; ++k) REQUIRE(points.data<float>()[k] == static_cast<float>(y[k]));
  // Without a factor, the start makes no difference.
  ctx.params["late_exaggeration"] = 1;
  const Tensor plain = tsne_op().run(ctx).at("points");
  ctx.params["late_exaggeration_start"] = 290;
  CHECK(tsne_op().run(ctx).at("points").digest() == plain.digest());
}

TEST_CASE("tsne: bad method and exaggeration params are refused with a reason") {
  const OpSchema op = tsne_op();
  auto error_of = [&](const char* param, const char* value) {
    std::string error;
    canonical_param(*op.param(param), YAML::Load(value), error);
    return error;
  };
  CHECK(error_of("method", "fast") == "method must be one of auto, exact, barnes_hut, fft, got 'fast'");
  CHECK(error_of("late_exaggeration", "0.5") == "late_exaggeration must be >= 1, got 0.5");
  CHECK(error_of("late_exaggeration_start", "100") == "late_exaggeration_start must be >= 250, got 100");
  CHECK(error_of("method", "fft").empty());

  Tensor x, labels;
  clusters(30, x, labels);
  OpContext ctx;
  ctx.inputs["x"] = {x};
  ctx.params = test::tsne_params("method: fft, iterations: 300, late_exaggeration: 4, late_exaggeration_start: 300");
  try {
    tsne_op().run(ctx);
    FAIL("a late exaggeration that never starts was accepted");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()) == "late_exaggeration_start (300) must be below iterations (300) for late_exaggeration to act");
  }
}
