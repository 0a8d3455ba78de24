// t-SNE's pieces against independent computations.
#include <doctest/doctest.h>

#include <cmath>

#include "nodes/common/random.h"
#include "nodes/metrics/ops.h"
#include "nodes/projection/ops.h"
#include "nodes/projection/tsne_core.h"

using namespace untangle;

namespace {

std::vector<double> random_points(std::size_t n, std::size_t d, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<double> v(n * d);
  for (auto& x : v) x = rng.uniform() * 4 - 2;
  return v;
}

std::vector<double> squared_distances(const std::vector<double>& x, std::size_t n, std::size_t d) {
  std::vector<double> sq(n * n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j)
      for (std::size_t c = 0; c < d; ++c) sq[i * n + j] += (x[i * d + c] - x[j * d + c]) * (x[i * d + c] - x[j * d + c]);
  return sq;
}

}  // namespace

TEST_CASE("tsne: affinities are symmetric, sum to 1, and each row has the asked perplexity") {
  const std::size_t n = 40;
  const auto sq = squared_distances(random_points(n, 3, 1), n, 3);
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
  const auto p = tsne::joint_probabilities(squared_distances(random_points(n, 4, 2), n, 4), n, 4);
  auto y = random_points(n, 2, 3);
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

TEST_CASE("tsne: separated clusters stay separated, and reruns are identical") {
  Rng rng(4);
  const std::size_t n = 90;
  Tensor x = Tensor::zeros<float>({n, 5});
  Tensor labels = Tensor::zeros<std::int32_t>({n});
  for (std::size_t i = 0; i < n; ++i) {
    labels.data<std::int32_t>()[i] = static_cast<std::int32_t>(i % 3);
    for (std::size_t c = 0; c < 5; ++c)
      x.data<float>()[i * 5 + c] = static_cast<float>((c == i % 3 ? 10.0 : 0.0) + rng.uniform());
  }
  OpContext ctx;
  ctx.inputs["x"] = {x};
  ctx.params = YAML::Load("{perplexity: 10, iterations: 1000, early_exaggeration: 12, learning_rate: auto, init: pca, seed: 0}");
  Outputs a = tsne_op().run(ctx), b = tsne_op().run(ctx);
  CHECK(a.at("points").digest() == b.at("points").digest());
  CHECK(a.at("kl").shape == std::vector<std::size_t>{20});
  CHECK(a.at("kl").data<double>()[19] < a.at("kl").data<double>()[5]);
  OpContext nh;
  nh.inputs["points"] = {a.at("points")};
  nh.inputs["labels"] = {labels};
  nh.params = YAML::Load("{k: 6}");
  CHECK(neighborhood_hit_op().run(nh).at("overall").at(0) == 1.0);
}
