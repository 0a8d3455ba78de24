// neighborhood_hit on N two-dimensional points (default 70,000, k = 6): the op as it is, through
// its k-d tree, against the all-pairs search it replaced, on the same points. Built and run by
// tools/bench/neighbors; see there for the options.
#include <oneapi/tbb/parallel_for.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "nodes/metrics/ops.h"

using namespace untangle;

namespace {

constexpr double kTarget = 1.0;  // seconds for the op on 70,000 points

// Ten overlapping Gaussian clouds on a circle, in float32 as the tsne op gives them: a t-SNE
// embedding's shape, with its crowded borders between classes.
OpContext embedding(std::size_t n, int k) {
  std::mt19937_64 rng(1);
  std::normal_distribution<double> spread(0, 6);
  Tensor pts = Tensor::zeros<float>({n, 2});
  Tensor lab = Tensor::zeros<std::int32_t>({n});
  for (std::size_t i = 0; i < n; ++i) {
    const int c = static_cast<int>(rng() % 10);
    const double angle = 2 * M_PI * c / 10;
    pts.data<float>()[2 * i] = static_cast<float>(30 * std::cos(angle) + spread(rng));
    pts.data<float>()[2 * i + 1] = static_cast<float>(30 * std::sin(angle) + spread(rng));
    lab.data<std::int32_t>()[i] = c;
  }
  OpContext ctx;
  ctx.inputs["points"] = {pts};
  ctx.inputs["labels"] = {lab};
  ctx.params = YAML::Load("{k: " + std::to_string(k) + "}");
  return ctx;
}

// The op's computation before the k-d tree: every pair, over TBB, ties to the lower index.
Outputs all_pairs(const OpContext& ctx) {
  const Tensor& pts = ctx.input("points");
  const Tensor& lab = ctx.input("labels");
  const std::size_t n = pts.shape[0], d = pts.shape[1];
  const auto k = static_cast<std::size_t>(ctx.integer("k"));
  std::vector<double> x(n * d);
  for (std::size_t i = 0; i < n * d; ++i) x[i] = pts.at(i);
  std::vector<double> hit(n);
  tbb::parallel_for(std::size_t(0), n, [&](std::size_t i) {
    std::vector<std::pair<double, std::size_t>> dist;
    dist.reserve(n - 1);
    for (std::size_t j = 0; j < n; ++j) {
      if (j == i) continue;
      double s = 0;
      for (std::size_t c = 0; c < d; ++c) s += (x[i * d + c] - x[j * d + c]) * (x[i * d + c] - x[j * d + c]);
      dist.push_back({s, j});
    }
    std::partial_sort(dist.begin(), dist.begin() + static_cast<long>(k), dist.end());
    std::size_t same = 0;
    for (std::size_t m = 0; m < k; ++m) same += lab.at(dist[m].second) == lab.at(i);
    hit[i] = static_cast<double>(same) / k;
  });
  std::map<double, std::pair<double, std::size_t>> by_class;
  for (std::size_t i = 0; i < n; ++i) {
    auto& c = by_class[lab.at(i)];
    c.first += hit[i];
    c.second++;
  }
  Tensor per_class = Tensor::zeros<double>({by_class.size()});
  std::size_t j = 0;
  for (const auto& [label, c] : by_class) per_class.data<double>()[j++] = c.first / c.second;
  return {{"overall", Tensor::scalar(std::accumulate(hit.begin(), hit.end(), 0.0) / n)}, {"per_class", per_class}};
}

// Median seconds of `repeats` calls of f, and its last result.
template <class F>
double timed(int repeats, F f, Outputs& out) {
  std::vector<double> s;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    out = f();
    s.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(s.begin(), s.end());
  return s[s.size() / 2];
}

bool same_bits(const Tensor& a, const Tensor& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double x = a.at(i), y = b.at(i);
    if (std::memcmp(&x, &y, sizeof x) != 0) return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t n = 70000;
  int k = 6, repeats = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--n")
      n = std::strtoul(argv[i + 1], nullptr, 10);
    else if (a == "--k")
      k = std::atoi(argv[i + 1]);
    else if (a == "--repeats")
      repeats = std::max(1, std::atoi(argv[i + 1]));
    else
      return std::fprintf(stderr, "unknown option %s\n", argv[i]), 2;
  }
  if (argc % 2 == 0 || n < 2 || k < 1 || static_cast<std::size_t>(k) >= n)
    return std::fprintf(stderr, "usage: neighbors [--n N] [--k K] [--repeats R]\n"), 2;

  OpContext ctx = embedding(n, k);
  // Other work on the cores slows both sides, the all-pairs search most: say how busy they were.
  double load = 0;
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &load) != 1) load = 0;
    std::fclose(f);
  }
  Outputs tree, pairs;
  const double t_tree = timed(repeats, [&] { return neighborhood_hit_op().run(ctx); }, tree);
  std::fprintf(stderr, "neighbors: the k-d tree took %.3f s (median of %d); now all pairs, once...\n", t_tree, repeats);
  const double t_pairs = timed(1, [&] { return all_pairs(ctx); }, pairs);
  const bool same = same_bits(tree.at("overall"), pairs.at("overall")) && same_bits(tree.at("per_class"), pairs.at("per_class"));

  std::printf("neighborhood_hit, %zu 2-D points, k = %d; %u cores, load average %.2f at the start\n", n, k,
              std::thread::hardware_concurrency(), load);
  std::printf("  k-d tree (the op)  %8.3f s   overall %.17g\n", t_tree, tree.at("overall").at(0));
  std::printf("  all pairs (before) %8.3f s   overall %.17g\n", t_pairs, pairs.at("overall").at(0));
  std::printf("  k-d tree / all pairs: %.4f (%.0fx faster); outputs %s\n", t_tree / t_pairs, t_pairs / t_tree,
              same ? "bit-identical" : "DIFFER");
  const bool fast = n != 70000 || t_tree <= kTarget;
  if (n == 70000) std::printf("  target: the op <= %.1f s on 70,000 points: %s\n", kTarget, fast ? "met" : "MISSED");
  return same && fast ? 0 : 1;
}
