#include <cmath>
#include <stdexcept>

#include "nodes/core/ops.h"

namespace untangle {

namespace {

Outputs run(OpContext& ctx) {
  const auto& xs = ctx.inputs.at("x");
  const auto& labels = ctx.labels.at("x");
  if (xs.empty()) throw std::runtime_error("nothing to aggregate");
  const auto shape = xs.front().shape;
  const std::size_t n = xs.size(), m = xs.front().size();
  for (std::size_t k = 0; k < n; ++k) {
    if (xs[k].dtype == DType::str) throw std::runtime_error("cannot aggregate strings (" + labels[k] + ")");
    if (xs[k].shape != shape)
      throw std::runtime_error("instances differ in shape: " + shape_string(shape) + " and " + shape_string(xs[k].shape) +
                               " (" + labels[k] + ")");
  }
  std::vector<std::size_t> stacked{n};
  stacked.insert(stacked.end(), shape.begin(), shape.end());
  Tensor values = Tensor::zeros<double>(stacked);
  Tensor mean = Tensor::zeros<double>(shape), sd = mean, lo = mean, hi = mean;
  double* v = values.data<double>();
  for (std::size_t k = 0; k < n; ++k)
    for (std::size_t j = 0; j < m; ++j) v[k * m + j] = xs[k].at(j);
  for (std::size_t j = 0; j < m; ++j) {
    double s = 0, a = v[j], b = v[j];
    for (std::size_t k = 0; k < n; ++k) s += v[k * m + j], a = std::min(a, v[k * m + j]), b = std::max(b, v[k * m + j]);
    const double mu = s / n;
    double ss = 0;
    for (std::size_t k = 0; k < n; ++k) ss += (v[k * m + j] - mu) * (v[k * m + j] - mu);
    mean.data<double>()[j] = mu;
    sd.data<double>()[j] = n > 1 ? std::sqrt(ss / (n - 1)) : 0.0;
    lo.data<double>()[j] = a;
    hi.data<double>()[j] = b;
  }
  // The best instance by its value, or by the mean of its values for a tensor; first wins ties.
  const bool want_max = ctx.string("best") == "max";
  std::size_t best = 0;
  std::vector<double> score(n, 0);
  for (std::size_t k = 0; k < n; ++k) {
    for (std::size_t j = 0; j < m; ++j) score[k] += v[k * m + j] / m;
    if (want_max ? score[k] > score[best] : score[k] < score[best]) best = k;
  }
  Tensor best_name;
  best_name.dtype = DType::str;
  best_name.strings = {labels[best]};
  return {{"values", values}, {"instances", Tensor::text(labels)}, {"mean", mean}, {"sd", sd}, {"min", lo},
          {"max", hi}, {"best", best_name}, {"best_value", Tensor::scalar(score[best])}};
}

}  // namespace

OpSchema aggregate_op() {
  OpSchema op;
  op.name = "aggregate";
  op.light = true;
  op.doc =
      "Gathers one output across the instances of a sweep into a table: mean, sample standard deviation, min, max and "
      "the best instance.\nTensors are aggregated element by element. Connect `x` to a swept node's port; `over:` on "
      "the node limits which swept vars are gathered (default: all).";
  op.inputs = {{"x", "the output to gather, from every instance of a swept node", false, true}};
  op.outputs = {{"values", "float64 [instances, ...]: each instance's value"},
                {"instances", "string [instances]: which instance each row is, e.g. seed=3"},
                {"mean", "mean over instances"},
                {"sd", "sample standard deviation over instances (0 for one instance)"},
                {"min", "minimum over instances"},
                {"max", "maximum over instances"},
                {"best", "the best instance, e.g. seed=3"},
                {"best_value", "its value (the mean of its values for a tensor)"}};
  ParamSpec best{"best", ParamType::choice, "whether the largest or the smallest value is best", "max"};
  best.choices = {"max", "min"};
  op.params = {best};
  op.run = run;
  return op;
}

}  // namespace untangle
