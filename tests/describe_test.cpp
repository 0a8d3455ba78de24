#include <doctest/doctest.h>

// The describe op: mean, population standard deviation, row count and per-label counts,
// against values worked out by hand.
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "nodes/data/ops.h"
#include "tests/checks.h"

using namespace untangle;
using untangle::test::error_of;

namespace {

template <class T> Tensor tensor(std::vector<std::size_t> shape, const std::vector<T>& values) {
  Tensor t = Tensor::zeros<T>(std::move(shape));
  REQUIRE(t.size() == values.size());
  for (std::size_t i = 0; i < values.size(); ++i) t.data<T>()[i] = values[i];
  return t;
}

Outputs describe(const Tensor& x, const Tensor* y = nullptr) {
  OpContext ctx;
  ctx.params = YAML::Node(YAML::NodeType::Map);
  ctx.inputs["x"] = {x};
  if (y) ctx.inputs["y"] = {*y};
  return describe_op().run(ctx);
}

std::vector<std::int64_t> counts_of(const Outputs& out) {
  const Tensor& c = out.at("class_counts");
  REQUIRE(c.dtype == DType::i64);
  REQUIRE(c.shape.size() == 1);
  return std::vector<std::int64_t>(c.data<std::int64_t>(), c.data<std::int64_t>() + c.shape[0]);
}

double scalar_f64(const Outputs& out, const std::string& name) {
  const Tensor& t = out.at(name);
  REQUIRE(t.dtype == DType::f64);
  REQUIRE(t.is_scalar());
  return t.data<double>()[0];
}

std::int64_t rows_of(const Outputs& out) {
  const Tensor& t = out.at("rows");
  REQUIRE(t.dtype == DType::i64);
  REQUIRE(t.is_scalar());
  return t.data<std::int64_t>()[0];
}

}  // namespace

TEST_CASE("describe: mean and population std of every value, and the row count") {
  // {2, 4, 4, 4, 5, 5, 7, 9}: mean 40/8 = 5; squared deviations 9+1+1+1+0+0+4+16 = 32,
  // population variance 32/8 = 4, std 2 (the sample std would be sqrt(32/7) ≈ 2.138).
  const Tensor x = tensor<std::int32_t>({4, 2}, {2, 4, 4, 4, 5, 5, 7, 9});
  const Tensor y = tensor<std::uint8_t>({4}, {0, 2, 2, 1});
  const Outputs out = describe(x, &y);
  CHECK(scalar_f64(out, "mean") == 5.0);
  CHECK(scalar_f64(out, "std") == doctest::Approx(2.0).epsilon(1e-12));
  CHECK(rows_of(out) == 4);
  CHECK(counts_of(out) == std::vector<std::int64_t>{1, 1, 2});
}

TEST_CASE("describe: float values, a rank-3 tensor") {
  // x [2, 2, 2] float32 = {0.5, 1.5, -1, 3, 0, 2, 2.5, -0.5}: sum 8, mean 1;
  // squared deviations 0.25 + 0.25 + 4 + 4 + 1 + 1 + 2.25 + 2.25 = 15, variance 15/8.
  const Tensor x = tensor<float>({2, 2, 2}, {0.5f, 1.5f, -1.0f, 3.0f, 0.0f, 2.0f, 2.5f, -0.5f});
  const Outputs out = describe(x);
  CHECK(scalar_f64(out, "mean") == doctest::Approx(1.0).epsilon(1e-12));
  CHECK(scalar_f64(out, "std") == doctest::Approx(std::sqrt(15.0 / 8.0)).epsilon(1e-12));
  CHECK(rows_of(out) == 2);
}

TEST_CASE("describe: a constant tensor has std 0, a scalar counts as one row") {
  const Outputs c = describe(tensor<double>({3}, {7.25, 7.25, 7.25}));
  CHECK(scalar_f64(c, "mean") == 7.25);
  CHECK(scalar_f64(c, "std") == 0.0);
  CHECK(rows_of(c) == 3);
  const Outputs s = describe(Tensor::scalar(-4.0));
  CHECK(scalar_f64(s, "mean") == -4.0);
  CHECK(scalar_f64(s, "std") == 0.0);
  CHECK(rows_of(s) == 1);
}

TEST_CASE("describe: class counts cover every label up to the largest, gaps included") {
  const Tensor x = tensor<float>({3, 1}, {1, 2, 3});
  SUBCASE("labels {0, 2, 2} → [1, 0, 2]") {
    const Tensor y = tensor<std::uint8_t>({3}, {0, 2, 2});
    CHECK(counts_of(describe(x, &y)) == std::vector<std::int64_t>{1, 0, 2});
  }
  SUBCASE("labels {3, 3, 1} as int64 → [0, 1, 0, 2]") {
    const Tensor y = tensor<std::int64_t>({3}, {3, 3, 1});
    CHECK(counts_of(describe(x, &y)) == std::vector<std::int64_t>{0, 1, 0, 2});
  }
  SUBCASE("integral float labels {1, 0, 1} → [1, 2]") {
    const Tensor y = tensor<float>({3}, {1.0f, 0.0f, 1.0f});
    CHECK(counts_of(describe(x, &y)) == std::vector<std::int64_t>{1, 2});
  }
}

TEST_CASE("describe: without y the class counts are empty") {
  const Outputs out = describe(tensor<float>({2, 2}, {1, 2, 3, 4}));
  const Tensor& c = out.at("class_counts");
  CHECK(c.dtype == DType::i64);
  CHECK(c.shape == std::vector<std::size_t>{0});
  CHECK(c.size() == 0);
  CHECK(out.size() == 4);
}

TEST_CASE("describe: bad labels and bad x are errors") {
  const Tensor x = tensor<float>({3}, {1, 2, 3});
  SUBCASE("a negative label") {
    const Tensor y = tensor<std::int32_t>({3}, {0, -1, 2});
    const std::string e = error_of([&] { describe(x, &y); });
    CHECK_CONTAINS(e, "non-negative integers");
  }
  SUBCASE("a fractional label") {
    const Tensor y = tensor<double>({3}, {0, 1.5, 2});
    const std::string e = error_of([&] { describe(x, &y); });
    CHECK_CONTAINS(e, "non-negative integers");
  }
  SUBCASE("a NaN label") {
    const Tensor y = tensor<double>({3}, {0, std::nan(""), 2});
    const std::string e = error_of([&] { describe(x, &y); });
    CHECK_CONTAINS(e, "non-negative integers");
  }
  SUBCASE("labels that do not match the rows") {
    const Tensor y = tensor<std::int32_t>({2}, {0, 1});
    CHECK_CONTAINS(error_of([&] { describe(x, &y); }), "y has 2 labels for 3 rows of x");
  }
  SUBCASE("string x") {
    const std::string e = error_of([&] { describe(Tensor::text({"a", "b"})); });
    CHECK_CONTAINS(e, "numeric");
  }
}
