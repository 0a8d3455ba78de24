#include <doctest/doctest.h>

// load_npy on .npy files and .npz archives written byte by byte: every dtype with known values,
// both byte orders, C and Fortran order, format versions 1 to 3, stored and deflated members,
// and each malformed file's exact message; then a bad file through the untangle binary.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>
#include <vector>

#include "nodes/data/npy.h"
#include "nodes/data/ops.h"
#include "tests/checks.h"
#include "tests/helpers.h"
#include "tests/npy_files.h"

using namespace untangle;
using namespace untangle::test;

namespace {

struct Case {
  std::string descr;  // little-endian or byte-free form
  std::string data;   // its bytes, little-endian
  std::size_t item;
  DType dtype;
  std::vector<double> values;
};

std::vector<Case> cases() {
  return {
      {"|u1", le_bytes<std::uint8_t>({0, 7, 255}), 1, DType::u8, {0, 7, 255}},
      {"|b1", le_bytes<std::uint8_t>({1, 0, 1}), 1, DType::u8, {1, 0, 1}},
      {"|i1", le_bytes<std::int8_t>({-128, 0, 127}), 1, DType::i8, {-128, 0, 127}},
      {"<i2", le_bytes<std::int16_t>({-300, 2, 32767}), 2, DType::i16, {-300, 2, 32767}},
      {"<i4", le_bytes<std::int32_t>({-70000, 1, 2147483647}), 4, DType::i32, {-70000, 1, 2147483647}},
      {"<i8", le_bytes<std::int64_t>({-5000000000, 1, 9}), 8, DType::i64, {-5000000000.0, 1, 9}},
      {"<u2", le_bytes<std::uint16_t>({65535, 0, 1}), 2, DType::i32, {65535, 0, 1}},
      {"<u4", le_bytes<std::uint32_t>({4294967295u, 0, 1}), 4, DType::i64, {4294967295.0, 0, 1}},
      {"<f4", le_bytes<float>({0.5f, -1.25f, 3e38f}), 4, DType::f32, {0.5, -1.25, double(3e38f)}},
      {"<f8", le_bytes<double>({0.1, -2.5, 1e300}), 8, DType::f64, {0.1, -2.5, 1e300}},
  };
}

Tensor parse(const std::string& bytes) { return parse_npy(bytes, "t.npy"); }

OpContext context(const std::string& x, const std::string& x_key, const std::string& y = "",
                  const std::string& y_key = "") {
  OpContext ctx;
  ctx.params["x"] = x;
  ctx.params["x_key"] = x_key;
  ctx.params["max_bytes"] = 0;
  ctx.params["y"] = y;
  ctx.params["y_key"] = y_key;
  return ctx;
}

}  // namespace

TEST_CASE("load_npy: every numeric dtype gives its known values, in either byte order") {
  for (const auto& c : cases()) {
    CAPTURE(c.descr);
    const Tensor t = parse(npy(c.descr, "(3,)", c.data));
    CHECK(t.dtype == c.dtype);
    CHECK(t.shape == std::vector<std::size_t>{3});
    REQUIRE(t.bytes.size() == 3 * dtype_size(c.dtype));
    for (std::size_t i = 0; i < 3; ++i) CHECK(t.at(i) == c.values[i]);
    const std::string big = c.descr[0] == '<' ? ">" + c.descr.substr(1) : c.descr;
    CHECK(parse(npy(big, "(3,)", swap_items(c.data, c.item))).digest() == t.digest());
  }
  // '=' is the writer's native order, which NumPy only writes on little-endian machines.
  CHECK(parse(npy("=i2", "(3,)", le_bytes<std::int16_t>({1, 2, 3}))).at(2) == 3);
}

