#include <algorithm>
#include <cstring>
#include <map>
#include <numeric>
#include <stdexcept>

#include "nodes/common/random.h"
#include "nodes/data/ops.h"

namespace untangle {

namespace {

// n distinct indices of [0, N), drawn by a partial Fisher–Yates shuffle.
std::vector<std::size_t> draw(std::vector<std::size_t> pool, std::size_t n, Rng& rng) {
  for (std::size_t i = 0; i < n; ++i) std::swap(pool[i], pool[i + rng.below(pool.size() - i)]);
  pool.resize(n);
  return pool;
}

// Proportional allocation per class; the remainder goes to the largest fractional shares.
std::vector<std::size_t> stratified(const Tensor& y, std::size_t n, Rng& rng) {
  std::map<long long, std::vector<std::size_t>> by_class;
  for (std::size_t i = 0; i < y.size(); ++i) by_class[static_cast<long long>(y.at(i))].push_back(i);
  const std::size_t N = y.size();
  std::vector<std::pair<long long, std::size_t>> quota;  // class, count
  std::vector<std::pair<double, std::size_t>> remainder;  // fractional share, position in quota
  std::size_t given = 0;
  for (const auto& [label, members] : by_class) {
    const double share = static_cast<double>(n) * members.size() / N;
    const auto whole = static_cast<std::size_t>(share);
    remainder.push_back({share - whole, quota.size()});
    quota.push_back({label, whole});
    given += whole;
  }
  std::stable_sort(remainder.begin(), remainder.end(), [](auto& a, auto& b) { return a.first > b.first; });
  for (std::size_t k = 0; given < n; ++k, ++given) quota[remainder[k].second].second++;
  std::vector<std::size_t> out;
  for (const auto& [label, count] : quota) {
    auto chosen = draw(by_class[label], count, rng);
    out.insert(out.end(), chosen.begin(), chosen.end());
  }
  return out;
}

Tensor take_rows(const Tensor& t, const std::vector<std::size_t>& rows) {
  Tensor out;
  out.dtype = t.dtype;
  out.shape = t.shape;
  out.shape[0] = rows.size();
  if (t.dtype == DType::str) {
    for (auto r : rows) out.strings.push_back(t.strings[r]);
    return out;
  }
  const std::size_t row_bytes = t.shape[0] ? t.bytes.size() / t.shape[0] : 0;
  out.bytes.resize(rows.size() * row_bytes);
  for (std::size_t i = 0; i < rows.size(); ++i)
    std::memcpy(&out.bytes[i * row_bytes], &t.bytes[rows[i] * row_bytes], row_bytes);
  return out;
}

Outputs run(OpContext& ctx) {
  const Tensor& x = ctx.input("x");
  const Tensor& y = ctx.input("y");
  if (x.shape.empty()) throw std::runtime_error("x must have rows; got a scalar");
  if (y.shape.size() != 1)
    throw std::runtime_error("y must be 1-D, one label per row of x; got y " + shape_string(y.shape) + " for x " +
                             shape_string(x.shape));
  if (x.shape[0] != y.shape[0])
    throw std::runtime_error("x and y must have the same number of rows; got x " + shape_string(x.shape) + " and y " +
                             shape_string(y.shape));
  const std::size_t N = x.shape[0];
  const auto n = static_cast<std::size_t>(ctx.integer("n"));
  if (n > N) throw std::runtime_error("n = " + std::to_string(n) + " but the input has only " + std::to_string(N) + " rows");
  const std::string mode = ctx.string("mode");
  Rng rng(static_cast<std::uint64_t>(ctx.integer("seed")));
  std::vector<std::size_t> rows(N);
  std::iota(rows.begin(), rows.end(), 0);
  if (mode == "first") {
    rows.resize(n);
  } else {
    if (mode == "stratified" && y.dtype == DType::str) throw std::runtime_error("stratified mode needs numeric labels");
    rows = mode == "random" ? draw(std::move(rows), n, rng) : stratified(y, n, rng);
    std::sort(rows.begin(), rows.end());  // keep the input's order
  }
  return {{"x", take_rows(x, rows)}, {"y", take_rows(y, rows)}};
}

}  // namespace

OpSchema subset_op() {
  OpSchema op;
  op.name = "subset";
  op.doc =
      "n rows of (x, y), in their original order.\nmode first: the first n; random: n drawn without replacement from "
      "`seed`; stratified: each label's share of n proportional to its frequency, drawn from `seed`.";
  op.inputs = {{"x", "rows to choose from (first axis)"}, {"y", "labels, one per row of x"}};
  op.outputs = {{"x", "the chosen rows of x"}, {"y", "their labels"}};
  ParamSpec n{"n", ParamType::integer, "how many rows", std::nullopt};
  n.min = 1;
  ParamSpec mode{"mode", ParamType::choice, "how rows are chosen", "first"};
  mode.choices = {"first", "random", "stratified"};
  ParamSpec seed{"seed", ParamType::integer, "random seed (random and stratified modes)", "0"};
  seed.min = 0;
  op.params = {n, mode, seed};
  op.run = run;
  return op;
}

}  // namespace untangle
