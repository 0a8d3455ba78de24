#include <doctest/doctest.h>

// The load_idx op on IDX files written byte by byte: every element type to its dtype with
// known values, .gz read as plain, scaling, the optional label file, and each error, also
// through the real binary (a failed node leaves no cache entry).
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "nodes/data/ops.h"
#include "tests/checks.h"
#include "tests/helpers.h"
#include "tests/idx_files.h"

using namespace untangle;
using namespace untangle::test;

namespace {

OpContext context_for(const std::string& x, const std::string& y = "", double scale = 0) {
  OpContext ctx;
  ctx.params = YAML::Node(YAML::NodeType::Map);
  ctx.params["x"] = x;
  ctx.params["y"] = y;
  ctx.params["scale"] = scale;
  ctx.params["max_bytes"] = 0;
  return ctx;
}

Outputs load(const std::string& x, const std::string& y = "", double scale = 0) {
  OpContext ctx = context_for(x, y, scale);
  return load_idx_op().run(ctx);
}

template <class T> std::vector<T> values(const Tensor& t) {
  REQUIRE(t.dtype == dtype_of<T>());
  return std::vector<T>(t.data<T>(), t.data<T>() + t.size());
}

using Shape = std::vector<std::size_t>;

}  // namespace

TEST_CASE("load_idx: every IDX element type becomes its dtype, big-endian values read right") {
  TempDir dir;
  const std::string p = dir / "x.idx";
  SUBCASE("u8") {
    write_bytes(p, idx(0x08, {3}, {0, 200, 255}));
    CHECK(values<std::uint8_t>(load(p).at("x")) == std::vector<std::uint8_t>{0, 200, 255});
  }
  SUBCASE("i8") {
    write_bytes(p, idx(0x09, {3}, {0x80, 0xff, 0x7f}));
    CHECK(values<std::int8_t>(load(p).at("x")) == std::vector<std::int8_t>{-128, -1, 127});
  }
  SUBCASE("i16") {
    write_bytes(p, idx(0x0B, {2, 1}, {0xff, 0xfe, 0x01, 0x2c}));
    const Tensor x = load(p).at("x");
    CHECK(x.shape == Shape{2, 1});
    CHECK(values<std::int16_t>(x) == std::vector<std::int16_t>{-2, 300});
  }
  SUBCASE("i32") {
    write_bytes(p, idx(0x0C, {2}, {0xff, 0xff, 0xff, 0xff, 0x00, 0x01, 0x00, 0x02}));
    CHECK(values<std::int32_t>(load(p).at("x")) == std::vector<std::int32_t>{-1, 65538});
  }
  SUBCASE("f32") {
    write_bytes(p, idx(0x0D, {1, 2}, {0x3f, 0xc0, 0, 0, 0xc0, 0, 0, 0}));
    CHECK(values<float>(load(p).at("x")) == std::vector<float>{1.5f, -2.0f});
  }
  SUBCASE("f64") {
    write_bytes(p, idx(0x0E, {2}, {0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a, 0xc0, 0x08, 0, 0, 0, 0, 0, 0}));
    CHECK(values<double>(load(p).at("x")) == std::vector<double>{0.1, -3.0});
  }
}

