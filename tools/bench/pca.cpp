// The pca op on all 70,000 MNIST images (784 → 50 components by default) against the op as it
// was before its numbers moved onto the project's own kernels: covariance by OpenBLAS's dgemm
// and eigenvectors by LAPACK's dsyevd through xtensor-blas, both single-threaded. Alternating
// runs, the median of each. Built and run by tools/bench/pca; see there for the options.
#include <xtensor-blas/xlinalg.hpp>
#include <xtensor/xadapt.hpp>
#include <xtensor/xarray.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "nodes/data/idx.h"
#include "nodes/projection/ops.h"

extern "C" void openblas_set_num_threads(int num_threads);

using namespace untangle;

namespace {

// The op before, as it computed: the covariance through xtensor-blas (dgemm), LAPACK's eigh,
// the largest entry of each component made positive, the projection through dgemm.
Outputs before(const Tensor& x, std::size_t k) {
  openblas_set_num_threads(1);
  const std::size_t n = x.shape[0], d = x.size() / n;
  xt::xarray<double> xc = xt::zeros<double>({n, d});
  for (std::size_t i = 0; i < n * d; ++i) xc.data()[i] = x.at(i);
  xt::xarray<double> mean = xt::mean(xc, {0});
  xc -= mean;
  xt::xarray<double> cov = xt::linalg::dot(xt::transpose(xc), xc) / static_cast<double>(n - 1);
  auto [eigval, eigvec] = xt::linalg::eigh(cov);
  double total = 0;
  for (std::size_t j = 0; j < d; ++j) total += std::max(eigval(j), 0.0);
  Tensor components = Tensor::zeros<double>({k, d});
  Tensor ratio = Tensor::zeros<double>({k});
  for (std::size_t c = 0; c < k; ++c) {
    const std::size_t col = d - 1 - c;
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

Tensor images(const std::string& dir) {
  const Tensor train = read_idx(dir + "/train-images-idx3-ubyte"), test = read_idx(dir + "/t10k-images-idx3-ubyte");
  const std::size_t a = train.shape[0], b = test.shape[0], d = train.size() / a;
  Tensor x = Tensor::zeros<float>({a + b, d});
  for (std::size_t i = 0; i < a * d; ++i) x.data<float>()[i] = static_cast<float>(train.at(i) / 255.0);
  for (std::size_t i = 0; i < b * d; ++i) x.data<float>()[a * d + i] = static_cast<float>(test.at(i) / 255.0);
  return x;
}

double seconds(const std::chrono::steady_clock::time_point& t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = "data/mnist";
  std::size_t k = 50, repeats = 3;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--components" && i + 1 < argc) k = std::strtoul(argv[++i], nullptr, 10);
    else if (a == "--repeats" && i + 1 < argc) repeats = std::strtoul(argv[++i], nullptr, 10);
    else if (a == "--data" && i + 1 < argc) dir = argv[++i];
    else {
      std::fprintf(stderr, "bench_pca: unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  const Tensor x = images(dir);
  OpContext ctx;
  ctx.inputs["x"] = {x};
  ctx.params = YAML::Load("{n_components: " + std::to_string(k) + "}");
  std::fprintf(stderr, "pca: %zu × %zu → %zu, %zu runs each, alternating\n", x.shape[0], x.size() / x.shape[0], k, repeats);
  std::vector<double> ours, theirs;
  Outputs a, b;
  for (std::size_t r = 0; r < repeats; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    a = pca_op().run(ctx);
    ours.push_back(seconds(t0));
    t0 = std::chrono::steady_clock::now();
    b = before(x, k);
    theirs.push_back(seconds(t0));
    std::fprintf(stderr, "  run %zu: untangle %.2f s, before %.2f s\n", r + 1, ours.back(), theirs.back());
  }
  // The two agree to rounding: the same variance ratios, and the same components wherever an
  // eigenvalue stands well apart from its neighbours (both fix the sign the same way).
  const double* ra = a.at("explained_variance_ratio").data<double>();
  const double* rb = b.at("explained_variance_ratio").data<double>();
  double worst_ratio = 0, worst_cos = 0;
  const std::size_t d = x.size() / x.shape[0];
  for (std::size_t c = 0; c < k; ++c) {
    worst_ratio = std::max(worst_ratio, std::abs(ra[c] - rb[c]) / rb[c]);
    const bool apart = (c == 0 || rb[c - 1] - rb[c] > 1e-3 * rb[c]) && (c + 1 == k || rb[c] - rb[c + 1] > 1e-3 * rb[c]);
    if (!apart) continue;
    double dot = 0;
    for (std::size_t j = 0; j < d; ++j)
      dot += a.at("components").data<double>()[c * d + j] * b.at("components").data<double>()[c * d + j];
    worst_cos = std::max(worst_cos, 1 - dot);
  }
  const double ratio = median(ours) / median(theirs);
  std::printf("pca of %zu x %zu to %zu: untangle %.2f s, before (OpenBLAS dgemm + LAPACK dsyevd) %.2f s: ratio %.2f "
              "(target <= 1)\n",
              x.shape[0], d, k, median(ours), median(theirs), ratio);
  std::printf("agreement: variance ratios within %.1e (relative), separated components' 1 - cos %.1e\n", worst_ratio,
              worst_cos);
  return ratio <= 1.0 && worst_ratio < 1e-8 && worst_cos < 1e-8 ? 0 : 1;
}
