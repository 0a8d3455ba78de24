#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

#include <filesystem>

#include "pipeline/atomic_file.h"
#include "pipeline/store.h"
#include "tests/helpers.h"

using namespace untangle;
namespace fs = std::filesystem;

namespace {

EntryInfo info_for(const std::string& key) {
  EntryInfo i;
  i.key = key;
  i.op = "test_op";
  i.op_version = 3;
  i.node = "node[seed=1]";
  i.params = "n: 5";
  i.inputs = "{}";
  i.seconds = 0.25;
  return i;
}

Outputs sample_outputs() {
  Tensor f = Tensor::zeros<float>({2, 3});
  for (int i = 0; i < 6; ++i) f.data<float>()[i] = 0.5f * i - 1;
  Tensor u = Tensor::zeros<std::uint8_t>({4});
  for (int i = 0; i < 4; ++i) u.data<std::uint8_t>()[i] = static_cast<std::uint8_t>(250 + i);
  Tensor s;
  s.dtype = DType::str;
  s.strings = {"seed=3"};
  return {{"floats", f},
          {"bytes", u},
          {"scalar", Tensor::scalar(0.9231)},
          {"count", Tensor::scalar<std::int64_t>(-7)},
          {"names", Tensor::text({"a", "", "ünï"})},
          {"best", s},
          {"empty", Tensor::zeros<double>({0})}};
}

std::size_t count_files(const std::string& dir) {
  std::size_t n = 0;
  for (auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) ++n;
  return n;
}

const std::string kKey = "0123456789abcdef0123456789abcdef";

// Whether the environment that started the tests set it; the store itself must not.
const bool kLockingVarGiven = std::getenv("HDF5_USE_FILE_LOCKING") != nullptr;

}  // namespace

TEST_CASE("store: what is written reads back identically, with its metadata") {
  test::TempDir dir;
  Store store(dir.path);
  CHECK(store.lookup(kKey) == Store::State::missing);
  const Outputs out = sample_outputs();
  store.write(info_for(kKey), out);
  EntryInfo quick, info;
  REQUIRE(store.lookup(kKey, &quick) == Store::State::ok);
  REQUIRE(store.inspect(kKey, &info) == Store::State::ok);
  CHECK(quick.digests == info.digests);
  CHECK(quick.seconds == 0.25);
  CHECK(info.op == "test_op");
  CHECK(info.op_version == 3);
  CHECK(info.node == "node[seed=1]");
  CHECK(info.params == "n: 5");
  CHECK(info.seconds == 0.25);
  CHECK(info.created.size() == 20);
  CHECK(info.digests.size() == out.size());
  for (const auto& [port, t] : out) {
    Tensor back = store.read(kKey, port);
    CHECK(back.dtype == t.dtype);
    CHECK(back.shape == t.shape);
    CHECK(back.bytes == t.bytes);
    CHECK(back.strings == t.strings);
    CHECK(info.digests[port] == t.digest());
  }
  auto ds = store.datasets(kKey);
  CHECK(ds.size() == out.size());
  // Only the entry and its sidecar are left behind: no temporary files.
  CHECK(count_files(dir.path + "/objects") == 2);
  CHECK(fs::exists(store.path_of(kKey)));
}

TEST_CASE("store: a digest changes with dtype, shape and every byte") {
  Tensor a = Tensor::zeros<float>({2, 2});
  Tensor b = Tensor::zeros<float>({4});
  Tensor c = Tensor::zeros<std::int32_t>({2, 2});
  Tensor d = a;
  d.bytes[15] = 1;
  CHECK(a.digest() != b.digest());
  CHECK(a.digest() != c.digest());
  CHECK(a.digest() != d.digest());
  CHECK(a.digest() == Tensor::zeros<float>({2, 2}).digest());
  CHECK(Tensor::text({"ab", "c"}).digest() != Tensor::text({"a", "bc"}).digest());
}

TEST_CASE("store: a lost or stale sidecar is rebuilt from the entry") {
  test::TempDir dir;
  Store store(dir.path);
  store.write(info_for(kKey), sample_outputs());
  const std::string meta = store.path_of(kKey).substr(0, store.path_of(kKey).size() - 3) + ".meta";
  const std::string good = test::read_file(meta);
  fs::remove(meta);
  EntryInfo info;
  CHECK(store.lookup(kKey, &info) == Store::State::ok);
  CHECK(info.digests.size() == sample_outputs().size());
  CHECK(test::read_file(meta) == good);
  test::write_file(meta, "untangle-meta 1\nsize 1\nseconds 0\n");  // disagrees with the file
  CHECK(store.lookup(kKey, &info) == Store::State::ok);
  CHECK(test::read_file(meta) == good);
}

TEST_CASE("store: a truncated entry is reported as damaged") {
  test::TempDir dir;
  Store store(dir.path);
  store.write(info_for(kKey), sample_outputs());
  const auto path = store.path_of(kKey);
  fs::resize_file(path, fs::file_size(path) / 2);
  std::string why;
  CHECK(store.lookup(kKey, nullptr, &why) == Store::State::damaged);
  CHECK(why.find(path) == 0);
}

