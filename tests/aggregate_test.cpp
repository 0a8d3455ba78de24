#include <doctest/doctest.h>

// The core ops: aggregate (gathering a sweep into statistics) against hand-computed values,
// and the constant and add ops.
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "nodes/core/ops.h"
#include "tests/checks.h"

using namespace untangle;
using untangle::test::error_of;

namespace {

Tensor vec(const std::vector<double>& v) {
  Tensor t = Tensor::zeros<double>({v.size()});
  for (std::size_t i = 0; i < v.size(); ++i) t.data<double>()[i] = v[i];
  return t;
}

Outputs aggregate(const std::vector<Tensor>& xs, const std::vector<std::string>& labels, const std::string& best = "max") {
  OpContext ctx;
  ctx.params = YAML::Load("{best: " + best + "}");
  ctx.inputs["x"] = xs;
  ctx.labels["x"] = labels;
  return aggregate_op().run(ctx);
}

// A float64 output as a flat vector, checking its shape.
std::vector<double> values_of(const Outputs& out, const std::string& name, const std::vector<std::size_t>& shape) {
  const Tensor& t = out.at(name);
  REQUIRE(t.dtype == DType::f64);
  REQUIRE(t.shape == shape);
  return std::vector<double>(t.data<double>(), t.data<double>() + t.size());
}

double scalar_of(const Outputs& out, const std::string& name) {
  const auto v = values_of(out, name, {});
  REQUIRE(v.size() == 1);
  return v[0];
}

std::string best_of(const Outputs& out) {
  const Tensor& b = out.at("best");
  REQUIRE(b.dtype == DType::str);
  REQUIRE(b.strings.size() == 1);
  return b.strings[0];
}

const std::vector<std::string> kSeeds{"seed=1", "seed=2", "seed=3"};

}  // namespace

TEST_CASE("aggregate: scalars give mean, sample sd, min, max and the best instance") {
  // {0.90, 0.94, 0.92}: mean 0.92; deviations -0.02, 0.02, 0; sum of squares 0.0008,
  // sample variance 0.0008 / 2 = 0.0004, sd 0.02 (the population sd would be 0.0163).
  const std::vector<Tensor> xs{Tensor::scalar(0.90), Tensor::scalar(0.94), Tensor::scalar(0.92)};
  const Outputs out = aggregate(xs, kSeeds);
  CHECK(out.size() == 8);
  CHECK(scalar_of(out, "mean") == doctest::Approx(0.92).epsilon(1e-12));
  CHECK(scalar_of(out, "sd") == doctest::Approx(0.02).epsilon(1e-9));
  CHECK(scalar_of(out, "min") == 0.90);
  CHECK(scalar_of(out, "max") == 0.94);
  CHECK(best_of(out) == "seed=2");
  CHECK(scalar_of(out, "best_value") == 0.94);
  CHECK(values_of(out, "values", {3}) == std::vector<double>{0.90, 0.94, 0.92});
  const Tensor& inst = out.at("instances");
  CHECK(inst.dtype == DType::str);
  CHECK(inst.shape == std::vector<std::size_t>{3});
  CHECK(inst.strings == kSeeds);

  SUBCASE("best: min picks the smallest") {
    const Outputs lo = aggregate(xs, kSeeds, "min");
    CHECK(best_of(lo) == "seed=1");
    CHECK(scalar_of(lo, "best_value") == 0.90);
    CHECK(scalar_of(lo, "mean") == doctest::Approx(0.92).epsilon(1e-12));  // the statistics do not change
  }
}

TEST_CASE("aggregate: integer scalars are converted to float64") {
  const Outputs out = aggregate({Tensor::scalar<std::int64_t>(3), Tensor::scalar<std::int64_t>(7)}, {"n=3", "n=7"}, "min");
  CHECK(scalar_of(out, "mean") == 5.0);
  CHECK(scalar_of(out, "sd") == doctest::Approx(std::sqrt(8.0)));  // (4 + 4) / 1
  CHECK(values_of(out, "values", {2}) == std::vector<double>{3.0, 7.0});
  CHECK(best_of(out) == "n=3");
}

