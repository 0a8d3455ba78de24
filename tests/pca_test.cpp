// PCA against a decomposition known in closed form.
#include <doctest/doctest.h>

#include <cmath>

#include <oneapi/tbb/global_control.h>

#include "nodes/common/random.h"
#include "nodes/projection/ops.h"
#include "tests/checks.h"

using namespace untangle;

namespace {

Outputs pca(const Tensor& x, int k) {
  OpContext ctx;
  ctx.inputs["x"] = {x};
  ctx.params = YAML::Load("{n_components: " + std::to_string(k) + "}");
  return pca_op().run(ctx);
}

}  // namespace

TEST_CASE("pca: a rotated cloud with variances 9 and 1 gives the rotation back") {
  // Points ±3 along u = (cos 30°, sin 30°) and ±1 along v = (-sin 30°, cos 30°), plus an offset:
  // the covariance has eigenvalues 9·s and 1·s along u and v exactly, so the ratios are 0.9 and 0.1.
  const double a = M_PI / 6, ux = std::cos(a), uy = std::sin(a);
  Tensor x = Tensor::zeros<float>({4, 2});
  const double coords[4][2] = {{3, 0}, {-3, 0}, {0, 1}, {0, -1}};
  for (int i = 0; i < 4; ++i) {
    x.data<float>()[2 * i] = static_cast<float>(5 + coords[i][0] * ux - coords[i][1] * uy);
    x.data<float>()[2 * i + 1] = static_cast<float>(-2 + coords[i][0] * uy + coords[i][1] * ux);
  }
  Outputs out = pca(x, 2);
  const double* c = out.at("components").data<double>();
  CHECK(c[0] == doctest::Approx(ux).epsilon(1e-5));  // largest entry positive
  CHECK(c[1] == doctest::Approx(uy).epsilon(1e-5));
  CHECK(std::abs(c[2] * ux + c[3] * uy) < 1e-5);  // orthogonal
  CHECK(out.at("explained_variance_ratio").data<double>()[0] == doctest::Approx(0.9).epsilon(1e-6));
  CHECK(out.at("explained_variance_ratio").data<double>()[1] == doctest::Approx(0.1).epsilon(1e-6));
  const float* p = out.at("points").data<float>();
  CHECK(p[0] == doctest::Approx(3).epsilon(1e-5));   // the first point lies at +3 on u
  CHECK(p[2] == doctest::Approx(-3).epsilon(1e-5));
  CHECK(std::abs(p[4]) < 1e-5);
  CHECK(std::abs(std::abs(p[5]) - 1) < 1e-5);
}

TEST_CASE("pca: trailing axes are flattened, one thread gives what many give, and bad input is refused") {
  Rng rng(3);
  Tensor x = Tensor::zeros<float>({500, 2, 3});
  for (std::size_t i = 0; i < x.size(); ++i) x.data<float>()[i] = static_cast<float>(rng.uniform());
  Outputs a = pca(x, 3), b;
  {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, 1);
    b = pca(x, 3);
  }
  CHECK(a.at("points").shape == std::vector<std::size_t>{500, 3});
  CHECK(a.at("components").shape == std::vector<std::size_t>{3, 6});
  CHECK(a.at("points").digest() == b.at("points").digest());
  double sum = 0;
  for (int j = 0; j < 3; ++j) sum += a.at("explained_variance_ratio").data<double>()[j];
  CHECK(sum < 1.0);
  CHECK_CONTAINS(test::error_of([&] { pca(x, 7); }), "n_components = 7 but the points have only 6 dimensions");
  x.data<float>()[4] = std::nanf("");
  CHECK_CONTAINS(test::error_of([&] { pca(x, 2); }), "NaN");
}