TEST_CASE("load_npy: Fortran order becomes row-major") {
  // a[i][j][k] = 100 i + 10 j + k, shape (2, 3, 4).
  std::vector<std::int32_t> c_order, f_order;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) c_order.push_back(100 * i + 10 * j + k);
  for (int k = 0; k < 4; ++k)
    for (int j = 0; j < 3; ++j)
      for (int i = 0; i < 2; ++i) f_order.push_back(100 * i + 10 * j + k);
  const Tensor c = parse(npy("<i4", "(2, 3, 4)", le_bytes(c_order)));
  const Tensor f = parse(npy("<i4", "(2, 3, 4)", le_bytes(f_order), true));
  CHECK(f.shape == std::vector<std::size_t>{2, 3, 4});
  CHECK(f.digest() == c.digest());
  CHECK(f.data<std::int32_t>()[(1 * 3 + 2) * 4 + 3] == 123);
  CHECK(f.data<std::int32_t>()[(0 * 3 + 1) * 4 + 0] == 10);
  // Big-endian Fortran float64: both conversions at once.
  std::vector<double> fd(f_order.begin(), f_order.end());
  const Tensor fb = parse(npy(">f8", "(2, 3, 4)", swap_items(le_bytes(fd), 8), true));
  CHECK(fb.dtype == DType::f64);
  for (std::size_t i = 0; i < c_order.size(); ++i) CHECK(fb.data<double>()[i] == c_order[i]);
}

TEST_CASE("load_npy: format versions 1.0, 2.0 and 3.0, scalars and empty arrays") {
  const std::string data = le_bytes<float>({1, 2, 3, 4, 5, 6});
  const Tensor v1 = parse(npy("<f4", "(2, 3)", data, false, 1));
  CHECK(v1.shape == std::vector<std::size_t>{2, 3});
  CHECK(parse(npy("<f4", "(2, 3)", data, false, 2)).digest() == v1.digest());
  CHECK(parse(npy("<f4", "(2, 3)", data, false, 3)).digest() == v1.digest());
  const Tensor scalar = parse(npy("<f8", "()", le_bytes<double>({2.5})));
  CHECK(scalar.is_scalar());
  CHECK(scalar.at(0) == 2.5);
  const Tensor empty = parse(npy("<i8", "(0, 5)", ""));
  CHECK(empty.shape == std::vector<std::size_t>{0, 5});
  CHECK(empty.bytes.empty());
}

TEST_CASE("load_npy: arrays of an .npz archive, stored and deflated") {
  TempDir dir;
  std::vector<double> xs;
  for (int i = 0; i < 200; ++i) xs.push_back(i * 0.5);  // long enough that deflate shrinks it
  const std::string x = npy("<f8", "(100, 2)", le_bytes(xs));
  const std::string y = npy("|u1", "(4,)", le_bytes<std::uint8_t>({3, 1, 4, 1}));
  const std::string archive = zip({{"train_x.npy", x, true}, {"train_y.npy", y, false}});
  CHECK(archive.size() < x.size());  // the deflated member really is compressed
  write_file(dir / "d.npz", archive);
  write_file(dir / "x.npy", x);

  const Tensor from_npz = read_npy(dir / "d.npz", "train_x");
  CHECK(from_npz.digest() == read_npy(dir / "x.npy", "").digest());
  CHECK(from_npz.data<double>()[199] == 99.5);
  CHECK(read_npy(dir / "d.npz", "train_y.npy").at(2) == 4);

  const OpSchema op = load_npy_op();
  OpContext ctx = context(dir / "d.npz", "train_x", dir / "d.npz", "train_y");
  CHECK(op.files(ctx.params) == std::vector<std::string>{dir / "d.npz", dir / "d.npz"});
  const Outputs out = op.run(ctx);
  CHECK(out.at("x").digest() == from_npz.digest());
  CHECK(out.at("y").shape == std::vector<std::size_t>{4});
  CHECK(out.at("y").at(0) == 3);

  // Without y: one file, and an empty y.
  OpContext alone = context(dir / "x.npy", "");
  CHECK(op.files(alone.params) == std::vector<std::string>{dir / "x.npy"});
  const Outputs only = op.run(alone);
  CHECK(only.at("x").digest() == from_npz.digest());
  CHECK(only.at("y").dtype == DType::u8);
  CHECK(only.at("y").shape == std::vector<std::size_t>{0});
}