TEST_CASE("aggregate: 1-D tensors element by element") {
  // Three instances of shape [3]:
  //   a = {1, 10, -2}, b = {3, 10, 4}, c = {5, 10, 1}
  // element 0: mean 3, deviations -2, 0, 2 → sd sqrt(8/2) = 2, min 1, max 5
  // element 1: all 10 → sd 0
  // element 2: mean 1, deviations -3, 3, 0 → sd sqrt(18/2) = 3, min -2, max 4
  // instance means: a 3, b 17/3, c 16/3 → best max b, best min a.
  const std::vector<Tensor> xs{vec({1, 10, -2}), vec({3, 10, 4}), vec({5, 10, 1})};
  const std::vector<std::string> names{"lr=0.1", "lr=0.01", "lr=0.001"};
  const Outputs out = aggregate(xs, names);
  const auto mean = values_of(out, "mean", {3});
  const auto sd = values_of(out, "sd", {3});
  CHECK(mean[0] == doctest::Approx(3.0));
  CHECK(mean[1] == doctest::Approx(10.0));
  CHECK(mean[2] == doctest::Approx(1.0));
  CHECK(sd[0] == doctest::Approx(2.0));
  CHECK(sd[1] == 0.0);
  CHECK(sd[2] == doctest::Approx(3.0));
  CHECK(values_of(out, "min", {3}) == std::vector<double>{1, 10, -2});
  CHECK(values_of(out, "max", {3}) == std::vector<double>{5, 10, 4});
  CHECK(values_of(out, "values", {3, 3}) == std::vector<double>{1, 10, -2, 3, 10, 4, 5, 10, 1});
  CHECK(best_of(out) == "lr=0.01");
  CHECK(scalar_of(out, "best_value") == doctest::Approx(17.0 / 3));
  const Outputs lo = aggregate(xs, names, "min");
  CHECK(best_of(lo) == "lr=0.1");
  CHECK(scalar_of(lo, "best_value") == doctest::Approx(3.0));
}

TEST_CASE("aggregate: 2-D tensors keep their shape, values stack in front") {
  Tensor a = Tensor::zeros<float>({2, 2}), b = Tensor::zeros<float>({2, 2});
  for (std::size_t i = 0; i < 4; ++i) {
    a.data<float>()[i] = static_cast<float>(i);       // 0 1 2 3
    b.data<float>()[i] = static_cast<float>(2 * i);   // 0 2 4 6
  }
  const Outputs out = aggregate({a, b}, {"k=1", "k=2"});
  CHECK(values_of(out, "mean", {2, 2}) == std::vector<double>{0, 1.5, 3, 4.5});
  CHECK(values_of(out, "values", {2, 2, 2}) == std::vector<double>{0, 1, 2, 3, 0, 2, 4, 6});
  const auto sd = values_of(out, "sd", {2, 2});
  // Two values u, v: sample sd |u - v| / sqrt(2).
  for (std::size_t i = 0; i < 4; ++i) CHECK(sd[i] == doctest::Approx(static_cast<double>(i) / std::sqrt(2.0)));
}

TEST_CASE("aggregate: a single instance has sd 0 and is the best") {
  const Outputs out = aggregate({vec({2.5, -1})}, {"seed=7"});
  CHECK(values_of(out, "mean", {2}) == std::vector<double>{2.5, -1});
  CHECK(values_of(out, "sd", {2}) == std::vector<double>{0, 0});
  CHECK(values_of(out, "min", {2}) == std::vector<double>{2.5, -1});
  CHECK(values_of(out, "max", {2}) == std::vector<double>{2.5, -1});
  CHECK(values_of(out, "values", {1, 2}) == std::vector<double>{2.5, -1});
  CHECK(best_of(out) == "seed=7");
  CHECK(scalar_of(out, "best_value") == doctest::Approx(0.75));
}

