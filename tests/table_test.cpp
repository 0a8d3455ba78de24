// The summary table: cells placed row by row, formatted, aligned, and checked for count.
#include <doctest/doctest.h>

#include "nodes/report/ops.h"
#include "tests/checks.h"

using namespace untangle;

namespace {

OpContext table_of(std::vector<Tensor> cells, const std::string& params) {
  OpContext ctx;
  for (std::size_t i = 0; i < cells.size(); ++i) ctx.labels["cells"].push_back("n" + std::to_string(i));
  ctx.inputs["cells"] = std::move(cells);
  ctx.params = YAML::Load(params);
  return ctx;
}

}  // namespace

TEST_CASE("table: cells fill rows in order, integers stay integers, text aligns and CSV quotes") {
  OpContext ctx = table_of({Tensor::scalar(0.36719), Tensor::scalar<std::int64_t>(45), Tensor::scalar(0.9), Tensor::scalar<std::int64_t>(3)},
                           "{rows: [raw PCA, \"MLP, t-SNE\"], columns: [NH, pairs], digits: 3, title: Summary, by: rows}");
  Outputs out = table_op().run(ctx);
  CHECK(out.at("table").shape == std::vector<std::size_t>{3, 3});
  CHECK(out.at("table").strings == std::vector<std::string>{"", "NH", "pairs", "raw PCA", "0.367", "45", "MLP, t-SNE", "0.900", "3"});
  CHECK(out.at("text").strings == std::vector<std::string>{"Summary",
                                                           "               NH  pairs",
                                                           "raw PCA     0.367     45",
                                                           "MLP, t-SNE  0.900      3"});
  const Tensor& csv = out.at("csv");
  CHECK(std::string(csv.bytes.begin(), csv.bytes.end()) == ",NH,pairs\nraw PCA,0.367,45\n\"MLP, t-SNE\",0.900,3\n");
}

TEST_CASE("table: note columns follow the cells, the JSON gives every value its source") {
  OpContext ctx = table_of({Tensor::scalar(0.9212), Tensor::scalar(0.9736)},
                           "{rows: [logreg, cnn], columns: [accuracy], digits: 4, title: Models, "
                           "notes: {lab report: [92.31%, 97.94%]}, by: rows}");
  Outputs out = table_op().run(ctx);
  CHECK(out.at("table").strings == std::vector<std::string>{"", "accuracy", "lab report", "logreg", "0.9212", "92.31%", "cnn", "0.9736", "97.94%"});
  const auto json = YAML::Load(out.at("json").strings.at(0));  // JSON is YAML
  CHECK(json["title"].as<std::string>() == "Models");
  CHECK(json["rows"][1]["name"].as<std::string>() == "cnn");
  CHECK(json["rows"][1]["cells"][0]["source"].as<std::string>() == "n1");
  CHECK(json["rows"][1]["cells"][0]["value"].as<double>() == 0.9736);
  CHECK(json["rows"][1]["cells"][1]["text"].as<std::string>() == "97.94%");
  CHECK(!json["rows"][1]["cells"][1]["source"]);
  OpContext short_notes = table_of({Tensor::scalar(1.0)}, "{rows: [a], columns: [x], digits: 4, title: '', notes: {n: [p, q]}, by: rows}");
  CHECK_CONTAINS(test::error_of([&] { table_op().run(short_notes); }), "notes column 'n' has 2 entries for 1 rows");
}

TEST_CASE("table: a wrong cell count or a non-scalar cell is a clear error") {
  OpContext few = table_of({Tensor::scalar(1.0)}, "{rows: [a, b], columns: [x], digits: 4, title: '', by: rows}");
  CHECK_CONTAINS(test::error_of([&] { table_op().run(few); }), "cells has 1 values; 2 rows × 1 columns need 2");
  OpContext wide = table_of({Tensor::zeros<double>({3})}, "{rows: [a], columns: [x], digits: 4, title: '', by: rows}");
  CHECK_CONTAINS(test::error_of([&] { table_op().run(wide); }), "cell n0 is [3], not a scalar");
  OpContext bad = table_of({Tensor::scalar(1.0)}, "{rows: a, columns: [x], digits: 4, title: '', by: rows}");
  CHECK_CONTAINS(test::error_of([&] { table_op().run(bad); }), "rows must be a non-empty list of names");
}
