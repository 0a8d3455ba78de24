// t-SNE's pieces against independent computations.
#include <doctest/doctest.h>

#include <cmath>

#include "nodes/common/random.h"
#include "nodes/metrics/ops.h"
#include "nodes/projection/ops.h"
#include "nodes/projection/tsne_bh.h"
#include "nodes/projection/tsne_core.h"
#include "tests/tsne_inputs.h"

using namespace untangle;
using test::clusters;
using test::squared_distances;
using test::uniform_points;

TEST_CASE("tsne: affinities are symmetric, sum to 1, and each row has the asked perplexity") {
  const std::size_t n = 40;
  const auto sq = squared_distances(uniform_points(n, 3, 4, 1), n, 3);
  const auto p = tsne::joint_probabilities(sq, n, 10);
  double total = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      total += p[i * n + j];
      CHECK(p[i * n + j] == p[j * n + i]);
    }
  CHECK(total == doctest::Approx(1.0).epsilon(1e-6));
  // Points all at the same distance from each other (the corners of a simplex): whatever the
  // perplexity, every pair gets 1 / (n (n - 1)).
  const std::size_t m = 6;
  std::vector<double> corners(m * m, 0.0);
  for (std::size_t i = 0; i < m; ++i) corners[i * m + i] = 1;
  const auto q = tsne::joint_probabilities(squared_distances(corners, m, m), m, 3);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < m; ++j)
      if (i != j) CHECK(q[i * m + j] == doctest::Approx(1.0 / (m * (m - 1))));
}

TEST_CASE("tsne: the exact gradient is the derivative of the KL divergence") {
  const std::size_t n = 12;
  const auto p = tsne::joint_probabilities(squared_distances(uniform_points(n, 4, 4, 2), n, 4), n, 4);
  auto y = uniform_points(n, 2, 4, 3);
  const auto g = tsne::gradient(p, y, n, 1.0);
  const double eps = 1e-6;
  for (std::size_t k = 0; k < 2 * n; ++k) {
    auto yp = y, ym = y;
    yp[k] += eps;
    ym[k] -= eps;
    const double numeric = (tsne::kl_divergence(p, yp, n) - tsne::kl_divergence(p, ym, n)) / (2 * eps);
    CHECK(g[k] == doctest::Approx(numeric).epsilon(1e-5).scale(1e-8));
  }
}

TEST_CASE("tsne: the KL divergence matches a direct computation") {
  // Three points, P given: Q from the Student-t kernel, computed here term by term.
  const std::vector<double> p = {0, 0.2, 0.1, 0.2, 0, 0.2, 0.1, 0.2, 0};
  const std::vector<double> y = {0, 0, 1, 0, 0, 2};
  const double w01 = 1 / 2.0, w02 = 1 / 5.0, w12 = 1 / 6.0;
  const double z = 2 * (w01 + w02 + w12);
  const double expected = 2 * (0.2 * std::log(0.2 / (w01 / z)) + 0.1 * std::log(0.1 / (w02 / z)) + 0.2 * std::log(0.2 / (w12 / z)));
  CHECK(tsne::kl_divergence(p, y, 3) == doctest::Approx(expected).epsilon(1e-12));
}

TEST_CASE("tsne: separated clusters stay separated, on one thread as on many") {
  Tensor x, labels;
  clusters(90, x, labels);
  OpContext ctx;
  ctx.inputs["x"] = {x};
  ctx.params = test::tsne_params("iterations: 1000, method: exact");
  const auto [a, b] = test::tsne_on_many_threads_and_one(ctx);
  CHECK(a.at("points").digest() == b.at("points").digest());
  CHECK(a.at("kl").shape == std::vector<std::size_t>{20});
  CHECK(a.at("kl").data<double>()[19] < a.at("kl").data<double>()[5]);
  CHECK(test::hit(a.at("points"), labels) == 1.0);
}

namespace {

double norm(const std::vector<double>& v) {
  double s = 0;
  for (double e : v) s += e * e;
  return std::sqrt(s);
}

}  // namespace