TEST_CASE("store: changed data bytes fail the checksum when read") {
  test::TempDir dir;
  Store store(dir.path);
  Tensor big = Tensor::zeros<double>({1000});
  for (int i = 0; i < 1000; ++i) big.data<double>()[i] = i;
  store.write(info_for(kKey), {{"x", big}});
  // Find the data in the file and change one value.
  std::string bytes = test::read_file(store.path_of(kKey));
  const std::string needle(reinterpret_cast<const char*>(&big.data<double>()[500]), sizeof(double));
  const auto at = bytes.find(needle);
  REQUIRE(at != std::string::npos);
  bytes[at] ^= 0x01;
  test::write_file(store.path_of(kKey), bytes);
  CHECK(store.lookup(kKey) == Store::State::ok);  // metadata intact; the data is checked on read
  try {
    store.read(kKey, "x");
    FAIL("expected DamagedEntry");
  } catch (const DamagedEntry& e) {
    CHECK(e.key == kKey);
    CHECK(std::string(e.what()).find("does not match its checksum") != std::string::npos);
  }
}

TEST_CASE("store: an entry under the wrong name is damaged") {
  test::TempDir dir;
  Store store(dir.path);
  store.write(info_for(kKey), {{"x", Tensor::scalar(1.0)}});
  const std::string other = "ffffffffffffffffffffffffffffffff";
  fs::create_directories(fs::path(store.path_of(other)).parent_path());
  fs::copy_file(store.path_of(kKey), store.path_of(other));
  std::string why;
  CHECK(store.lookup(other, nullptr, &why) == Store::State::damaged);
  CHECK(why.find("recorded key does not match") != std::string::npos);
}

TEST_CASE("store: an abandoned temporary file is never an entry, and the destructor removes it") {
  test::TempDir dir;
  std::string tmp_path;
  {
    TempPath tmp(dir / "target");
    tmp_path = tmp.path();
    tmp.create([](const std::string& p) { test::write_file(p, "partial"); });
    CHECK(is_temp_name(fs::path(tmp_path).filename().string()));
  }
  CHECK_FALSE(fs::exists(tmp_path));
  CHECK_FALSE(fs::exists(dir / "target"));
  write_file_atomically(dir / "target", "whole");
  CHECK(test::read_file(dir / "target") == "whole");
}

TEST_CASE("store: gc keeps what graphs use and removes the old, the damaged and the abandoned") {
  test::TempDir dir;
  Store store(dir.path);
  const std::string used = "10000000000000000000000000000000", old = "20000000000000000000000000000000",
                    fresh = "30000000000000000000000000000000", broken = "40000000000000000000000000000000";
  for (const auto& k : {used, old, fresh, broken}) store.write(info_for(k), {{"x", Tensor::scalar(1.0)}});
  store.record_refs(dir / "g.yaml", {used}, false);
  fs::resize_file(store.path_of(broken), 100);
  const auto long_ago = fs::file_time_type::clock::now() - std::chrono::hours(24 * 60);
  fs::last_write_time(store.path_of(used), long_ago);
  fs::last_write_time(store.path_of(old), long_ago);
  const std::string abandoned = fs::path(store.path_of(old)).parent_path() / ".tmp.x.h5.1.2.3";
  test::write_file(abandoned, "half");
  fs::last_write_time(abandoned, fs::file_time_type::clock::now() - std::chrono::hours(2));
  const std::string in_progress = fs::path(store.path_of(old)).parent_path() / ".tmp.y.h5.1.2.3";
  test::write_file(in_progress, "being written");

  std::vector<std::string> said;
  GcOptions dry;
  dry.dry_run = true;
  GcReport r = store.gc(dry, [&](const std::string& s) { said.push_back(s); });
  CHECK(r.removed == 1);
  CHECK(fs::exists(store.path_of(old)));

  r = store.gc(GcOptions{}, [&](const std::string& s) { said.push_back(s); });
  CHECK(r.removed == 1);
  CHECK(r.damaged == 1);
  CHECK(r.temporaries == 1);
  CHECK(r.kept == 2);
  CHECK(fs::exists(store.path_of(used)));
  CHECK(fs::exists(store.path_of(fresh)));
  CHECK_FALSE(fs::exists(store.path_of(old)));
  CHECK_FALSE(fs::exists(store.path_of(broken)));
  CHECK_FALSE(fs::exists(abandoned));
  CHECK(fs::exists(in_progress));

  GcOptions unref;
  unref.unreferenced = true;
  r = store.gc(unref, [](const std::string&) {});
  CHECK(r.removed == 1);
  CHECK_FALSE(fs::exists(store.path_of(fresh)));
  CHECK(fs::exists(store.path_of(used)));
}

TEST_CASE("store: entries are read without HDF5 file locks, and without touching the environment") {
  test::TempDir dir;
  Store store(dir.path);
  store.write(info_for(kKey), {{"x", Tensor::scalar(1.5)}});
  // Another holder of an exclusive lock, as HDF5 with locking would take to write a file: a
  // reader that locks fails to open the entry.
  const int fd = ::open(store.path_of(kKey).c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);
  CHECK(store.read(kKey, "x").at(0) == 1.5);
  CHECK(store.inspect(kKey) == Store::State::ok);
  store.write(info_for(kKey), {{"x", Tensor::scalar(2.5)}});  // replacing it needs no lock either
  ::close(fd);
  CHECK(store.read(kKey, "x").at(0) == 2.5);
  // setenv is not thread-safe and the store is used from worker threads.
  if (!kLockingVarGiven) CHECK(std::getenv("HDF5_USE_FILE_LOCKING") == nullptr);
}
