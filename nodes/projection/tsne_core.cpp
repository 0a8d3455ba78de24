#include "nodes/projection/tsne_core.h"

#include <oneapi/tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "nodes/numeric/elementary.h"

namespace untangle::tsne {

namespace {
constexpr double kTiny = std::numeric_limits<double>::epsilon();  // floor for probabilities
}

void calibrate_row(const double* sq, std::size_t m, double perplexity, double* out) {
  const double target = num::log(perplexity);
  double beta = 1.0, lo = -std::numeric_limits<double>::infinity(), hi = std::numeric_limits<double>::infinity();
  // Distances are measured from the nearest neighbour's: the same probabilities, but the
  // nearest term is exp(0) = 1, so no precision makes the whole row underflow.
  const double nearest = *std::min_element(sq, sq + m);
  for (int step = 0; step < 100; ++step) {
    double sum = 0, weighted = 0;
    for (std::size_t j = 0; j < m; ++j) {
      out[j] = num::exp(-(sq[j] - nearest) * beta);
      sum += out[j];
      weighted += (sq[j] - nearest) * out[j];
    }
    const double entropy = num::log(sum) + beta * weighted / sum;
    for (std::size_t j = 0; j < m; ++j) out[j] /= sum;
    const double diff = entropy - target;
    if (std::abs(diff) <= 1e-5) break;
    if (diff > 0) {  // too flat: sharpen
      lo = beta;
      beta = hi == std::numeric_limits<double>::infinity() ? beta * 2 : (beta + hi) / 2;
    } else {
      hi = beta;
      beta = lo == -std::numeric_limits<double>::infinity() ? beta / 2 : (beta + lo) / 2;
    }
  }
}

std::vector<double> joint_probabilities(const std::vector<double>& d, std::size_t n, double perplexity) {
  std::vector<double> cond(n * n, 0.0);
  tbb::parallel_for(std::size_t(0), n, [&](std::size_t i) {
    std::vector<double> others(n - 1), row(n - 1);
    for (std::size_t j = 0, k = 0; j < n; ++j)
      if (j != i) others[k++] = d[i * n + j];
    calibrate_row(others.data(), n - 1, perplexity, row.data());
    for (std::size_t j = 0, k = 0; j < n; ++j)
      if (j != i) cond[i * n + j] = row[k++];
  });
  std::vector<double> p(n * n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) p[i * n + j] = std::max((cond[i * n + j] + cond[j * n + i]) / (2.0 * n), kTiny);
  return p;
}

double kl_divergence(const std::vector<double>& p, const std::vector<double>& y, std::size_t n) {
  double z = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j)
      if (i != j) {
        const double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
        z += 1.0 / (1.0 + dx * dx + dy * dy);
      }
  double kl = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j)
      if (i != j) {
        const double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
        const double q = std::max(1.0 / (1.0 + dx * dx + dy * dy) / z, kTiny);
        kl += p[i * n + j] * num::log(p[i * n + j] / q);
      }
  return kl;
}

std::vector<double> gradient(const std::vector<double>& p, const std::vector<double>& y, std::size_t n,
                             double exaggeration) {
  // Row sums of the kernel in parallel, then added in row order: the same on any thread count.
  std::vector<double> row_z(n);
  tbb::parallel_for(std::size_t(0), n, [&](std::size_t i) {
    double s = 0;
    for (std::size_t j = 0; j < n; ++j)
      if (j != i) {
        const double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
        s += 1.0 / (1.0 + dx * dx + dy * dy);
      }
    row_z[i] = s;
  });
  double z = 0;
  for (double s : row_z) z += s;
  std::vector<double> g(2 * n);
  tbb::parallel_for(std::size_t(0), n, [&](std::size_t i) {
    double gx = 0, gy = 0;
    for (std::size_t j = 0; j < n; ++j) {
      if (j == i) continue;
      const double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
      const double w = 1.0 / (1.0 + dx * dx + dy * dy);
      const double f = 4.0 * (exaggeration * p[i * n + j] - w / z) * w;
      gx += f * dx;
      gy += f * dy;
    }
    g[2 * i] = gx;
    g[2 * i + 1] = gy;
  });
  return g;
}

}  // namespace untangle::tsne