TEST_CASE("tsne: nearest neighbours agree with a direct search, nearest first") {
  const std::size_t n = 300, d = 7, k = 12;
  const auto x = uniform_points(n, d, 4, 6);
  const auto sq = squared_distances(x, n, d);
  std::vector<std::uint32_t> index;
  std::vector<double> found;
  tsne::nearest_neighbours(x, n, d, k, index, found);
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<std::pair<double, std::uint32_t>> all;
    for (std::size_t j = 0; j < n; ++j)
      if (j != i) all.push_back({sq[i * n + j], static_cast<std::uint32_t>(j)});
    std::sort(all.begin(), all.end());
    for (std::size_t m = 0; m < k; ++m) {
      CHECK(index[i * k + m] == all[m].second);
      CHECK(found[i * k + m] == doctest::Approx(all[m].first).epsilon(1e-12));
    }
  }
}

TEST_CASE("tsne: with every point a neighbour and theta 0, Barnes-Hut gives the exact gradient and KL") {
  const std::size_t n = 25, d = 4;
  const auto x = uniform_points(n, d, 4, 7);
  // 3 · perplexity ≥ n - 1: the sparse P holds every pair, so it must equal the dense one.
  const double perplexity = 9;
  const auto dense = tsne::joint_probabilities(squared_distances(x, n, d), n, perplexity);
  const auto sparse = tsne::sparse_joint_probabilities(x, n, d, perplexity);
  REQUIRE(sparse.val.size() == n * (n - 1));
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t t = sparse.row_start[i]; t < sparse.row_start[i + 1]; ++t)
      CHECK(sparse.val[t] == doctest::Approx(dense[i * n + sparse.col[t]]).epsilon(1e-12));
  const auto y = uniform_points(n, 2, 4, 8);
  for (double exaggeration : {1.0, 12.0}) {
    const auto exact = tsne::gradient(dense, y, n, exaggeration);
    const auto bh = tsne::bh_gradient(sparse, y, exaggeration, 0.0);
    for (std::size_t k = 0; k < 2 * n; ++k) CHECK(bh.grad[k] == doctest::Approx(exact[k]).epsilon(1e-10).scale(1e-12));
  }
  const auto bh = tsne::bh_gradient(sparse, y, 1.0, 0.0);
  CHECK(tsne::sparse_kl_divergence(sparse, y, bh.z) == doctest::Approx(tsne::kl_divergence(dense, y, n)).epsilon(1e-10));
}

TEST_CASE("tsne: Barnes-Hut's repulsion approximates the exact one, more closely as theta shrinks") {
  const std::size_t n = 400, d = 3;
  const auto x = uniform_points(n, d, 4, 9);
  const double perplexity = 140;  // 3 · 140 ≥ n - 1: all pairs, so only the repulsion is approximated
  const auto dense = tsne::joint_probabilities(squared_distances(x, n, d), n, perplexity);
  const auto sparse = tsne::sparse_joint_probabilities(x, n, d, perplexity);
  auto y = uniform_points(n, 2, 4, 10);
  for (auto& c : y) c *= 20;  // spread out, as an embedding is after a few hundred steps
  const auto exact = tsne::gradient(dense, y, n, 1.0);
  double previous = 1;
  for (double theta : {0.8, 0.5, 0.2}) {
    const auto bh = tsne::bh_gradient(sparse, y, 1.0, theta);
    std::vector<double> diff(2 * n);
    for (std::size_t k = 0; k < 2 * n; ++k) diff[k] = bh.grad[k] - exact[k];
    const double err = norm(diff) / norm(exact);
    CAPTURE(theta);
    CHECK(err < 0.05);
    CHECK(err < previous);
    previous = err;
  }
}

