#include <doctest/doctest.h>

// The load_csv op on small files: values with known answers in both dtypes, header detection,
// quoted fields, the label column by name or number, and each error's exact text; then files
// read across many blocks, lines past the length bound, the memory a file of 2 M rows takes in
// the real binary, and nan and inf, refused unless allowed.
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
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
  bool allow_nonfinite = false;

  explicit Csv(const std::string& text) { write_file(path, text); }
  Outputs load() const {
    OpContext ctx;
    ctx.params = YAML::Node(YAML::NodeType::Map);
    ctx.params["file"] = path;
    ctx.params["header"] = header;
    ctx.params["label"] = label;
    ctx.params["dtype"] = dtype;
    ctx.params["allow_nonfinite"] = allow_nonfinite;
    return load_csv_op().run(ctx);
  }
  std::string error() const { return error_of([&] { load(); }); }
};

template <class T> std::vector<T> values(const Tensor& t) {
  REQUIRE(t.dtype == dtype_of<T>());
  return std::vector<T>(t.data<T>(), t.data<T>() + t.size());
}

using Shape = std::vector<std::size_t>;

// `untangle run GRAPH` under an address-space limit in KiB (0: none): its exit code, what it
// printed, and its peak resident memory in KiB.
struct Run {
  int code = -1;
  std::string out;
  long peak_kb = -1;
};

// A small Python starts the binary and takes its peak from os.wait4. Started from this test
// process, the binary's peak would count this process's own: exec keeps the larger of the old
// memory's peak and the new one's, and an earlier test may have left this process far larger.
const char* const kMeasure =
    "import os, sys\n"
    "pid = os.posix_spawn('/bin/sh', ['sh', '-c', sys.argv[1]], os.environ)\n"
    "_, status, usage = os.wait4(pid, 0)\n"
    "print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)\n";

Run run_untangle(const std::string& graph, const std::string& cache, long limit_kb) {
  TempDir io;
  write_file(io / "measure.py", kMeasure);
  const std::string script = (limit_kb ? "ulimit -v " + std::to_string(limit_kb) + "; " : std::string()) + "exec " +
                             UNTANGLE_BINARY + " run " + graph + " --cache " + cache + " >" + (io / "out") + " 2>&1";
  const auto r = run_command("/usr/bin/python3 " + (io / "measure.py") + " '" + script + "'");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  Run run;
  std::istringstream(r.out) >> run.code >> run.peak_kb;
  if (run.code < 0) run.code = 128 - run.code;  // killed by signal -code
  run.out = read_file(io / "out");
  return run;
}

// The least address space in KiB, to 2 MiB, in which a graph runs from an empty cache: on a tiny
// file, what the binary, its libraries and its threads take on this machine before any data
// (threads reserve stacks and malloc arenas, so more cores take more).
long least_address_space(const std::string& graph, const TempDir& dir) {
  int runs = 0;
  const auto runs_in = [&](long kb) {
    return run_untangle(graph, dir / ("least-" + std::to_string(runs++)), kb).code == 0;
  };
  long fails = 0, fits = 32 << 10;
  for (; !runs_in(fits); fits *= 2) {
    REQUIRE_MESSAGE(fits < 1L << 30, graph << " does not run even in 1 TiB of address space");
    fails = fits;
  }
  while (fits - fails > 2048) {
    const long mid = (fits + fails) / 2;
    (runs_in(mid) ? fits : fails) = mid;
  }
  return fits;
}

// The digest `untangle show` gives for one dataset of the node d.
std::string shown_digest(const std::string& graph, const std::string& cache, const std::string& dataset) {
  const auto r = run_command(std::string(UNTANGLE_BINARY) + " show " + graph + " d --cache " + cache);
  for (const auto& line : lines_of(r.out))
    if (line.rfind("    " + dataset + "  ", 0) == 0) return line.substr(line.rfind(' ') + 1);
  return "<no dataset " + dataset + " in:\n" + r.out + r.err + ">";
}

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

TEST_CASE("load_csv: a text with more after a number is not a number, even past the dtype's range") {
  Csv csv("1,1e39x\n");
  csv.header = "false";
  CHECK(csv.error() == csv.path + ":1:2: not a number: '1e39x'");
}

