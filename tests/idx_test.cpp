#include <doctest/doctest.h>

// The IDX reader against files written byte by byte: every type code, big-endian decoding,
// gzip, and every way a file can be broken (each rejection must name the file).
#include <zlib.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "nodes/data/idx.h"
#include "tests/helpers.h"
#include "tests/checks.h"
#include "tests/idx_files.h"

using namespace untangle;
using namespace untangle::test;

namespace {

std::string read_error(const std::string& path) {
  return error_of([&] { read_idx(path); });
}

// A 2×3×2 uint8 file whose values are all distinct, and the values in row-major order.
const Bytes kU8Values{0, 1, 7, 42, 99, 127, 128, 200, 254, 255, 13, 31};
Bytes u8_rank3() { return idx(0x08, {2, 3, 2}, kU8Values); }

void check_u8_rank3(const Tensor& t) {
  CHECK(t.dtype == DType::u8);
  CHECK(t.shape == std::vector<std::size_t>{2, 3, 2});
  REQUIRE(t.size() == 12);
  REQUIRE(t.bytes.size() == 12);
  const std::uint8_t* v = t.data<std::uint8_t>();
  for (std::size_t i = 0; i < 12; ++i) CHECK_MESSAGE(v[i] == kU8Values[i], "element " << i);
  // Row-major: element [1][2][0] is the 11th.
  CHECK(v[(1 * 3 + 2) * 2 + 0] == 13);
}

}  // namespace

TEST_CASE("idx: uint8 rank 3 reads back exactly") {
  TempDir dir;
  const std::string path = dir / "images-idx3-ubyte";
  write_bytes(path, u8_rank3());
  check_u8_rank3(read_idx(path));
}

TEST_CASE("idx: rank 1") {
  TempDir dir;
  const std::string path = dir / "labels-idx1-ubyte";
  write_bytes(path, idx(0x08, {5}, {3, 1, 4, 1, 5}));
  const Tensor t = read_idx(path);
  CHECK(t.dtype == DType::u8);
  CHECK(t.shape == std::vector<std::size_t>{5});
  const std::uint8_t expect[] = {3, 1, 4, 1, 5};
  for (std::size_t i = 0; i < 5; ++i) CHECK(t.data<std::uint8_t>()[i] == expect[i]);
}

TEST_CASE("idx: a dimension above 2^16 is decoded from all four bytes") {
  TempDir dir;
  const std::string path = dir / "long";
  // 0x00010003 = 65539 elements: a reader using only the low bytes would see 3.
  write_bytes(path, idx(0x08, {0x00010003}, Bytes(65539, 9)));
  const Tensor t = read_idx(path);
  CHECK(t.shape == std::vector<std::size_t>{65539});
  CHECK(t.data<std::uint8_t>()[65538] == 9);
}

TEST_CASE("idx: multi-byte types are big-endian in the file and native in the tensor") {
  TempDir dir;

  SUBCASE("int8") {
    write_bytes(dir / "f", idx(0x09, {3}, {0xFF, 0x80, 0x7F}));
    const Tensor t = read_idx(dir / "f");
    CHECK(t.dtype == DType::i8);
    CHECK(t.data<std::int8_t>()[0] == -1);
    CHECK(t.data<std::int8_t>()[1] == -128);
    CHECK(t.data<std::int8_t>()[2] == 127);
  }
  SUBCASE("int16") {
    write_bytes(dir / "f", idx(0x0B, {2}, {0xFF, 0xFD, 0x01, 0x02}));
    const Tensor t = read_idx(dir / "f");
    CHECK(t.dtype == DType::i16);
    CHECK(t.shape == std::vector<std::size_t>{2});
    CHECK(t.data<std::int16_t>()[0] == -3);
    CHECK(t.data<std::int16_t>()[1] == 258);
  }
  SUBCASE("int32") {
    // -2, 0x01020304, INT32_MIN, laid out as 1×3.
    write_bytes(dir / "f", idx(0x0C, {1, 3}, {0xFF, 0xFF, 0xFF, 0xFE, 0x01, 0x02, 0x03, 0x04, 0x80, 0x00, 0x00, 0x00}));
    const Tensor t = read_idx(dir / "f");
    CHECK(t.dtype == DType::i32);
    CHECK(t.shape == std::vector<std::size_t>{1, 3});
    REQUIRE(t.bytes.size() == 12);
    CHECK(t.data<std::int32_t>()[0] == -2);
    CHECK(t.data<std::int32_t>()[1] == 16909060);
    CHECK(t.data<std::int32_t>()[2] == INT32_MIN);
  }
  SUBCASE("float32") {
    // 1.5 = 0x3FC00000, -0.75 = 0xBF400000.
    write_bytes(dir / "f", idx(0x0D, {2}, {0x3F, 0xC0, 0x00, 0x00, 0xBF, 0x40, 0x00, 0x00}));
    const Tensor t = read_idx(dir / "f");
    CHECK(t.dtype == DType::f32);
    CHECK(t.data<float>()[0] == 1.5f);
    CHECK(t.data<float>()[1] == -0.75f);
  }
  SUBCASE("float64") {
    // 3.25 = 0x400A000000000000, -2.5 = 0xC004000000000000.
    write_bytes(dir / "f", idx(0x0E, {2, 1}, {0x40, 0x0A, 0, 0, 0, 0, 0, 0, 0xC0, 0x04, 0, 0, 0, 0, 0, 0}));
    const Tensor t = read_idx(dir / "f");
    CHECK(t.dtype == DType::f64);
    CHECK(t.shape == std::vector<std::size_t>{2, 1});
    CHECK(t.data<double>()[0] == 3.25);
    CHECK(t.data<double>()[1] == -2.5);
  }
}

