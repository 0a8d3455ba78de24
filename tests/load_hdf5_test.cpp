#include <doctest/doctest.h>

// load_hdf5 on files written with HDF5's C API: each integer and float type (either byte order)
// with known values, any rank, and the exact message for a missing dataset, a non-numeric or
// unsupported type and a file that is not HDF5.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>
#include <vector>

#include "nodes/data/hdf5.h"
#include "nodes/data/ops.h"
#include "tests/checks.h"
#include "tests/h5_files.h"
#include "tests/helpers.h"

using namespace untangle;
using namespace untangle::test;

namespace {

OpContext context(const std::string& file, const std::string& x, const std::string& y = "") {
  OpContext ctx;
  ctx.params["file"] = file;
  ctx.params["x"] = x;
  ctx.params["y"] = y;
  ctx.params["max_bytes"] = 0;
  return ctx;
}

Tensor load(const std::string& file, const std::string& x) {
  OpContext ctx = context(file, x);
  return load_hdf5_op().run(ctx).at("x");
}

}  // namespace

TEST_CASE("load_hdf5: every integer and float type gives its known values, in either byte order") {
  TempDir dir;
  const std::int8_t i8[] = {-128, 0, 127};
  const std::uint8_t u8[] = {0, 7, 255};
  const std::int16_t i16[] = {-300, 2, 32767};
  const std::uint16_t u16[] = {65535, 0, 1};
  const std::int32_t i32[] = {-70000, 1, 2147483647};
  const std::uint32_t u32[] = {4294967295u, 0, 1};
  const std::int64_t i64[] = {-5000000000, 1, 9};
  const float f32[] = {0.5f, -1.25f, 3e38f};
  const double f64[] = {0.1, -2.5, 1e300};
  struct Case {
    const char* name;
    hid_t le, be, mem;
    const void* data;
    DType dtype;
    std::vector<double> values;
  };
  const std::vector<Case> cases{
      {"i8", H5T_STD_I8LE, H5T_STD_I8BE, H5T_NATIVE_INT8, i8, DType::i8, {-128, 0, 127}},
      {"u8", H5T_STD_U8LE, H5T_STD_U8BE, H5T_NATIVE_UINT8, u8, DType::u8, {0, 7, 255}},
      {"i16", H5T_STD_I16LE, H5T_STD_I16BE, H5T_NATIVE_INT16, i16, DType::i16, {-300, 2, 32767}},
      {"u16", H5T_STD_U16LE, H5T_STD_U16BE, H5T_NATIVE_UINT16, u16, DType::i32, {65535, 0, 1}},
      {"i32", H5T_STD_I32LE, H5T_STD_I32BE, H5T_NATIVE_INT32, i32, DType::i32, {-70000, 1, 2147483647}},
      {"u32", H5T_STD_U32LE, H5T_STD_U32BE, H5T_NATIVE_UINT32, u32, DType::i64, {4294967295.0, 0, 1}},
      {"i64", H5T_STD_I64LE, H5T_STD_I64BE, H5T_NATIVE_INT64, i64, DType::i64, {-5000000000.0, 1, 9}},
      {"f32", H5T_IEEE_F32LE, H5T_IEEE_F32BE, H5T_NATIVE_FLOAT, f32, DType::f32, {0.5, -1.25, double(3e38f)}},
      {"f64", H5T_IEEE_F64LE, H5T_IEEE_F64BE, H5T_NATIVE_DOUBLE, f64, DType::f64, {0.1, -2.5, 1e300}},
  };
  std::vector<H5Dataset> sets;
  for (const auto& c : cases) {
    sets.push_back({std::string("/le/") + c.name, c.le, c.mem, {3}, c.data});
    sets.push_back({std::string("/be/") + c.name, c.be, c.mem, {3}, c.data});
  }
  write_h5(dir / "t.h5", sets);
  for (const auto& c : cases) {
    CAPTURE(c.name);
    const Tensor t = load(dir / "t.h5", std::string("/le/") + c.name);
    CHECK(t.dtype == c.dtype);
    CHECK(t.shape == std::vector<std::size_t>{3});
    for (std::size_t i = 0; i < 3; ++i) CHECK(t.at(i) == c.values[i]);
    CHECK(load(dir / "t.h5", std::string("/be/") + c.name).digest() == t.digest());
  }
}

