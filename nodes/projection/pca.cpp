#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "nodes/numeric/eigen.h"
#include "nodes/numeric/gemm.h"
#include "nodes/projection/ops.h"

namespace untangle {

namespace {

// Every number below is one fixed chain of operations on the project's own kernels (numeric/),
// so the components and points are the same bits on every CPU and thread count.
Outputs run(OpContext& ctx) {
  const Tensor& x = ctx.input("x");
  if (x.dtype == DType::str || x.shape.empty()) throw std::runtime_error("x must be numeric with a point axis first");
  const std::size_t n = x.shape[0], d = n ? x.size() / n : 0;
  const auto k = static_cast<std::size_t>(ctx.integer("n_components"));
  if (n < 2) throw std::runtime_error("PCA needs at least 2 points, got " + std::to_string(n));
  if (k > d) throw std::runtime_error("n_components = " + std::to_string(k) + " but the points have only " + std::to_string(d) + " dimensions");

  std::vector<double> xc(n * d);
  for (std::size_t i = 0; i < n * d; ++i) {
    xc[i] = x.at(i);
    if (!std::isfinite(xc[i])) throw std::runtime_error("x holds a NaN or infinite value at flat index " + std::to_string(i));
  }
  std::vector<double> mean(d, 0.0);  // each column summed in row order
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < d; ++j) mean[j] += xc[i * d + j];
  for (double& m : mean) m /= static_cast<double>(n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < d; ++j) xc[i * d + j] -= mean[j];
  std::vector<double> cov(d * d);
  num::gram(n, d, xc.data(), d, cov.data());
  for (double& c : cov) c /= static_cast<double>(n - 1);
  const num::SymmetricEigen eig = num::symmetric_eigen(cov.data(), d);  // ascending

  double total = 0;
  for (std::size_t j = 0; j < d; ++j) total += std::max(eig.values[j], 0.0);
  Tensor components = Tensor::zeros<double>({k, d});
  Tensor ratio = Tensor::zeros<double>({k});
  double* comp = components.data<double>();
  for (std::size_t c = 0; c < k; ++c) {
    const std::size_t col = d - 1 - c;
    auto v = [&](std::size_t j) { return eig.vectors[j * d + col]; };
    // An eigenvector's sign is arbitrary; fix it so the largest entry (the first of equals) is positive.
    std::size_t big = 0;
    for (std::size_t j = 1; j < d; ++j)
      if (std::abs(v(j)) > std::abs(v(big))) big = j;
    const double sign = v(big) < 0 ? -1.0 : 1.0;
    for (std::size_t j = 0; j < d; ++j) comp[c * d + j] = sign * v(j);
    ratio.data<double>()[c] = total > 0 ? std::max(eig.values[col], 0.0) / total : 0.0;
  }
  std::vector<double> projected(n * k);
  num::parallel_gemm({num::Op::none, num::Op::transpose, n, k, d, d, d, k, false}, xc.data(), comp, projected.data());
  Tensor points = Tensor::zeros<float>({n, k});
  for (std::size_t i = 0; i < n * k; ++i) points.data<float>()[i] = static_cast<float>(projected[i]);
  return {{"points", points}, {"components", components}, {"explained_variance_ratio", ratio}};
}

}  // namespace

OpSchema pca_op() {
  OpSchema op;
  op.name = "pca";
  // 2: the covariance, eigenvectors and projection on the project's own kernels, not OpenBLAS and LAPACK.
  op.version = 2;
  op.doc = "Principal component analysis: the points projected on the directions of largest variance.\nRows of x are "
           "points (any trailing shape is flattened); each component's largest entry is positive, so reruns agree.";
  op.inputs = {{"x", "points, first axis = point"}};
  op.outputs = {{"points", "float32 [points, n_components]"},
                {"components", "float64 [n_components, dimensions]: unit directions, largest variance first"},
                {"explained_variance_ratio", "float64 [n_components]: each component's share of the total variance"}};
  ParamSpec k{"n_components", ParamType::integer, "how many components", "2"};
  k.min = 1;
  op.params = {k};
  op.run = run;
  return op;
}

}  // namespace untangle