TEST_CASE("idx: a gzipped file reads identically to the plain one") {
  TempDir dir;
  write_bytes(dir / "plain", u8_rank3());
  write_gz(dir / "plain.gz", u8_rank3());
  // The file really is compressed: it starts with the gzip magic, not the IDX one.
  const std::string gz = untangle::test::read_file(dir / "plain.gz");
  REQUIRE(gz.size() > 2);
  CHECK(static_cast<unsigned char>(gz[0]) == 0x1f);
  CHECK(static_cast<unsigned char>(gz[1]) == 0x8b);

  const Tensor plain = read_idx(dir / "plain");
  const Tensor zipped = read_idx(dir / "plain.gz");
  check_u8_rank3(zipped);
  CHECK(zipped.dtype == plain.dtype);
  CHECK(zipped.shape == plain.shape);
  CHECK(zipped.bytes == plain.bytes);

  SUBCASE("multi-byte data too") {
    const Bytes f64 = idx(0x0E, {1}, {0x40, 0x0A, 0, 0, 0, 0, 0, 0});
    write_gz(dir / "d.gz", f64);
    const Tensor t = read_idx(dir / "d.gz");
    CHECK(t.dtype == DType::f64);
    CHECK(t.data<double>()[0] == 3.25);
  }
}

TEST_CASE("idx: every malformed file is rejected with a message naming it") {
  TempDir dir;
  const std::string path = dir / "bad-idx-file";

  SUBCASE("missing file") {
    const std::string missing = dir / "no-such-file";
    const std::string e = read_error(missing);
    CHECK_CONTAINS(e, missing);
    CHECK_CONTAINS(e, "cannot open");
  }
  SUBCASE("wrong magic: first bytes not zero") {
    write_bytes(path, {0x01, 0x00, 0x08, 0x01, 0, 0, 0, 1, 5});
    const std::string e = read_error(path);
    CHECK_CONTAINS(e, path);
    CHECK_CONTAINS(e, "not an IDX file");
    CHECK_CONTAINS(e, "0x01000801");
  }
  SUBCASE("wrong magic: second byte not zero") {
    write_bytes(path, {0x00, 0x02, 0x08, 0x01, 0, 0, 0, 1, 5});
    const std::string e = read_error(path);
    CHECK_CONTAINS(e, path);
    CHECK_CONTAINS(e, "not an IDX file");
  }
  SUBCASE("a text file") {
    write_file(path, "hello, world\n");
    const std::string e = read_error(path);
    CHECK_CONTAINS(e, path);
    CHECK_CONTAINS(e, "not an IDX file");
  }
  SUBCASE("unknown type code") {
    write_bytes(path, idx(0x0A, {1}, {0, 0, 0, 0}));
    const std::string e = read_error(path);
    CHECK_CONTAINS(e, path);
    CHECK_CONTAINS(e, "unknown IDX data type");
    CHECK_CONTAINS(e, "0x00000a01");
  }
  SUBCASE("rank 0") {
    write_bytes(path, {0, 0, 0x08, 0x00, 7});
    const std::string e = read_error(path);
    CHECK_CONTAINS(e, path);
    CHECK_CONTAINS(e, "0x00000800");
  }
  SUBCASE("shorter than 4 bytes") {
    write_bytes(path, {0, 0, 0x08});
    const std::string e = read_error(path);
    CHECK_CONTAINS(e, path);
    CHECK_CONTAINS(e, "truncated");
    CHECK_CONTAINS(e, "3 bytes, no header");
  }
  SUBCASE("empty file") {
    write_file(path, "");
    const std::string e = read_error(path);
    CHECK_CONTAINS(e, path);
    CHECK_CONTAINS(e, "0 bytes, no header");
  }
  SUBCASE("header truncated") {
    // Rank 3 needs 4 + 12 header bytes; give 4 + 6.
    write_bytes(path, {0, 0, 0x08, 0x03, 0, 0, 0, 2, 0, 0});
    const std::string e = read_error(path);
    CHECK_CONTAINS(e, path);
    CHECK_CONTAINS(e, "header needs 16 bytes, file has 10");
  }
  SUBCASE("data truncated") {
    // 2×3 int32 needs 24 bytes of data; give 23.
    write_bytes(path, idx(0x0C, {2, 3}, Bytes(23, 1)));
    const std::string e = read_error(path);
    CHECK_CONTAINS(e, path);
    CHECK_CONTAINS(e, "truncated");
    CHECK_CONTAINS(e, "needs 24 bytes of data, file has 23");
  }
  SUBCASE("dimensions whose product overflows") {
    // 65536^4 elements: the product wraps to 0 in 64 bits; there is no data at all.
    write_bytes(path, idx(0x08, {65536, 65536, 65536, 65536}, {}));
    CHECK(read_error(path) == path + ": shape [65536, 65536, 65536, 65536] of uint8 needs more than 2^64 bytes");
  }
  SUBCASE("trailing bytes") {
    Bytes b = u8_rank3();
    b.push_back(0);
    b.push_back(0);
    write_bytes(path, b);
    const std::string e = read_error(path);
    CHECK_CONTAINS(e, path);
    CHECK_CONTAINS(e, "2 unexpected bytes after the data");
  }
}

