#include <doctest/doctest.h>

// The subset op: first, random and stratified modes against answers worked out by hand
// (and, for random draws, against properties every correct draw has).
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "nodes/data/ops.h"
#include "tests/checks.h"

using namespace untangle;
using untangle::test::error_of;

namespace {

// x row i is (i, 1000 + i) as int32, so every output row says which input row it was.
Tensor rows_x(std::size_t N) {
  Tensor x = Tensor::zeros<std::int32_t>({N, 2});
  for (std::size_t i = 0; i < N; ++i) {
    x.data<std::int32_t>()[2 * i] = static_cast<std::int32_t>(i);
    x.data<std::int32_t>()[2 * i + 1] = static_cast<std::int32_t>(1000 + i);
  }
  return x;
}

Tensor labels_u8(const std::vector<int>& v) {
  Tensor y = Tensor::zeros<std::uint8_t>({v.size()});
  for (std::size_t i = 0; i < v.size(); ++i) y.data<std::uint8_t>()[i] = static_cast<std::uint8_t>(v[i]);
  return y;
}

// The label of row i in the random tests: a pattern unrelated to the order of draws.
int label_of(std::size_t i) { return static_cast<int>((i * 7 + 3) % 10); }

std::vector<int> pattern_labels(std::size_t N) {
  std::vector<int> v(N);
  for (std::size_t i = 0; i < N; ++i) v[i] = label_of(i);
  return v;
}

Outputs run_subset(const Tensor& x, const Tensor& y, const std::string& params) {
  OpContext ctx;
  ctx.params = YAML::Load(params);
  ctx.inputs["x"] = {x};
  ctx.inputs["y"] = {y};
  return subset_op().run(ctx);
}

// The input rows an output came from, checking that every row's x and y belong together.
std::vector<std::size_t> chosen_rows(const Outputs& out, std::size_t n, const std::vector<int>& input_labels) {
  const Tensor& x = out.at("x");
  const Tensor& y = out.at("y");
  REQUIRE(x.dtype == DType::i32);
  REQUIRE(x.shape == std::vector<std::size_t>{n, 2});
  REQUIRE(y.shape == std::vector<std::size_t>{n});
  std::vector<std::size_t> rows;
  for (std::size_t r = 0; r < n; ++r) {
    const std::int32_t a = x.data<std::int32_t>()[2 * r], b = x.data<std::int32_t>()[2 * r + 1];
    REQUIRE(a >= 0);
    REQUIRE(static_cast<std::size_t>(a) < input_labels.size());
    CHECK_MESSAGE(b == 1000 + a, "row " << r << " mixes input rows");
    CHECK_MESSAGE(y.at(r) == input_labels[static_cast<std::size_t>(a)], "row " << r << " has another row's label");
    rows.push_back(static_cast<std::size_t>(a));
  }
  return rows;
}

void check_distinct_increasing(const std::vector<std::size_t>& rows) {
  for (std::size_t i = 1; i < rows.size(); ++i) CHECK_MESSAGE(rows[i - 1] < rows[i], "rows " << i - 1 << ", " << i);
}

std::map<int, std::size_t> count_labels(const Tensor& y) {
  std::map<int, std::size_t> c;
  for (std::size_t i = 0; i < y.size(); ++i) c[static_cast<int>(y.at(i))]++;
  return c;
}

}  // namespace

TEST_CASE("subset first: the first n rows, exactly") {
  // Float x of shape [6, 2] with x[i] = (i + 0.5, -i), labels chosen by hand.
  Tensor x = Tensor::zeros<float>({6, 2});
  for (std::size_t i = 0; i < 6; ++i) {
    x.data<float>()[2 * i] = static_cast<float>(i) + 0.5f;
    x.data<float>()[2 * i + 1] = -static_cast<float>(i);
  }
  const Tensor y = labels_u8({4, 1, 4, 2, 0, 3});
  const Outputs out = run_subset(x, y, "{n: 4, mode: first, seed: 0}");
  REQUIRE(out.size() == 2);
  const Tensor& ox = out.at("x");
  const Tensor& oy = out.at("y");
  CHECK(ox.dtype == DType::f32);
  CHECK(ox.shape == std::vector<std::size_t>{4, 2});
  CHECK(oy.dtype == DType::u8);
  CHECK(oy.shape == std::vector<std::size_t>{4});
  const float xs[4][2] = {{0.5f, 0.0f}, {1.5f, -1.0f}, {2.5f, -2.0f}, {3.5f, -3.0f}};
  const int ys[4] = {4, 1, 4, 2};
  for (std::size_t r = 0; r < 4; ++r) {
    CHECK(ox.data<float>()[2 * r] == xs[r][0]);
    CHECK(ox.data<float>()[2 * r + 1] == xs[r][1]);
    CHECK(oy.data<std::uint8_t>()[r] == ys[r]);
  }
}

