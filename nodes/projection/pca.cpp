#include <cmath>
#include <stdexcept>

#include <xtensor-blas/xlinalg.hpp>
#include <xtensor/xadapt.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xview.hpp>

#include "nodes/nn/blas.h"
#include "nodes/projection/ops.h"

namespace untangle {

namespace {

Outputs run(OpContext& ctx) {
  const Tensor& x = ctx.input("x");
  if (x.dtype == DType::str || x.shape.empty()) throw std::runtime_error("x must be numeric with a point axis first");
  const std::size_t n = x.shape[0], d = n ? x.size() / n : 0;
  const auto k = static_cast<std::size_t>(ctx.integer("n_components"));
  if (n < 2) throw std::runtime_error("PCA needs at least 2 points, got " + std::to_string(n));
  if (k > d) throw std::runtime_error("n_components = " + std::to_string(k) + " but the points have only " + std::to_string(d) + " dimensions");
  nn::use_single_threaded_blas();  // a fixed summation order: identical results on every run

  xt::xarray<double> xc = xt::zeros<double>({n, d});
  for (std::size_t i = 0; i < n * d; ++i) xc.data()[i] = x.at(i);
  for (std::size_t i = 0; i < n * d; ++i) {
    if (!std::isfinite(xc.data()[i])) throw std::runtime_error("x holds a NaN or infinite value at flat index " + std::to_string(i));
  }
  xt::xarray<double> mean = xt::mean(xc, {0});
  xc -= mean;
  xt::xarray<double> cov = xt::linalg::dot(xt::transpose(xc), xc) / static_cast<double>(n - 1);
  auto [eigval, eigvec] = xt::linalg::eigh(cov);  // ascending eigenvalues, eigenvectors in columns

  double total = 0;
  for (std::size_t j = 0; j < d; ++j) total += std::max(eigval(j), 0.0);
  Tensor components = Tensor::zeros<double>({k, d});
  Tensor ratio = Tensor::zeros<double>({k});
  for (std::size_t c = 0; c < k; ++c) {
    const std::size_t col = d - 1 - c;
    // LAPACK may return either sign; fix it so the largest entry is positive.
    std::size_t big = 0;
    for (std::size_t j = 1; j < d; ++j)
      if (std::abs(eigvec(j, col)) > std::abs(eigvec(big, col))) big = j;
    const double sign = eigvec(big, col) < 0 ? -1.0 : 1.0;
    for (std::size_t j = 0; j < d; ++j) components.data<double>()[c * d + j] = sign * eigvec(j, col);
    ratio.data<double>()[c] = total > 0 ? std::max(eigval(col), 0.0) / total : 0.0;
  }
  auto comp = xt::adapt(components.data<double>(), k * d, xt::no_ownership(), std::vector<std::size_t>{k, d});
  xt::xarray<double> projected = xt::linalg::dot(xc, xt::transpose(comp));
  Tensor points = Tensor::zeros<float>({n, k});
  for (std::size_t i = 0; i < n * k; ++i) points.data<float>()[i] = static_cast<float>(projected.data()[i]);
  return {{"points", points}, {"components", components}, {"explained_variance_ratio", ratio}};
}

}  // namespace

OpSchema pca_op() {
  OpSchema op;
  op.name = "pca";
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