TEST_CASE("idx: a corrupt .gz is rejected with a message naming it") {
  TempDir dir;
  const std::string good = dir / "good.gz";
  // Enough data that the deflate stream is well past its header.
  Bytes payload(4000);
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<unsigned char>((i * 7919) >> 3);
  write_gz(good, idx(0x08, {4000}, payload));
  const std::string gz = untangle::test::read_file(good);
  REQUIRE(gz.size() > 40);
  REQUIRE(read_idx(good).size() == 4000);  // the intact file is fine

  const std::string path = dir / "broken.gz";
  SUBCASE("valid gzip header, then garbage") {
    // Magic, deflate, no flags, mtime 0, xfl 0, OS unix; then bytes that are no deflate stream.
    Bytes b{0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x03};
    for (int i = 0; i < 64; ++i) b.push_back(0xFF);
    write_bytes(path, b);
    const std::string e = read_error(path);
    CHECK_CONTAINS(e, path);
    CHECK_CONTAINS(e, "cannot decompress");
  }
  SUBCASE("stream cut in the middle") {
    write_file(path, gz.substr(0, gz.size() / 2));
    const std::string e = read_error(path);
    CHECK_CONTAINS(e, path);
    CHECK_CONTAINS(e, "cannot decompress");
  }
  SUBCASE("stream missing its trailer") {
    // All the compressed data but not the CRC and length that end a gzip member.
    write_file(path, gz.substr(0, gz.size() - 8));
    const std::string e = read_error(path);
    CHECK_CONTAINS(e, path);
    CHECK_CONTAINS(e, "cannot decompress");
  }
  SUBCASE("wrong checksum") {
    std::string b = gz;
    b[b.size() - 8] = static_cast<char>(b[b.size() - 8] ^ 0x55);  // first CRC byte
    write_file(path, b);
    const std::string e = read_error(path);
    CHECK_CONTAINS(e, path);
    CHECK_CONTAINS(e, "cannot decompress");
  }
}