TEST_CASE("subset first: n = N keeps everything, and the seed does not matter") {
  const Tensor x = rows_x(5);
  const Tensor y = labels_u8({1, 2, 3, 4, 5});
  const Outputs a = run_subset(x, y, "{n: 5, mode: first, seed: 0}");
  const Outputs b = run_subset(x, y, "{n: 5, mode: first, seed: 9}");
  CHECK(a.at("x").bytes == x.bytes);
  CHECK(a.at("y").bytes == y.bytes);
  CHECK(b.at("x").bytes == x.bytes);
}

TEST_CASE("subset first: rows of a rank-3 x and string labels") {
  // x [4, 2, 3] int32 with x[i][j][k] = 100 i + 10 j + k; a row is 6 values.
  Tensor x = Tensor::zeros<std::int32_t>({4, 2, 3});
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t j = 0; j < 2; ++j)
      for (std::size_t k = 0; k < 3; ++k) x.data<std::int32_t>()[(i * 2 + j) * 3 + k] = static_cast<std::int32_t>(100 * i + 10 * j + k);
  const Tensor y = Tensor::text({"cat", "dog", "emu", "fox"});
  const Outputs out = run_subset(x, y, "{n: 2, mode: first, seed: 0}");
  CHECK(out.at("x").shape == std::vector<std::size_t>{2, 2, 3});
  const std::int32_t expect[12] = {0, 1, 2, 10, 11, 12, 100, 101, 102, 110, 111, 112};
  REQUIRE(out.at("x").bytes.size() == sizeof expect);
  for (std::size_t i = 0; i < 12; ++i) CHECK(out.at("x").data<std::int32_t>()[i] == expect[i]);
  CHECK(out.at("y").dtype == DType::str);
  CHECK(out.at("y").shape == std::vector<std::size_t>{2});
  CHECK(out.at("y").strings == std::vector<std::string>{"cat", "dog"});
}

TEST_CASE("subset random: n distinct rows in their original order, reproducible from the seed") {
  const std::size_t N = 100, n = 10;
  const auto lab = pattern_labels(N);
  const Tensor x = rows_x(N);
  const Tensor y = labels_u8(lab);

  const Outputs a = run_subset(x, y, "{n: 10, mode: random, seed: 3}");
  const auto rows = chosen_rows(a, n, lab);
  check_distinct_increasing(rows);
  CHECK(std::set<std::size_t>(rows.begin(), rows.end()).size() == n);
  CHECK(a.at("y").dtype == DType::u8);
  // Not simply the first rows, nor confined to one end of the input.
  std::vector<std::size_t> first(n);
  for (std::size_t i = 0; i < n; ++i) first[i] = i;
  CHECK(rows != first);

  const Outputs again = run_subset(x, y, "{n: 10, mode: random, seed: 3}");
  CHECK(again.at("x").bytes == a.at("x").bytes);
  CHECK(again.at("y").bytes == a.at("y").bytes);

  const Outputs other = run_subset(x, y, "{n: 10, mode: random, seed: 4}");
  const auto other_rows = chosen_rows(other, n, lab);
  check_distinct_increasing(other_rows);
  CHECK(other_rows != rows);
}

