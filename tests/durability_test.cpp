// What reaches the disk before an entry counts as written. A power cut can lose a rename
// unless the directory holding the new name is synced too.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <vector>

#include "pipeline/atomic_file.h"
#include "pipeline/store.h"
#include "tests/helpers.h"

using namespace untangle;

namespace {

std::mutex synced_mutex;
std::vector<ino_t> synced;  // inodes passed to fsync, in order

ino_t inode_of(const std::string& path) {
  struct stat sb {};
  REQUIRE(::stat(path.c_str(), &sb) == 0);
  return sb.st_ino;
}

// Where inode `ino` was last synced in `synced`; -1 when never.
long last_sync(ino_t ino) {
  std::lock_guard<std::mutex> lock(synced_mutex);
  auto it = std::find(synced.rbegin(), synced.rend(), ino);
  return it == synced.rend() ? -1 : static_cast<long>(synced.rend() - it - 1);
}

}  // namespace

// This definition replaces libc's in the test binary, so the tests see every fsync the engine
// makes: it records what is synced, then syncs it.
extern "C" int fsync(int fd) {
  struct stat sb {};
  if (::fstat(fd, &sb) == 0) {
    std::lock_guard<std::mutex> lock(synced_mutex);
    synced.push_back(sb.st_ino);
  }
  return static_cast<int>(::syscall(SYS_fsync, fd));
}

TEST_CASE("durability: a file renamed into place is synced, then its directory") {
  test::TempDir dir;
  write_file_atomically(dir / "f", "whole");
  const long file = last_sync(inode_of(dir / "f")), parent = last_sync(inode_of(dir.path));
  CHECK(file >= 0);
  CHECK(parent > file);
}

TEST_CASE("durability: a cache entry, its sidecar and every new directory on its path are synced") {
  test::TempDir dir;
  Store store(dir / "cache");
  const std::string key = "0123456789abcdef0123456789abcdef";
  EntryInfo info;
  info.key = key;
  store.write(info, {{"x", Tensor::scalar(1.0)}});
  const std::string entry = store.path_of(key);
  const std::string fan_out = std::filesystem::path(entry).parent_path();
  CHECK(last_sync(inode_of(entry)) >= 0);
  CHECK(last_sync(inode_of(fan_out)) > last_sync(inode_of(entry)));  // after the rename
  // The new directories cache/, cache/objects/ and cache/objects/01/ are names in their
  // parents: each parent is synced.
  for (const auto& d : {dir.path, dir / "cache", dir / "cache/objects"}) CHECK_MESSAGE(last_sync(inode_of(d)) >= 0, d);
  store.record_refs(dir / "g.yaml", {key}, false);
  CHECK(last_sync(inode_of(dir / "cache/refs")) >= 0);
}