TEST_CASE("load_npy: malformed .npy files are errors naming the file") {
  const std::string ok = le_bytes<std::int32_t>({1, 2, 3, 4, 5, 6});
  auto error = [](const std::string& bytes) { return error_of([&] { parse(bytes); }); };
  CHECK(error("\x93NUMPZ\x01") == "t.npy: not an .npy file (bad magic)");
  CHECK(error(std::string("\x93NUMPY\x01\x00\x46", 9)) == "t.npy: truncated .npy file (no header)");
  CHECK(error(npy("<i4", "(2, 3)", ok).substr(0, 40)) == "t.npy: truncated .npy file (header)");
  CHECK(error(std::string("\x93NUMPY\x04\x00\x00\x00", 10)) == "t.npy: unknown .npy format version 4.0");
  CHECK(error(npy("<i4", "(2, 3)", ok.substr(0, 20))) ==
        "t.npy: truncated .npy file: shape [2, 3] of <i4 needs 24 bytes of data, the file has 20");
  CHECK(error(npy("<i4", "(2, 2)", ok)) == "t.npy: 8 bytes after the data of shape [2, 2] of <i4");
  CHECK(error(npy("<i4", "[2, 3]", ok)) ==
        "t.npy: cannot parse the .npy header (shape is not a tuple): {'descr': '<i4', 'fortran_order': False, "
        "'shape': [2, 3], }");
  std::string maybe = npy("<i4", "(2, 3)", ok);
  maybe.replace(maybe.find("False"), 5, "Maybe");
  CHECK(error(maybe) ==
        "t.npy: cannot parse the .npy header (fortran_order is not True or False): {'descr': '<i4', "
        "'fortran_order': Maybe, 'shape': (2, 3), }");
  CHECK(error(npy("|O", "(1,)", "\x80\x04")) ==
        "t.npy: object arrays (dtype '|O', Python pickles) are not read, for safety");
  for (const char* d : {"<u8", "<f2", "<c16", "<M8"})
    CHECK(error(npy(d, "(1,)", std::string(8, '\0'))) ==
          "t.npy: dtype '" + std::string(d) +
              "' has no matching tensor type (supported: bool, int8-64, uint8-32, float32, float64)");
  std::string structured = npy("<i4", "(1,)", "abcd");
  structured.replace(structured.find("'<i4'"), 5, "[('a', '<i4')]");
  CHECK_CONTAINS(error(structured), "t.npy: structured dtypes are not supported: {'descr': [('a', '<i4')]");
}

TEST_CASE("load_npy: archive errors name the file and the array") {
  TempDir dir;
  const std::string a = npy("<f4", "(2,)", le_bytes<float>({1, 2}));
  write_file(dir / "d.npz", zip({{"a.npy", a, false}, {"b.npy", a, true}}));
  const std::string path = dir / "d.npz";
  CHECK(error_of([&] { read_npy(path, "c"); }) == path + ": no array 'c' (the archive holds: a, b)");
  CHECK(error_of([&] { read_npy(path, ""); }) == path + ": an .npz archive: name one of its arrays (it holds: a, b)");
  CHECK(error_of([&] { read_npy(dir / "none.npz", "a"); }) == dir / "none.npz" + ": cannot open");

  std::string damaged = zip({{"a.npy", a, false}});
  damaged[30 + 5 + 60] ^= 1;  // a data byte of the stored member, past the local header and name
  write_file(dir / "crc.npz", damaged);
  CHECK(error_of([&] { read_npy(dir / "crc.npz", "a"); }) == dir / "crc.npz" + ", array 'a': CRC mismatch (damaged archive)");

  write_file(dir / "z64.npz", zip({{"a.npy", a, false}}, true));
  CHECK(error_of([&] { read_npy(dir / "z64.npz", "a"); }) == dir / "z64.npz" + ": zip64 archives are not supported (member a.npy)");

  const std::string good = zip({{"a.npy", a, false}});
  write_file(dir / "cut.npz", good.substr(good.size() - 30));
  CHECK(error_of([&] { read_npy(dir / "cut.npz", "a"); }) ==
        dir / "cut.npz" + ": truncated zip archive (central directory out of bounds)");
  write_file(dir / "no.npz", std::string(40, 'x'));
  CHECK(error_of([&] { read_npy(dir / "no.npz", "a"); }) ==
        dir / "no.npz" + ": not a zip archive (no end of central directory)");

  // An array inside the archive that is itself bad.
  write_file(dir / "bad.npz", zip({{"a.npy", "not numpy", true}}));
  CHECK(error_of([&] { read_npy(dir / "bad.npz", "a"); }) == dir / "bad.npz" + ", array 'a': not an .npy file (bad magic)");

  OpContext ctx = context(path, "a", "", "b");
  CHECK(error_of([&] { load_npy_op().run(ctx); }) == "y_key 'b' is set but y is not");
}