TEST_CASE("subset random: n = N returns every row once, in order") {
  const auto lab = pattern_labels(30);
  const Outputs out = run_subset(rows_x(30), labels_u8(lab), "{n: 30, mode: random, seed: 11}");
  const auto rows = chosen_rows(out, 30, lab);
  for (std::size_t i = 0; i < 30; ++i) CHECK(rows[i] == i);
}

TEST_CASE("subset random: over many seeds every row is drawn about equally often") {
  // N = 20, n = 5: each row is in a draw with probability 1/4, so ~100 times in 400 seeds
  // (binomial sd ~8.7). A draw that favours or never reaches some rows falls far outside.
  const std::size_t N = 20, n = 5, seeds = 400;
  const auto lab = pattern_labels(N);
  const Tensor x = rows_x(N);
  const Tensor y = labels_u8(lab);
  std::vector<std::size_t> hits(N, 0);
  std::set<std::vector<std::size_t>> distinct;
  for (std::size_t s = 0; s < seeds; ++s) {
    const auto rows = chosen_rows(run_subset(x, y, "{n: 5, mode: random, seed: " + std::to_string(s) + "}"), n, lab);
    for (auto r : rows) hits[r]++;
    distinct.insert(rows);
  }
  for (std::size_t i = 0; i < N; ++i) CHECK_MESSAGE(hits[i] >= 60, "row " << i << " drawn " << hits[i] << " times");
  for (std::size_t i = 0; i < N; ++i) CHECK_MESSAGE(hits[i] <= 140, "row " << i << " drawn " << hits[i] << " times");
  CHECK(distinct.size() > 390);  // C(20, 5) = 15504 possible draws: repeats are rare
}

TEST_CASE("subset random: string labels follow their rows") {
  std::vector<std::string> names;
  for (int i = 0; i < 12; ++i) names.push_back("row" + std::to_string(i));
  const Outputs out = run_subset(rows_x(12), Tensor::text(names), "{n: 4, mode: random, seed: 5}");
  const Tensor& ox = out.at("x");
  const Tensor& oy = out.at("y");
  REQUIRE(oy.dtype == DType::str);
  REQUIRE(oy.strings.size() == 4);
  for (std::size_t r = 0; r < 4; ++r) CHECK(oy.strings[r] == "row" + std::to_string(ox.data<std::int32_t>()[2 * r]));
}

TEST_CASE("subset stratified: exact proportional shares") {
  // 60 of class 0, 30 of class 1, 10 of class 2, interleaved so no class sits in one block.
  std::vector<int> lab;
  for (int i = 0; i < 10; ++i) {
    for (int k = 0; k < 6; ++k) lab.push_back(0);
    for (int k = 0; k < 3; ++k) lab.push_back(1);
    lab.push_back(2);
  }
  REQUIRE(lab.size() == 100);
  const Tensor x = rows_x(100);
  const Tensor y = labels_u8(lab);
  for (int seed : {0, 1, 2}) {
    CAPTURE(seed);
    const Outputs out = run_subset(x, y, "{n: 20, mode: stratified, seed: " + std::to_string(seed) + "}");
    const auto rows = chosen_rows(out, 20, lab);
    check_distinct_increasing(rows);
    const auto counts = count_labels(out.at("y"));
    CHECK(counts == std::map<int, std::size_t>{{0, 12}, {1, 6}, {2, 2}});
  }
  const Outputs a = run_subset(x, y, "{n: 20, mode: stratified, seed: 7}");
  const Outputs b = run_subset(x, y, "{n: 20, mode: stratified, seed: 7}");
  const Outputs c = run_subset(x, y, "{n: 20, mode: stratified, seed: 8}");
  CHECK(a.at("x").bytes == b.at("x").bytes);
  CHECK(a.at("x").bytes != c.at("x").bytes);
}

