#include <doctest/doctest.h>

// HDF5 files read in untangle-read-hdf5 (nodes/data/hdf5_child.h): the stream it sends back
// carries every dtype, shape and string exactly; a stream cut anywhere or declaring more than
// it holds is an error, never a crash or an allocation; and a file that crashes libhdf5
// fails the read with a message while the process reading goes on.
#include <sys/resource.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "nodes/data/hdf5_child.h"
#include "nodes/data/ops.h"
#include "tests/checks.h"
#include "tests/helpers.h"

using namespace untangle;
using namespace untangle::test;

namespace {

std::string stream_of(const Outputs& tensors) {
  char* buf = nullptr;
  std::size_t size = 0;
  std::FILE* f = open_memstream(&buf, &size);
  write_tensors(f, tensors);
  std::fclose(f);
  std::string s(buf, size);
  std::free(buf);
  return s;
}

Outputs every_kind() {
  Outputs t;
  t["u8"] = Tensor::zeros<std::uint8_t>({2, 3});
  for (int k = 0; k < 6; ++k) t["u8"].data<std::uint8_t>()[k] = static_cast<std::uint8_t>(250 + k);
  t["i64 scalar"] = Tensor::scalar<std::int64_t>(-(std::int64_t{1} << 62));
  t["f32"] = Tensor::zeros<float>({1, 2, 1, 2});
  for (int k = 0; k < 4; ++k) t["f32"].data<float>()[k] = -0.5f * k;
  t["f64 empty"] = Tensor::zeros<double>({0, 4});
  Tensor s;
  s.dtype = DType::str;
  s.shape = {3};
  s.strings = {"", "a\nb", std::string("\0\xff", 2)};
  t["strings/member"] = s;
  return t;
}

}  // namespace

TEST_CASE("hdf5 child: the stream gives back every dtype, shape and string as sent") {
  const Outputs sent = every_kind();
  const Outputs got = read_tensors(stream_of(sent));
  REQUIRE(got.size() == sent.size());
  for (const auto& entry : sent) {
    const auto& name = entry.first;
    const auto& t = entry.second;
    INFO(name);
    REQUIRE(got.count(name));
    CHECK(got.at(name).dtype == t.dtype);
    CHECK(got.at(name).shape == t.shape);
    if (t.dtype == DType::str)
      CHECK(got.at(name).strings == t.strings);
    else
      CHECK(got.at(name).digest() == t.digest());
  }
}

TEST_CASE("hdf5 child: a stream cut anywhere, or with bytes after its end, is an error") {
  const std::string s = stream_of(every_kind());
  for (std::size_t n = 0; n < s.size(); ++n) {
    INFO(n);
    CHECK_THROWS_AS(read_tensors(s.substr(0, n)), std::runtime_error);
  }
  CHECK(error_of([&] { read_tensors(s + "E"); }) == "a damaged stream of tensors");
}

TEST_CASE("hdf5 child: sizes the stream declares are checked before they size anything") {
  Outputs one;
  one["x"] = Tensor::zeros<float>({4});
  std::string s = stream_of(one);
  // The one dimension, after the magic line, 'T', the name (8 + 1 bytes), dtype and rank.
  const std::size_t dim_at = std::strlen("untangle-tensors 1\n") + 1 + 8 + 1 + 2;
  for (std::uint64_t huge : {std::uint64_t{1} << 40, std::uint64_t{1} << 62, ~std::uint64_t{0}}) {
    std::memcpy(&s[dim_at], &huge, 8);
    CHECK_THROWS_AS(read_tensors(s), std::runtime_error);
  }
  // Declared within the stream but over max_bytes.
  CHECK(error_of([&] { read_tensors(stream_of(one), 15); }).find("more than") != std::string::npos);
}

TEST_CASE("hdf5 child: the reader is found, and its own errors come back as the op's") {
  CHECK(access(hdf5_reader_path().c_str(), X_OK) == 0);
  TempDir dir;
  write_file(dir / "not.h5", "not hdf5");
  CHECK(error_of([&] { read_hdf5_in_child(dir / "not.h5", "/x"); }) == dir / "not.h5" + ": cannot open as an HDF5 file");
  CHECK(error_of([&] { read_h5_file_in_child(dir / "not.h5"); }) == "not an HDF5 file");
}

// The file is one the fuzzer made (tests/fuzz/hdf5.cpp): opening its dataset x makes
// libhdf5 1.10.8 copy from a null pointer (H5F__accum_read, under H5G__stab_lookup). Left out
// of the sanitizer builds, whose runtime reports that crash in the child as the error it is.
TEST_CASE("hdf5 child: a file that crashes libhdf5 fails the node reading it, not the run [libhdf5 crash]") {
  const std::string file = std::string(UNTANGLE_SOURCE_DIR) + "/tests/data/crashes-libhdf5.h5";
  OpContext ctx;
  ctx.params["file"] = file;
  ctx.params["x"] = "x";
  ctx.params["y"] = "";
  ctx.params["max_bytes"] = 0;
  const std::string e = error_of([&] { load_hdf5_op().run(ctx); });
  CHECK(e == file + ": libhdf5 failed reading it (untangle-read-hdf5 was killed by signal 11 (Segmentation fault)); "
                    "the file is damaged or not what it claims");
  // And the process that asked goes on reading files.
  TempDir dir;
  write_file(dir / "not.h5", "not hdf5");
  CHECK(error_of([&] { read_hdf5_in_child(dir / "not.h5", "/x"); }) == dir / "not.h5" + ": cannot open as an HDF5 file");
}

// A file the fuzzer made (tests/fuzz/exec_output.cpp), 4 KB, on which libhdf5 1.10.8 fills
// buffers sized by its metadata: 24 GB before the machine's OOM killer, read unbounded. The
// reader holds itself to twice what the file can hold plus 256 MiB; an outer limit of 8 GB
// keeps a regression from taking the machine. ASan builds leave it out: the reader sets no
// limit there (ASan reserves terabytes of address space).
TEST_CASE("hdf5 child: a file on which libhdf5 grows without end is refused in bounded memory [address-space limit]") {
  const std::string file = std::string(UNTANGLE_SOURCE_DIR) + "/tests/data/grows-libhdf5.h5";
  const auto r = run_command("ulimit -v 8000000; " + hdf5_reader_path() + " file " + file + " >/dev/null");
  CHECK(r.code == 1);
  rusage u{};
  getrusage(RUSAGE_CHILDREN, &u);
  CHECK(u.ru_maxrss < 600 * 1024);  // KiB
}
