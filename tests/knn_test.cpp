// The k-d tree search against sorting every other point by (squared distance, index).
#include <doctest/doctest.h>
#include <oneapi/tbb/global_control.h>

#include <algorithm>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "nodes/metrics/knn.h"
#include "tests/checks.h"

using namespace untangle;

namespace {

std::vector<std::size_t> all_pairs(const std::vector<double>& x, std::size_t n, std::size_t d, std::size_t k) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<std::pair<double, std::size_t>> all;
    for (std::size_t j = 0; j < n; ++j) {
      if (j == i) continue;
      double s = 0;
      for (std::size_t c = 0; c < d; ++c) s += (x[i * d + c] - x[j * d + c]) * (x[i * d + c] - x[j * d + c]);
      all.push_back({s, j});
    }
    std::sort(all.begin(), all.end());
    for (std::size_t m = 0; m < k; ++m) out.push_back(all[m].second);
  }
  return out;
}

// n points of d coordinates, each draw(rng).
template <class Draw>
std::vector<double> points(std::size_t n, std::size_t d, unsigned seed, Draw draw) {
  std::mt19937_64 rng(seed);
  std::vector<double> x(n * d);
  for (double& v : x) v = draw(rng);
  return x;
}

void check_against_all_pairs(const std::vector<double>& x, std::size_t d, const std::vector<std::size_t>& ks) {
  const std::size_t n = x.size() / d;
  for (std::size_t k : ks) {
    CAPTURE(k);
    CHECK(knn::neighbours(x, n, d, k) == all_pairs(x, n, d, k));
  }
}

}  // namespace

TEST_CASE("knn: random points, 2-D and 3-D, as all pairs sorted") {
  std::uniform_real_distribution<double> unit(0, 1);
  std::normal_distribution<double> normal(0, 1);
  for (std::size_t d : {2, 3}) {
    CAPTURE(d);
    check_against_all_pairs(points(600, d, 1, unit), d, {1, 2, 6, 17, 599});
    check_against_all_pairs(points(600, d, 2, normal), d, {1, 6, 40});
  }
}

TEST_CASE("knn: integer grids full of duplicates and ties, as all pairs sorted") {
  // 400 points on 6 × 6 sites: about 11 copies of each point, and each distance shared by many
  // pairs, so the k-th neighbour of most points ties with others that only the index separates.
  std::uniform_int_distribution<int> six(0, 5), four(0, 3);
  check_against_all_pairs(points(400, 2, 3, six), 2, {1, 3, 6, 10, 11, 12, 25, 60, 399});
  check_against_all_pairs(points(400, 3, 4, four), 3, {1, 3, 6, 7, 25, 60, 399});
  // The same ties far from the origin and in steps of 0.1, where differences round.
  std::vector<double> shifted = points(400, 2, 5, six);
  for (double& v : shifted) v = 1e6 + 0.1 * v;
  check_against_all_pairs(shifted, 2, {1, 6, 25});
  // A full lattice, each point once, in shuffled order: no duplicates, ties everywhere.
  std::vector<double> lattice;
  std::vector<int> order(400);
  for (int i = 0; i < 400; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937_64(6));
  for (int i : order) lattice.insert(lattice.end(), {double(i % 20), double(i / 20)});
  check_against_all_pairs(lattice, 2, {1, 4, 5, 8, 9, 12, 20});
  // Every point the same.
  check_against_all_pairs(std::vector<double>(50 * 3, 2.5), 3, {1, 6, 49});
}

TEST_CASE("knn: the same neighbours on one thread as on all") {
  std::uniform_int_distribution<int> six(0, 5);
  const std::vector<double> x = points(2000, 2, 7, six);
  const std::vector<std::size_t> all = knn::neighbours(x, 2000, 2, 6);
  tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
  CHECK(knn::neighbours(x, 2000, 2, 6) == all);
}

TEST_CASE("knn: k out of range and overflowing distances are refused") {
  const std::vector<double> x{0, 0, 1, 1, 2, 2};
  CHECK_CONTAINS(test::error_of([&] { knn::neighbours(x, 3, 2, 0); }), "k must be");
  CHECK_CONTAINS(test::error_of([&] { knn::neighbours(x, 3, 2, 3); }), "k must be");
  CHECK_CONTAINS(test::error_of([] { knn::neighbours({0, 0, 1e200, 0}, 2, 2, 1); }), "overflow");
}