TEST_CASE("load_hdf5: any rank, row-major as stored, and two datasets of one file") {
  TempDir dir;
  std::vector<float> images(2 * 3 * 4);
  for (std::size_t i = 0; i < images.size(); ++i) images[i] = 0.25f * float(i);
  const std::uint8_t labels[] = {4, 2};
  const double scalar = 6.5;
  write_h5(dir / "d.h5", {{"/train/images", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {2, 3, 4}, images.data()},
                          {"/train/labels", H5T_STD_U8LE, H5T_NATIVE_UINT8, {2}, labels},
                          {"/scale", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {}, &scalar},
                          {"/none", H5T_STD_I32LE, H5T_NATIVE_INT32, {0, 3}, nullptr}});
  const OpSchema op = load_hdf5_op();
  OpContext ctx = context(dir / "d.h5", "/train/images", "train/labels");
  CHECK(op.files(ctx.params) == std::vector<std::string>{dir / "d.h5"});
  const Outputs out = op.run(ctx);
  const Tensor& x = out.at("x");
  CHECK(x.dtype == DType::f32);
  CHECK(x.shape == std::vector<std::size_t>{2, 3, 4});
  CHECK(x.data<float>()[(1 * 3 + 2) * 4 + 3] == 0.25f * 23);
  CHECK(out.at("y").shape == std::vector<std::size_t>{2});
  CHECK(out.at("y").at(0) == 4);
  CHECK(out.at("y").at(1) == 2);

  const Tensor s = load(dir / "d.h5", "/scale");
  CHECK(s.is_scalar());
  CHECK(s.at(0) == 6.5);
  const Tensor none = load(dir / "d.h5", "/none");
  CHECK(none.shape == std::vector<std::size_t>{0, 3});
  CHECK(none.dtype == DType::i32);

  OpContext alone = context(dir / "d.h5", "/scale");
  const Outputs only = op.run(alone);
  CHECK(only.at("y").dtype == DType::u8);
  CHECK(only.at("y").shape == std::vector<std::size_t>{0});
}

TEST_CASE("load_hdf5: soft links inside the file are followed, and a file image reads as the file") {
  TempDir dir;
  const std::int16_t xs[] = {-3, 7, 11};
  write_h5(dir / "d.h5", {{"/data/x", H5T_STD_I16BE, H5T_NATIVE_INT16, {3}, xs}});
  const hid_t f = H5Fopen((dir / "d.h5").c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  REQUIRE(H5Lcreate_soft("/data/x", f, "/alias", H5P_DEFAULT, H5P_DEFAULT) >= 0);
  REQUIRE(H5Lcreate_soft("/data", f, "/d", H5P_DEFAULT, H5P_DEFAULT) >= 0);
  H5Fclose(f);
  const Tensor direct = load(dir / "d.h5", "/data/x");
  CHECK(direct.dtype == DType::i16);
  CHECK(direct.at(0) == -3);
  CHECK(direct.at(2) == 11);
  CHECK(load(dir / "d.h5", "/alias").digest() == direct.digest());
  CHECK(load(dir / "d.h5", "/d/x").digest() == direct.digest());
  const std::string image = read_file(dir / "d.h5");
  CHECK(read_hdf5_image(image, "/alias", "in memory").digest() == direct.digest());
  CHECK(error_of([&] { read_hdf5_image(image, "/nope", "in memory"); }) == "in memory: no dataset '/nope'");
  CHECK(error_of([&] { read_hdf5_image("not hdf5", "/x", "in memory"); }) == "in memory: cannot open as an HDF5 file");
}

TEST_CASE("load_hdf5: missing datasets, other types and other files are errors naming them") {
  TempDir dir;
  const char names[] = "abcdefgh";
  const std::uint64_t big[] = {1, 2};
  const double one = 1;
  const hid_t str = H5Tcopy(H5T_C_S1);
  H5Tset_size(str, 4);
  write_h5(dir / "d.h5", {{"/names", str, str, {2}, names},
                          {"/big", H5T_STD_U64LE, H5T_NATIVE_UINT64, {2}, big},
                          {"/g/one", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {}, &one}});
  H5Tclose(str);
  const std::string f = dir / "d.h5";
  auto error = [&](const std::string& file, const std::string& x, const std::string& y = "") {
    return error_of([&] {
      OpContext ctx = context(file, x, y);
      load_hdf5_op().run(ctx);
    });
  };
  CHECK(error(f, "/nope") == f + ": no dataset '/nope'");
  CHECK(error(f, "/no/such/path") == f + ": no dataset '/no/such/path'");
  CHECK(error(f, "/g") == f + ": no dataset '/g'");  // a group
  CHECK(error(f, "/g/one", "/labels") == f + ": no dataset '/labels'");
  CHECK(error(f, "/names") == f + ": dataset '/names' is not numeric (HDF5 string type)");
  CHECK(error(f, "/big") == f + ": dataset '/big' holds unsigned 64-bit integers, which no tensor type holds");
  write_file(dir / "not.h5", "plain text, not HDF5");
  CHECK(error(dir / "not.h5", "/x") == dir / "not.h5" + ": cannot open as an HDF5 file");
  CHECK(error(dir / "absent.h5", "/x") == dir / "absent.h5" + ": cannot open as an HDF5 file");
}
