#include <doctest/doctest.h>

// The load_csv op on small files: values with known answers in both dtypes, header detection,
// quoted fields, the label column by name or number, and each error's exact text.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>
#include <vector>

#include "nodes/data/ops.h"
#include "tests/checks.h"
#include "tests/helpers.h"

using namespace untangle;
using namespace untangle::test;

namespace {

struct Csv {
  TempDir dir;
  std::string path = dir / "data.csv";
  std::string header = "auto", label = "", dtype = "float32";

  explicit Csv(const std::string& text) { write_file(path, text); }
  Outputs load() const {
    OpContext ctx;
    ctx.params = YAML::Node(YAML::NodeType::Map);
    ctx.params["file"] = path;
    ctx.params["header"] = header;
    ctx.params["label"] = label;
    ctx.params["dtype"] = dtype;
    return load_csv_op().run(ctx);
  }
  std::string error() const { return error_of([&] { load(); }); }
};

template <class T> std::vector<T> values(const Tensor& t) {
  REQUIRE(t.dtype == dtype_of<T>());
  return std::vector<T>(t.data<T>(), t.data<T>() + t.size());
}

using Shape = std::vector<std::size_t>;

}  // namespace

TEST_CASE("load_csv: a numeric file without header to float32 rows, y empty") {
  Csv csv("1.5,-2,3e2\n0.1, +4 ,\"7\"\n");
  const Outputs out = csv.load();
  CHECK(out.size() == 2);
  CHECK(out.at("x").shape == Shape{2, 3});
  CHECK(values<float>(out.at("x")) == std::vector<float>{1.5f, -2.0f, 300.0f, 0.1f, 4.0f, 7.0f});
  CHECK(out.at("y").dtype == DType::i64);
  CHECK(out.at("y").shape == Shape{0});
  CHECK(load_csv_op().files(YAML::Load("{file: " + csv.path + "}")) == std::vector<std::string>{csv.path});
  CHECK(!load_csv_op().param("file")->hashed);
}

TEST_CASE("load_csv: dtype float64 keeps every digit, float32 rounds once from the text") {
  Csv csv("0.1,16777217\n");
  CHECK(values<float>(csv.load().at("x")) == std::vector<float>{0.1f, 16777216.0f});
  csv.dtype = "float64";
  CHECK(values<double>(csv.load().at("x")) == std::vector<double>{0.1, 16777217.0});
}

TEST_CASE("load_csv: header auto, true and false") {
  SUBCASE("auto: a row with a name is a header") {
    Csv csv("a,\"b, c\"\n1,2\n3,4\n");
    CHECK(csv.load().at("x").shape == Shape{2, 2});
  }
  SUBCASE("auto: an all-number first row is data") {
    Csv csv("1,2\n3,4\n");
    CHECK(values<float>(csv.load().at("x")) == std::vector<float>{1, 2, 3, 4});
  }
  SUBCASE("true: a numeric first row is a header all the same") {
    Csv csv("1,2\n3,4\n");
    csv.header = "true";
    CHECK(values<float>(csv.load().at("x")) == std::vector<float>{3, 4});
  }
  SUBCASE("false: a name in the first row is a bad field") {
    Csv csv("a,b\n1,2\n");
    csv.header = "false";
    CHECK(csv.error() == csv.path + ":1:1: not a number: 'a'");
  }
  SUBCASE("CRLF line ends and blank lines") {
    Csv csv("x,y\r\n\r\n1,2\r\n  \n3,4\r\n");
    CHECK(values<float>(csv.load().at("x")) == std::vector<float>{1, 2, 3, 4});
  }
}

TEST_CASE("load_csv: the label column, by name or by number from 1, goes to y as int64") {
  Csv csv("f1,species,f2\n0.5,2,1\n1.5,\"0\",2\n2.5,1.0,3\n");
  csv.label = "species";
  Outputs out = csv.load();
  CHECK(out.at("x").shape == Shape{3, 2});
  CHECK(values<float>(out.at("x")) == std::vector<float>{0.5f, 1, 1.5f, 2, 2.5f, 3});
  CHECK(values<std::int64_t>(out.at("y")) == std::vector<std::int64_t>{2, 0, 1});
  csv.label = "2";
  CHECK(csv.load().at("y").digest() == out.at("y").digest());
  csv.label = "3";
  CHECK(values<std::int64_t>(csv.load().at("y")) == std::vector<std::int64_t>{1, 2, 3});
}

TEST_CASE("load_csv: each bad file is an error naming the file, line and column") {
  SUBCASE("a bad field") {
    Csv csv("1,2\n3,4\n5,abc\n");
    CHECK(csv.error() == csv.path + ":3:2: not a number: 'abc'");
  }
  SUBCASE("an empty field") {
    Csv csv("1,2\n3,\n");
    CHECK(csv.error() == csv.path + ":2:2: not a number: ''");
  }
  SUBCASE("a ragged row") {
    Csv csv("a,b\n1,2\n\n3,4,5\n");
    CHECK(csv.error() == csv.path + ":4: 3 columns, but line 1 has 2");
  }
  SUBCASE("an empty file") {
    Csv csv("");
    CHECK(csv.error() == csv.path + ": empty file");
  }
  SUBCASE("only blank lines") {
    Csv csv("\n  \n");
    CHECK(csv.error() == csv.path + ": empty file");
  }
  SUBCASE("a header and no data") {
    Csv csv("a,b\n");
    CHECK(csv.error() == csv.path + ": no data rows after the header");
  }
  SUBCASE("a label that is not an integer") {
    Csv csv("1,0\n2,1.5\n");
    csv.label = "2";
    CHECK(csv.error() == csv.path + ":2:2: label is not an integer: '1.5'");
  }
  SUBCASE("a label that is not a number") {
    Csv csv("1,x\n");
    csv.header = "false";
    csv.label = "2";
    CHECK(csv.error() == csv.path + ":1:2: not a number: 'x'");
  }
  SUBCASE("a label name not in the header") {
    Csv csv("a,b\n1,2\n");
    csv.label = "c";
    CHECK(csv.error() == csv.path + ": no column 'c' in the header (a, b)");
  }
  SUBCASE("a label name without a header") {
    Csv csv("1,2\n");
    csv.label = "c";
    CHECK(csv.error() == csv.path + ": label 'c' names a column, but the file has no header");
  }
  SUBCASE("a label number past the last column, or 0") {
    Csv csv("1,2\n");
    csv.label = "3";
    CHECK(csv.error() == csv.path + ": label column 3, but line 1 has 2 columns");
    csv.label = "0";
    CHECK(csv.error() == csv.path + ": label column 0: columns count from 1");
  }
  SUBCASE("a label as the only column") {
    Csv csv("1\n2\n");
    csv.label = "1";
    CHECK(csv.error() == csv.path + ": no columns besides the label");
  }
  SUBCASE("a value too large for float32") {
    Csv csv("1e39\n");
    CHECK(csv.error() == csv.path + ":1:1: out of range for float32: '1e39'");
  }
  SUBCASE("an unterminated quote") {
    Csv csv("1,\"2\n");
    CHECK(csv.error() == csv.path + ":1:2: unterminated quote");
  }
  SUBCASE("text after a closing quote") {
    Csv csv("\"1\"x,2\n");
    CHECK(csv.error() == csv.path + ":1:1: text after a closing quote");
  }
  SUBCASE("a missing file") {
    Csv csv("");
    csv.path = csv.dir / "nope.csv";
    CHECK(csv.error() == csv.path + ": cannot open");
  }
}