TEST_CASE("aggregate: ties go to the first instance") {
  const std::vector<Tensor> xs{Tensor::scalar(0.5), Tensor::scalar(0.7), Tensor::scalar(0.7), Tensor::scalar(0.5)};
  const std::vector<std::string> names{"s=a", "s=b", "s=c", "s=d"};
  CHECK(best_of(aggregate(xs, names, "max")) == "s=b");
  CHECK(best_of(aggregate(xs, names, "min")) == "s=a");
}

TEST_CASE("aggregate: errors") {
  SUBCASE("instances of different shapes") {
    const std::string e = error_of([&] { aggregate({vec({1, 2}), vec({1, 2, 3})}, {"seed=1", "seed=2"}); });
    CHECK_CONTAINS(e, "differ in shape");
    CHECK_CONTAINS(e, "[2]");
    CHECK_CONTAINS(e, "[3]");
    CHECK_CONTAINS(e, "seed=2");
  }
  SUBCASE("a scalar and a 1-element vector differ in shape") {
    const std::string e = error_of([&] { aggregate({Tensor::scalar(1.0), vec({1})}, {"seed=1", "seed=2"}); });
    CHECK_CONTAINS(e, "differ in shape");
  }
  SUBCASE("strings") {
    const std::string e = error_of([&] { aggregate({vec({1}), Tensor::text({"x"})}, {"seed=1", "seed=2"}); });
    CHECK_CONTAINS(e, "cannot aggregate strings");
    CHECK_CONTAINS(e, "seed=2");
  }
  SUBCASE("nothing to aggregate") {
    const std::string e = error_of([&] { aggregate({}, {}); });
    CHECK_CONTAINS(e, "nothing to aggregate");
  }
}

TEST_CASE("constant: its value as a float64 scalar") {
  OpContext ctx;
  ctx.params = YAML::Load("{value: 2.5}");
  const Outputs out = constant_op().run(ctx);
  REQUIRE(out.size() == 1);
  const Tensor& y = out.at("y");
  CHECK(y.dtype == DType::f64);
  CHECK(y.is_scalar());
  CHECK(y.data<double>()[0] == 2.5);

  ctx.params = YAML::Load("{value: -1e-3}");
  CHECK(constant_op().run(ctx).at("y").data<double>()[0] == -0.001);
}

TEST_CASE("add: a + b + c, with b optional") {
  const OpSchema op = add_op();
  OpContext ctx;
  ctx.params = YAML::Load("{c: 0.5}");
  ctx.inputs["a"] = {Tensor::scalar(1.25)};

  SUBCASE("with b") {
    ctx.inputs["b"] = {Tensor::scalar(2.0)};
    const Tensor y = op.run(ctx).at("y");
    CHECK(y.dtype == DType::f64);
    CHECK(y.is_scalar());
    CHECK(y.data<double>()[0] == 3.75);
  }
  SUBCASE("without b") {
    CHECK(op.run(ctx).at("y").data<double>()[0] == 1.75);
  }
  SUBCASE("an unconnected b (empty port) counts as absent") {
    ctx.inputs["b"] = {};
    CHECK(op.run(ctx).at("y").data<double>()[0] == 1.75);
  }
  SUBCASE("integer inputs") {
    ctx.inputs["a"] = {Tensor::scalar<std::int32_t>(-4)};
    ctx.inputs["b"] = {Tensor::scalar<std::uint8_t>(200)};
    CHECK(op.run(ctx).at("y").data<double>()[0] == 196.5);
  }
  SUBCASE("missing a is an error") {
    ctx.inputs.erase("a");
    const std::string e = error_of([&] { op.run(ctx); });
    CHECK_CONTAINS(e, "'a'");
  }
}