TEST_CASE("load_idx: x and y as stored, a .gz file equal to its plain twin, files() as given") {
  TempDir dir;
  const Bytes images = idx(0x08, {3, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  const Bytes labels = idx(0x08, {3}, {7, 0, 9});
  write_bytes(dir / "x", images);
  write_bytes(dir / "y", labels);
  write_gz(dir / "x.gz", images);
  write_gz(dir / "y.gz", labels);

  const Outputs plain = load(dir / "x", dir / "y");
  CHECK(plain.size() == 2);
  CHECK(plain.at("x").shape == Shape{3, 2, 2});
  CHECK(values<std::uint8_t>(plain.at("x")) == std::vector<std::uint8_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  CHECK(values<std::uint8_t>(plain.at("y")) == std::vector<std::uint8_t>{7, 0, 9});

  const Outputs gz = load(dir / "x.gz", dir / "y.gz");
  CHECK(gz.at("x").digest() == plain.at("x").digest());
  CHECK(gz.at("y").digest() == plain.at("y").digest());

  const OpSchema op = load_idx_op();
  CHECK(op.files(context_for(dir / "x.gz", dir / "y").params) == std::vector<std::string>{dir / "x.gz", dir / "y"});
  CHECK(op.files(context_for(dir / "x").params) == std::vector<std::string>{dir / "x"});
  CHECK(!op.param("x")->hashed);
  CHECK(!op.param("y")->hashed);
}

TEST_CASE("load_idx: without y, y is an empty uint8 [0]") {
  TempDir dir;
  write_bytes(dir / "x", idx(0x08, {2}, {4, 5}));
  const Tensor y = load(dir / "x").at("y");
  CHECK(y.dtype == DType::u8);
  CHECK(y.shape == Shape{0});
}

TEST_CASE("load_idx: scale turns x into float32 x*scale and leaves y alone") {
  TempDir dir;
  write_bytes(dir / "x", idx(0x08, {3, 1}, {0, 51, 255}));
  write_bytes(dir / "s", idx(0x0B, {2}, {0xff, 0xfe, 0x01, 0x2c}));
  write_bytes(dir / "y", idx(0x08, {3}, {1, 2, 3}));
  const Outputs out = load(dir / "x", dir / "y", 0.00392156862745098);
  CHECK(out.at("x").shape == Shape{3, 1});
  // The same floats as load_mnist's u8 / 255.0f.
  CHECK(values<float>(out.at("x")) == std::vector<float>{0.0f, 51 / 255.0f, 1.0f});
  CHECK(values<std::uint8_t>(out.at("y")) == std::vector<std::uint8_t>{1, 2, 3});
  CHECK(values<float>(load(dir / "s", "", 0.5).at("x")) == std::vector<float>{-1.0f, 150.0f});

  std::string error;
  canonical_param(*load_idx_op().param("scale"), YAML::Load("-1"), error);
  CHECK(error == "scale must be >= 0, got -1");
}

TEST_CASE("load_idx: malformed or disagreeing files are errors naming the file") {
  TempDir dir;
  const std::string x = dir / "x", y = dir / "y";
  write_bytes(x, idx(0x08, {3, 2}, Bytes(6, 1)));
  write_bytes(y, idx(0x08, {3}, {1, 2, 3}));
  auto error = [&] { return error_of([&] { load(x, y); }); };

  SUBCASE("fewer labels than rows") {
    write_bytes(y, idx(0x08, {2}, {1, 2}));
    CHECK(error() == y + ": 2 labels, but " + x + " has 3 rows");
  }
  SUBCASE("a wrong magic number") {
    write_bytes(x, {1, 2, 3, 4, 5});
    CHECK(error() == x + ": not an IDX file (magic number 0x01020304)");
  }
  SUBCASE("an unsupported element type") {
    write_bytes(x, idx(0x0A, {1}, {0}));
    CHECK(error() == x + ": unknown IDX data type in magic number 0x00000a01");
  }
  SUBCASE("a truncated file") {
    write_bytes(y, idx(0x08, {3}, {1, 2}));
    CHECK(error() == y + ": truncated IDX file (shape [3] needs 3 bytes of data, file has 2)");
  }
  SUBCASE("a truncated .gz file") {
    write_gz(dir / "x.gz", idx(0x0C, {2}, Bytes(8, 0)));
    std::filesystem::resize_file(dir / "x.gz", std::filesystem::file_size(dir / "x.gz") - 12);
    CHECK(error_of([&] { load(dir / "x.gz"); }) == dir / "x.gz" + ": cannot decompress: unexpected end of file");
  }
  SUBCASE("a missing file") { CHECK(error_of([&] { load(dir / "nope"); }) == dir / "nope" + ": cannot open"); }
}

TEST_CASE("load_idx: in the real binary a bad file fails its node, exit code 1, caching nothing, and moved files stay cached") {
  TempDir dir;
  write_bytes(dir / "x", idx(0x08, {3, 2}, Bytes(6, 1)));
  write_bytes(dir / "y", idx(0x08, {2}, {1, 2}));
  const std::string graph = dir / "g.yaml";
  write_file(graph, "nodes:\n  data: {op: load_idx, params: {x: " + dir / "x" + ", y: " + dir / "y" + "}}\n");
  const std::string args = " " + graph + " --cache " + dir / "cache";
  const auto r = run_command(std::string(UNTANGLE_BINARY) + " run" + args);
  CHECK(r.code == 1);
  CHECK_CONTAINS(r.out, "  FAILED  data: " + dir / "y" + ": 2 labels, but " + dir / "x" + " has 3 rows");
  const auto s = run_command(std::string(UNTANGLE_BINARY) + " status" + args);
  CHECK(s.out == "data\tstale\n");
  std::size_t entries = 0;
  if (std::filesystem::exists(dir / "cache/objects"))
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir / "cache/objects"))
      entries += e.is_regular_file();
  CHECK(entries == 0);

  // The same node with agreeing files runs and is then cached.
  write_bytes(dir / "y", idx(0x08, {3}, {1, 2, 3}));
  CHECK(run_command(std::string(UNTANGLE_BINARY) + " run" + args).code == 0);
  CHECK(run_command(std::string(UNTANGLE_BINARY) + " status" + args).out == "data\tcached\n");

  // Paths are not in the key, contents are: the same files moved elsewhere are still cached.
  std::filesystem::create_directory(dir / "moved");
  for (const char* f : {"x", "y"}) std::filesystem::rename(dir / f, dir / "moved" + "/" + f);
  write_file(graph, "nodes:\n  data: {op: load_idx, params: {x: " + dir / "moved/x" + ", y: " + dir / "moved/y" + "}}\n");
  CHECK(run_command(std::string(UNTANGLE_BINARY) + " status" + args).out == "data\tcached\n");
}