TEST_CASE("load_npy: a bad file fails its node with the message and caches nothing") {
  TempDir dir;
  write_file(dir / "x.npy", npy("<i4", "(3,)", le_bytes<std::int32_t>({1, 2})));
  write_file(dir / "g.yaml", "nodes:\n  data: {op: load_npy, params: {x: " + dir / "x.npy" +
                                 "}}\n  stats: {op: describe, inputs: {x: data.x}}\n");
  const std::string args = " " + (dir / "g.yaml") + " --cache " + (dir / "cache");
  auto r = run_command(std::string(UNTANGLE_BINARY) + " run" + args);
  CHECK(r.code == 1);
  CHECK_CONTAINS(r.out, "  FAILED  data: " + dir / "x.npy" +
                            ": truncated .npy file: shape [3] of <i4 needs 12 bytes of data, the file has 8");
  r = run_command(std::string(UNTANGLE_BINARY) + " status" + args);
  CHECK_CONTAINS(r.out, "data\tstale\n");

  // Fixed, it runs and is cached.
  write_file(dir / "x.npy", npy("<i4", "(3,)", le_bytes<std::int32_t>({1, 2, 3})));
  CHECK(run_command(std::string(UNTANGLE_BINARY) + " run" + args).code == 0);
  r = run_command(std::string(UNTANGLE_BINARY) + " status" + args);
  CHECK_CONTAINS(r.out, "data\tcached\n");
}

TEST_CASE("load_npy: an archive far larger in memory than on disk loads, and says so") {
  TempDir dir;
  // 80 MiB of zeros deflate to well under 1 MiB: legitimate, but worth a line in the log.
  const std::string big = npy("<f8", "(10485760,)", std::string(80u << 20, '\0'));
  const std::string z = zip({{"a.npy", big, true}});
  REQUIRE(z.size() < (1u << 20));
  write_file(dir / "d.npz", z);
  CHECK(parse_npz(z, "a", "mem").digest() == parse_npy(big, "mem").digest());
  OpContext ctx = context(dir / "d.npz", "a");
  std::vector<std::string> logged;
  ctx.log = [&](const std::string& text) { logged.push_back(text); };
  const Tensor x = load_npy_op().run(ctx).at("x");
  CHECK(x.shape == std::vector<std::size_t>{10485760});
  REQUIRE(logged.size() == 1);
  CHECK(logged[0] == "x: 80.0 MiB (83886080 bytes) in memory from " + bytes_text(z.size()) + " of file");
  // An ordinary file says nothing.
  write_file(dir / "small.npy", npy("<f4", "(2,)", le_bytes<float>({1, 2})));
  OpContext quiet = context(dir / "small.npy", "");
  quiet.log = [&](const std::string& text) { logged.push_back(text); };
  load_npy_op().run(quiet);
  CHECK(logged.size() == 1);
}

TEST_CASE("load_npy: a deflated member whose .npy header is shorter than its prefix is an error, not a crash") {
  // Version 1, a header of length 0: the data starts at byte 10, before the 12 bytes that the
  // reader inflates first to learn where it starts.
  const std::string member = std::string("\x93NUMPY\x01\x00\x00\x00", 10) + "abcd";
  const std::string z = zip({{"a.npy", member, true}});
  CHECK(error_of([&] { parse_npz(z, "a", "m"); }) == "m, array 'a': cannot parse the .npy header (not a dict): ");
}