TEST_CASE("load_csv: rows across the blocks the file is read in, each value in its place") {
  // Rows of many lengths end at every offset of a block; quotes, CRLF and blank lines among them.
  std::string text = "id,\"half, padded\",label\n";
  std::vector<double> xs;
  std::vector<std::int64_t> ys;
  std::size_t lines = 1;
  for (int i = 0; i < 30000; ++i) {
    const std::string pad(i % 97, ' '), half = "-" + std::to_string(i / 2) + (i % 2 ? ".5" : "");
    text += std::to_string(i) + "," + pad + (i % 5 ? half : "\"" + half + "\"") + pad + "," + std::to_string(i % 4);
    text += i % 7 ? "\n" : "\r\n";
    ++lines;
    if (i % 11 == 0) text += "  \t \n", ++lines;
    xs.insert(xs.end(), {double(i), -i / 2.0});
    ys.push_back(i % 4);
  }
  REQUIRE(text.size() > 40 * (64 << 10));
  Csv csv(text + "30000,-15000,0");
  xs.insert(xs.end(), {30000.0, -15000.0});
  ys.push_back(0);
  csv.dtype = "float64";
  csv.label = "label";
  const Outputs out = csv.load();
  CHECK(out.at("x").shape == Shape{30001, 2});
  CHECK(values<double>(out.at("x")) == xs);
  CHECK(values<std::int64_t>(out.at("y")) == ys);
  write_file(csv.path, text + "30000,-15000,0\n\n7,x,1");
  CHECK(csv.error() == csv.path + ":" + std::to_string(lines + 3) + ":2: not a number: 'x'");
}

TEST_CASE("load_csv: a line longer than 16 MiB is an error at its line, not a string as large") {
  const std::size_t limit = std::size_t{16} << 20;
  // A row of exactly 16 MiB, its \r\n aside: padding, which a field's trimming drops.
  const std::string longest = "3," + std::string(limit - 3, ' ') + "4";
  Csv csv("1,2\n" + longest + "\r\n");
  CHECK(values<float>(csv.load().at("x")) == std::vector<float>{1, 2, 3, 4});
  write_file(csv.path, "1,2\n" + longest + " \n5,6\n");
  CHECK(csv.error() == csv.path + ":2: line longer than 16 MiB");
  // No newline for longer than the bound, here to the end of the file: refused all the same.
  write_file(csv.path, "1,2\n\n" + std::string(limit + (4 << 20), '7'));
  CHECK(csv.error() == csv.path + ":3: line longer than 16 MiB");
}

// "[address-space limit]" in the name lets an AddressSanitizer build leave this test out: ASan
// reserves terabytes of address space, which no ulimit -v allows.
TEST_CASE("load_csv: 2 M short rows in memory near the tensors' own size [address-space limit]") {
  TempDir dir;
  const std::size_t rows = 2'000'000;
  std::string text;
  text.reserve(6 * rows);
  Tensor x = Tensor::zeros<float>({rows, 2}), y = Tensor::zeros<std::int64_t>({rows});
  for (std::size_t i = 0; i < rows; ++i) {
    text += {char('0' + i % 10), ',', char('0' + i % 7), ',', char('0' + i % 3), '\n'};
    x.data<float>()[2 * i] = i % 10;
    x.data<float>()[2 * i + 1] = i % 7;
    y.data<std::int64_t>()[i] = i % 3;
  }
  write_file(dir / "big.csv", text);
  write_file(dir / "tiny.csv", "1,2,0\n");
  for (const char* name : {"big", "tiny"})
    write_file(dir / (name + std::string(".yaml")),
               "nodes:\n  d: {op: load_csv, params: {file: " + (dir / name) + ".csv, label: 3}}\n");
  const long tensors_kb = static_cast<long>((x.bytes.size() + y.bytes.size()) / 1024);

  // Room for the tensors four times over, past what a tiny file needs: rows held as strings
  // until the end of the file take over ten times.
  const long limit_kb = least_address_space(dir / "tiny.yaml", dir) + 4 * tensors_kb + (16 << 10);
  const Run tiny = run_untangle(dir / "tiny.yaml", dir / "tiny-cache", 0);
  REQUIRE(tiny.code == 0);
  const Run big = run_untangle(dir / "big.yaml", dir / "big-cache", limit_kb);
  REQUIRE_MESSAGE(big.code == 0, "under ulimit -v " << limit_kb << ":\n" << big.out);
  MESSAGE("under ulimit -v " << limit_kb << ", peak resident memory " << big.peak_kb << " KiB for " << tensors_kb
                             << " KiB of tensors; a tiny file: " << tiny.peak_kb << " KiB");
  CHECK(big.peak_kb <= tiny.peak_kb + 5 * tensors_kb / 2);
  CHECK(shown_digest(dir / "big.yaml", dir / "big-cache", "x") == x.digest());
  CHECK(shown_digest(dir / "big.yaml", dir / "big-cache", "y") == y.digest());
}