TEST_CASE("tsne: Barnes-Hut separates clusters, survives duplicate points, and ignores the thread count") {
  Tensor x, labels;
  clusters(150, x, labels);
  for (std::size_t c = 0; c < 5; ++c) x.data<float>()[3 * 5 + c] = x.data<float>()[0 * 5 + c];  // point 3 = point 0
  OpContext ctx;
  ctx.inputs["x"] = {x};
  ctx.params = test::tsne_params("iterations: 500, method: barnes_hut");
  const auto [many, one] = test::tsne_on_many_threads_and_one(ctx);
  CHECK(many.at("points").digest() == one.at("points").digest());
  const float* p = many.at("points").data<float>();
  for (std::size_t k = 0; k < 300; ++k) REQUIRE(std::isfinite(p[k]));
  CHECK(test::hit(many.at("points"), labels) == 1.0);
}

TEST_CASE("tsne: pca_dims reduces the input first") {
  Tensor x, labels;
  clusters(60, x, labels);
  OpContext ctx;
  ctx.inputs["x"] = {x};
  ctx.params = test::tsne_params("perplexity: 5, iterations: 50, method: exact, pca_dims: 3");
  const Outputs reduced = tsne_op().run(ctx);
  // The same as t-SNE of the 3 principal components given directly.
  OpContext pca;
  pca.inputs["x"] = {x};
  pca.params = YAML::Load("{n_components: 3}");
  ctx.inputs["x"] = {pca_op().run(pca).at("points")};
  ctx.params["pca_dims"] = 0;
  CHECK(tsne_op().run(ctx).at("points").digest() == reduced.at("points").digest());
}

TEST_CASE("tsne: a NaN is refused also when the input is reduced first") {
  Tensor x, labels;
  clusters(30, x, labels);
  x.data<float>()[7 * 5 + 2] = std::nanf("");
  OpContext ctx;
  ctx.inputs["x"] = {x};
  for (const char* dims : {"0", "3"}) {
    ctx.params = test::tsne_params(std::string("perplexity: 5, iterations: 10, method: exact, pca_dims: ") + dims);
    try {
      tsne_op().run(ctx);
      FAIL("a NaN was accepted with pca_dims " << dims);
    } catch (const std::runtime_error& e) {
      CHECK(std::string(e.what()) == "x holds a NaN or infinite value (point 7)");
    }
  }
}

TEST_CASE("tsne: the descent is scikit-learn's: two phases, the second from no velocity and unit gains") {
  // An independent run of scikit-learn's _gradient_descent, twice, on the exact gradient.
  const std::size_t n = 30, d = 4, iterations = 300, exploration = 250;
  const std::vector<double> xs = uniform_points(n, d, 4, 11);
  Tensor x = Tensor::zeros<double>({n, d});
  std::copy(xs.begin(), xs.end(), x.data<double>());
  const auto p = tsne::joint_probabilities(squared_distances(xs, n, d), n, 5);
  std::vector<double> y(2 * n);
  Rng rng(3);
  for (auto& c : y) c = 1e-4 * rng.normal();
  const double lr = 50;  // auto: max(30 / 12 / 4, 50)
  auto descend = [&](std::size_t from, std::size_t to, double momentum, double exaggeration) {
    std::vector<double> update(2 * n, 0.0), gains(2 * n, 1.0);
    for (std::size_t it = from; it < to; ++it) {
      const auto g = tsne::gradient(p, y, n, exaggeration);
      for (std::size_t k = 0; k < 2 * n; ++k) {
        gains[k] = update[k] * g[k] < 0 ? gains[k] + 0.2 : std::max(gains[k] * 0.8, 0.01);
        update[k] = momentum * update[k] - lr * gains[k] * g[k];
        y[k] += update[k];
      }
    }
  };
  descend(0, exploration, 0.5, 12);
  descend(exploration, iterations, 0.8, 1);

  OpContext ctx;
  ctx.inputs["x"] = {x};
  ctx.params = test::tsne_params("perplexity: 5, iterations: 300, init: random, seed: 3, method: exact");
  const Tensor points = tsne_op().run(ctx).at("points");
  for (std::size_t k = 0; k < 2 * n; ++k) REQUIRE(points.data<float>()[k] == static_cast<float>(y[k]));
}