TEST_CASE("subset stratified: shares that need rounding") {
  SUBCASE("5, 5, 5 and n = 4: each class gets 1 or 2, 4 in all") {
    std::vector<int> lab;
    for (int i = 0; i < 15; ++i) lab.push_back(i % 3);
    for (int seed = 0; seed < 5; ++seed) {
      CAPTURE(seed);
      const Outputs out = run_subset(rows_x(15), labels_u8(lab), "{n: 4, mode: stratified, seed: " + std::to_string(seed) + "}");
      const auto rows = chosen_rows(out, 4, lab);
      check_distinct_increasing(rows);
      const auto counts = count_labels(out.at("y"));
      std::size_t total = 0;
      for (int k = 0; k < 3; ++k) {
        const std::size_t c = counts.count(k) ? counts.at(k) : 0;
        CHECK_MESSAGE((c == 1 || c == 2), "class " << k << " got " << c);  // floor(4/3) or ceil(4/3)
        total += c;
      }
      CHECK(total == 4);
    }
  }
  SUBCASE("6, 3, 1 and n = 4: shares 2.4, 1.2, 0.4 → the leftover goes to the largest remainder") {
    // Largest remainders (Hamilton): floors 2, 1, 0 give 3; 0.4 is the largest fraction.
    const std::vector<int> lab{0, 1, 0, 2, 0, 1, 0, 0, 1, 0};
    const Outputs out = run_subset(rows_x(10), labels_u8(lab), "{n: 4, mode: stratified, seed: 1}");
    chosen_rows(out, 4, lab);
    CHECK(count_labels(out.at("y")) == std::map<int, std::size_t>{{0, 2}, {1, 1}, {2, 1}});
  }
  SUBCASE("50, 30, 20 and n = 7: shares 3.5, 2.1, 1.4 → 4, 2, 1") {
    std::vector<int> lab;
    for (int i = 0; i < 100; ++i) lab.push_back(i % 10 < 5 ? 0 : i % 10 < 8 ? 1 : 2);
    const Outputs out = run_subset(rows_x(100), labels_u8(lab), "{n: 7, mode: stratified, seed: 2}");
    check_distinct_increasing(chosen_rows(out, 7, lab));
    CHECK(count_labels(out.at("y")) == std::map<int, std::size_t>{{0, 4}, {1, 2}, {2, 1}});
  }
  SUBCASE("unsorted, non-contiguous labels 9, 4, 7 with counts 2, 4, 6 and n = 6 → 1, 2, 3") {
    std::vector<int> lab{7, 4, 7, 9, 7, 4, 7, 4, 9, 7, 4, 7};
    const Outputs out = run_subset(rows_x(12), labels_u8(lab), "{n: 6, mode: stratified, seed: 0}");
    check_distinct_increasing(chosen_rows(out, 6, lab));
    CHECK(count_labels(out.at("y")) == std::map<int, std::size_t>{{4, 2}, {7, 3}, {9, 1}});
  }
}

TEST_CASE("subset: errors") {
  const Tensor x = rows_x(10);
  const Tensor y = labels_u8(pattern_labels(10));

  SUBCASE("n larger than the number of rows") {
    for (const char* mode : {"first", "random", "stratified"}) {
      CAPTURE(mode);
      const std::string e =
          error_of([&] { run_subset(x, y, std::string("{n: 11, mode: ") + mode + ", seed: 0}"); });
      CHECK_CONTAINS(e, "n = 11");
      CHECK_CONTAINS(e, "10 rows");
    }
  }
  SUBCASE("x and y with different row counts") {
    const std::string e = error_of([&] { run_subset(x, labels_u8({1, 2, 3}), "{n: 2, mode: first, seed: 0}"); });
    CHECK_CONTAINS(e, "same number of rows");
    CHECK_CONTAINS(e, "[10, 2]");
    CHECK_CONTAINS(e, "[3]");
  }
  SUBCASE("y not one label per row") {
    const std::string e =
        error_of([&] { run_subset(x, Tensor::zeros<std::uint8_t>({10, 1}), "{n: 2, mode: first, seed: 0}"); });
    // The rows agree; what is wrong is the rank, and the message says that.
    CHECK(e == "y must be 1-D, one label per row of x; got y [10, 1] for x [10, 2]");
  }
  SUBCASE("stratified with string labels") {
    std::vector<std::string> names(10, "a");
    const std::string e = error_of([&] { run_subset(x, Tensor::text(names), "{n: 2, mode: stratified, seed: 0}"); });
    CHECK_CONTAINS(e, "numeric labels");
  }
}