TEST_CASE("load_csv: nan and inf, in any case and sign, are errors at their cell unless allow_nonfinite") {
  for (const char* dtype : {"float32", "float64"})
    for (const std::string s : {"nan", "-nan", "+nan", "NaN", "nan(1)", "inf", "-inf", "+Inf", "INFINITY", "-Infinity"}) {
      CAPTURE(dtype);
      CAPTURE(s);
      Csv csv("a,b\n1,2\n3, " + s + "\n");
      csv.dtype = dtype;
      CHECK(csv.error() == csv.path + ":3:2: not a finite number: '" + s + "' (allow_nonfinite: true takes it)");
      csv.allow_nonfinite = true;
      CHECK(csv.load().at("x").shape == Shape{2, 2});
    }
  SUBCASE("on line 1, with header auto, they are numbers: the row is data, not a header") {
    Csv csv("nan,1\n2,3\n");
    CHECK(csv.error() == csv.path + ":1:1: not a finite number: 'nan' (allow_nonfinite: true takes it)");
  }
}

TEST_CASE("load_csv: allow_nonfinite reads nan and inf, and a value past the dtype's range as inf") {
  Csv csv("nan,-nan,inf,-Infinity,1e999,-1e999,1e39,-1e39\n");
  csv.allow_nonfinite = true;
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> f = values<float>(csv.load().at("x"));
  REQUIRE(f.size() == 8);
  CHECK((std::isnan(f[0]) && !std::signbit(f[0]) && std::isnan(f[1]) && std::signbit(f[1])));
  CHECK(std::vector<float>(f.begin() + 2, f.end()) == std::vector<float>{inf, -inf, inf, -inf, inf, -inf});
  csv.dtype = "float64";
  const std::vector<double> d = values<double>(csv.load().at("x"));
  REQUIRE(d.size() == 8);
  CHECK((std::isnan(d[0]) && !std::signbit(d[0]) && std::isnan(d[1]) && std::signbit(d[1])));
  CHECK(std::vector<double>(d.begin() + 2, d.end()) == std::vector<double>{inf, -inf, inf, -inf, 1e39, -1e39});
  SUBCASE("without it, a value past the range is out of range, as before") {
    csv.allow_nonfinite = false;
    write_file(csv.path, "1,-1e999\n");
    CHECK(csv.error() == csv.path + ":1:2: out of range for float64: '-1e999'");
  }
  SUBCASE("a value too small for the dtype stays out of range: no infinity stands for it") {
    write_file(csv.path, "1,1e-50\n");
    csv.dtype = "float32";
    CHECK(csv.error() == csv.path + ":1:2: out of range for float32: '1e-50'");
  }
  SUBCASE("a label is an integer all the same") {
    write_file(csv.path, "1,inf\n");
    csv.label = "2";
    CHECK(csv.error() == csv.path + ":1:2: label is not an integer: 'inf'");
  }
}

TEST_CASE("load_csv: in a graph, a nan fails the node and changes no cache entry, and allow_nonfinite: true loads it") {
  TempDir dir;
  write_file(dir / "good.csv", "a,b\n1,2\n");
  write_file(dir / "bad.csv", "a,b\n1,2\n3,NaN\n");
  const std::string graph = dir / "g.yaml", cache = dir / "cache";
  const std::string good = "nodes:\n  good: {op: load_csv, params: {file: " + (dir / "good.csv") + "}}\n";
  const auto run = [&] { return run_command(std::string(UNTANGLE_BINARY) + " run " + graph + " --cache " + cache); };
  write_file(graph, good);
  REQUIRE(run().code == 0);
  const Snapshot before = snapshot(cache + "/objects");
  write_file(graph, good + "  d: {op: load_csv, params: {file: " + (dir / "bad.csv") + "}}\n");
  auto r = run();
  CHECK(r.code == 1);
  CHECK_CONTAINS(r.out, "  cached  good\n");
  CHECK_CONTAINS(r.out, "  FAILED  d: " + (dir / "bad.csv") +
                            ":3:2: not a finite number: 'NaN' (allow_nonfinite: true takes it)\n");
  CHECK(last_line(r.out) == "done: 0 ran, 1 cached, 1 failed, 0 skipped");
  CHECK(r.err == "");
  CHECK(difference(before, snapshot(cache + "/objects")) == "");
  write_file(graph, good + "  d: {op: load_csv, params: {file: " + (dir / "bad.csv") + ", allow_nonfinite: true}}\n");
  r = run();
  CHECK(r.code == 0);
  CHECK(run_command(std::string(UNTANGLE_BINARY) + " get " + graph + " d.x --cache " + cache).out == "1,2\n3,nan\n");
}
