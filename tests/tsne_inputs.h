// Inputs shared by the t-SNE tests: points, their distances, labelled clusters, the op's params,
// the op run on many threads and on one, and the neighbourhood hit of a layout.
#pragma once
#include <oneapi/tbb/global_control.h>
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "nodes/common/random.h"
#include "nodes/metrics/ops.h"
#include "nodes/projection/ops.h"
#include "pipeline/schema.h"

namespace untangle::test {

// n points in d dimensions, uniform in a cube of the given side centred on the origin.
inline std::vector<double> uniform_points(std::size_t n, std::size_t d, double side, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<double> v(n * d);
  for (auto& x : v) x = (rng.uniform() - 0.5) * side;
  return v;
}

inline std::vector<double> squared_distances(const std::vector<double>& x, std::size_t n, std::size_t d) {
  std::vector<double> sq(n * n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j)
      for (std::size_t c = 0; c < d; ++c) sq[i * n + j] += (x[i * d + c] - x[j * d + c]) * (x[i * d + c] - x[j * d + c]);
  return sq;
}

// Three noisy clusters in 5-D, labelled by cluster.
inline void clusters(std::size_t n, Tensor& x, Tensor& labels) {
  Rng rng(4);
  x = Tensor::zeros<float>({n, 5});
  labels = Tensor::zeros<std::int32_t>({n});
  for (std::size_t i = 0; i < n; ++i) {
    labels.data<std::int32_t>()[i] = static_cast<std::int32_t>(i % 3);
    for (std::size_t c = 0; c < 5; ++c)
      x.data<float>()[i * 5 + c] = static_cast<float>((c == i % 3 ? 10.0 : 0.0) + rng.uniform());
  }
}

// The tsne op's params, every one given, with `changes` (a YAML map's entries) applied.
inline YAML::Node tsne_params(const std::string& changes) {
  YAML::Node p = YAML::Load("{perplexity: 10, iterations: 400, early_exaggeration: 12, learning_rate: auto, init: pca, "
                            "seed: 0, method: auto, theta: 0.5, pca_dims: 0, late_exaggeration: 1, "
                            "late_exaggeration_start: 250}");
  for (const auto& kv : YAML::Load("{" + changes + "}")) p[kv.first.as<std::string>()] = kv.second;
  return p;
}

// The tsne op on ctx run as TBB pleases and on one thread, to be compared bit for bit.
inline std::pair<Outputs, Outputs> tsne_on_many_threads_and_one(OpContext& ctx) {
  Outputs many = tsne_op().run(ctx);
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, 1);
  return {std::move(many), tsne_op().run(ctx)};
}

// The neighbourhood hit (k = 6) of a layout.
inline double hit(const Tensor& points, const Tensor& labels) {
  OpContext nh;
  nh.inputs["points"] = {points};
  nh.inputs["labels"] = {labels};
  nh.params = YAML::Load("{k: 6}");
  return neighborhood_hit_op().run(nh).at("overall").at(0);
}

}  // namespace untangle::test
