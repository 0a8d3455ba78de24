#include <doctest/doctest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "pipeline/hash.h"
#include "tests/helpers.h"

using namespace untangle;
namespace fs = std::filesystem;

TEST_CASE("hash: a file rewritten in place with its old size and time gets a new digest") {
  test::TempDir dir;
  const std::string memo = dir / "memo", file = dir / "data.bin";
  fs::create_directories(memo);
  test::write_file(file, "first version");
  // A file changed within the last moment is hashed but not remembered; let this one settle.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  const std::string first = file_digest(file, memo);
  CHECK(first == file_digest(file, ""));
  CHECK_FALSE(fs::is_empty(memo));  // remembered

  // What `cp -p`, `rsync -t` or `touch -d` leave: same inode, same size, the old mtime.
  const auto mtime = fs::last_write_time(file);
  const auto inode = [&] {
    struct stat sb {};
    REQUIRE(::stat(file.c_str(), &sb) == 0);
    return sb.st_ino;
  };
  const auto ino = inode();
  test::write_file(file, "other version");
  fs::last_write_time(file, mtime);
  REQUIRE(inode() == ino);
  REQUIRE(fs::last_write_time(file) == mtime);

  const std::string second = file_digest(file, memo);
  CHECK(second != first);
  CHECK(second == file_digest(file, ""));
}
