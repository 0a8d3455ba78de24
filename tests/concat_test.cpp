#include <doctest/doctest.h>

// The concat op: rows joined in the order listed, and refusals of sets that do not fit together.
#include <cstdint>

#include "nodes/data/ops.h"
#include "tests/checks.h"

using namespace untangle;
using untangle::test::error_of;

namespace {

// n rows of 2 int32 values, row i holding (start + i, -(start + i)).
Tensor rows(std::size_t n, std::int32_t start) {
  Tensor t = Tensor::zeros<std::int32_t>({n, 2});
  for (std::size_t i = 0; i < n; ++i) {
    t.data<std::int32_t>()[2 * i] = start + static_cast<std::int32_t>(i);
    t.data<std::int32_t>()[2 * i + 1] = -(start + static_cast<std::int32_t>(i));
  }
  return t;
}

Outputs join(std::vector<Tensor> xs) {
  OpContext ctx;
  ctx.params = YAML::Load("{}");
  for (std::size_t k = 0; k < xs.size(); ++k) ctx.labels["x"].push_back("part" + std::to_string(k) + ".y");
  ctx.inputs["x"] = std::move(xs);
  return concat_op().run(ctx);
}

}  // namespace

TEST_CASE("concat: rows of every input, one after another in the order listed") {
  const Tensor y = join({rows(3, 100), rows(1, 7), rows(2, 50)}).at("y");
  REQUIRE(y.dtype == DType::i32);
  REQUIRE(y.shape == std::vector<std::size_t>{6, 2});
  const std::vector<std::int32_t> want{100, 101, 102, 7, 50, 51};
  for (std::size_t i = 0; i < 6; ++i) {
    CHECK(y.data<std::int32_t>()[2 * i] == want[i]);
    CHECK(y.data<std::int32_t>()[2 * i + 1] == -want[i]);
  }
  Tensor a, b;
  a.dtype = b.dtype = DType::str;
  a.shape = {2};
  a.strings = {"x", "y"};
  b.shape = {1};
  b.strings = {"z"};
  CHECK(join({a, b}).at("y").strings == std::vector<std::string>{"x", "y", "z"});
}

TEST_CASE("concat: inputs of another type or row shape, or a scalar, are errors naming them") {
  CHECK(error_of([] { join({rows(2, 0), Tensor::zeros<float>({2, 2})}); }) == "part1.y is float32 but part0.y is int32");
  CHECK(error_of([] { join({rows(2, 0), Tensor::zeros<std::int32_t>({2, 3})}); }) ==
        "part1.y has rows of shape [3] but part0.y has rows of shape [2]");
  CHECK(error_of([] { join({rows(2, 0), Tensor::zeros<std::int32_t>({4})}); }) ==
        "part1.y has rows of shape [] but part0.y has rows of shape [2]");
  CHECK(error_of([] { join({Tensor::scalar(1.0)}); }) == "part0.y is a scalar; concat joins rows (first axis)");
  CHECK_CONTAINS(error_of([] { join({Tensor::zeros<double>({4}), Tensor::scalar(1.0)}); }), "part1.y has rows of shape");
}
