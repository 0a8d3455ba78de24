#include <cmath>
#include <stdexcept>

#include "nodes/data/ops.h"

namespace untangle {

namespace {

Outputs run(OpContext& ctx) {
  const Tensor& x = ctx.input("x");
  if (x.dtype == DType::str) throw std::runtime_error("x must be numeric");
  const std::size_t n = x.size();
  // Two passes in a fixed order keep the result identical on every run.
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) sum += x.at(i);
  const double mean = n ? sum / n : 0;
  double ss = 0;
  for (std::size_t i = 0; i < n; ++i) ss += (x.at(i) - mean) * (x.at(i) - mean);
  Outputs out{{"mean", Tensor::scalar(mean)},
              {"std", Tensor::scalar(n ? std::sqrt(ss / n) : 0.0)},
              {"rows", Tensor::scalar<std::int64_t>(x.shape.empty() ? 1 : static_cast<std::int64_t>(x.shape[0]))}};
  std::vector<std::int64_t> counts;
  if (ctx.has("y")) {
    const Tensor& y = ctx.input("y");
    if (x.shape.empty() || y.size() != x.shape[0])
      throw std::runtime_error("y has " + std::to_string(y.size()) + " labels for " +
                               std::to_string(x.shape.empty() ? 1 : x.shape[0]) + " rows of x");
    for (std::size_t i = 0; i < y.size(); ++i) {
      const double v = y.at(i);
      if (v < 0 || v != std::floor(v) || v > 1e6) throw std::runtime_error("labels must be non-negative integers");
      if (counts.size() <= static_cast<std::size_t>(v)) counts.resize(static_cast<std::size_t>(v) + 1, 0);
      counts[static_cast<std::size_t>(v)]++;
    }
  }
  Tensor c = Tensor::zeros<std::int64_t>({counts.size()});
  std::copy(counts.begin(), counts.end(), c.data<std::int64_t>());
  out["class_counts"] = c;
  return out;
}

}  // namespace

OpSchema describe_op() {
  OpSchema op;
  op.name = "describe";
  op.doc = "Summary statistics of a set: mean and standard deviation of every value of x, its row count, and how many "
           "rows carry each label.";
  op.inputs = {{"x", "any numeric tensor"}, {"y", "integer labels", true}};
  op.outputs = {{"mean", "mean of all values of x"},
                {"std", "population standard deviation of all values of x"},
                {"rows", "rows of x (its first axis)"},
                {"class_counts", "int64 [max label + 1]: rows per label (empty without y)"}};
  op.run = run;
  return op;
}

}  // namespace untangle
