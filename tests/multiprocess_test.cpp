// Several untangle processes on one cache, and processes killed half-way.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <thread>
#include <filesystem>
#include <regex>

#include "tests/helpers.h"

using namespace untangle;
namespace fs = std::filesystem;

namespace {

// A layered graph of `layers` × `width` nodes: constants j + 1, then sums of two neighbours.
std::string layered(int layers, int width) {
  std::string g = "nodes:\n";
  for (int j = 0; j < width; ++j)
    g += "  n0_" + std::to_string(j) + ": {op: constant, params: {value: " + std::to_string(j + 1) + "}}\n";
  for (int k = 1; k < layers; ++k)
    for (int j = 0; j < width; ++j)
      g += "  n" + std::to_string(k) + "_" + std::to_string(j) + ": {op: add, inputs: {a: n" + std::to_string(k - 1) + "_" +
           std::to_string(j) + ".y, b: n" + std::to_string(k - 1) + "_" + std::to_string((j + 1) % width) + ".y}}\n";
  return g;
}

// The value of node n{layers-1}_0, computed here independently of untangle.
std::string expected_first(int layers, int width) {
  std::vector<double> v(width);
  for (int j = 0; j < width; ++j) v[j] = j + 1;
  for (int k = 1; k < layers; ++k) {
    std::vector<double> next(width);
    for (int j = 0; j < width; ++j) next[j] = v[j] + v[(j + 1) % width];
    v = next;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g\n", v[0]);
  return buf;
}

struct Counts {
  std::size_t entries = 0, temporaries = 0;
};

Counts count(const std::string& cache) {
  Counts c;
  std::error_code ec;  // no cache yet: nothing counted
  for (auto& e : fs::recursive_directory_iterator(cache + "/objects", ec)) {
    const auto name = e.path().filename().string();
    if (name.rfind(".tmp.", 0) == 0) ++c.temporaries;
    else if (e.path().extension() == ".h5") ++c.entries;
  }
  return c;
}

const std::string bin = UNTANGLE_BINARY;

// Starts `args` with stdout to `out` and SIGINT at its default action, as a foreground job
// of a terminal has it (a shell's background job would ignore it).
pid_t spawn(const std::vector<std::string>& args, const std::string& out) {
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t sigs;
  sigemptyset(&sigs);
  posix_spawnattr_setsigmask(&attr, &sigs);
  sigaddset(&sigs, SIGINT);
  posix_spawnattr_setsigdefault(&attr, &sigs);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &files, &attr, argv.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&files);
  REQUIRE(rc == 0);
  return pid;
}

}  // namespace

TEST_CASE("multiprocess: two processes running one graph on one cache both succeed") {
  test::TempDir dir;
  test::write_file(dir / "g.yaml", layered(10, 30));
  const std::string run = bin + " run " + (dir / "g.yaml") + " --cache " + (dir / "cache");
  auto r = test::run_command("(" + run + " >" + (dir / "o1") + "; echo $? >" + (dir / "rc1") + ") & (" + run + " >" +
                             (dir / "o2") + "; echo $? >" + (dir / "rc2") + ") & wait");
  CHECK(test::read_file(dir / "rc1") == "0\n");
  CHECK(test::read_file(dir / "rc2") == "0\n");
  const std::regex done("done: ([0-9]+) ran, ([0-9]+) cached, 0 failed");
  for (const char* o : {"o1", "o2"}) {
    const std::string last = test::last_line(test::read_file(dir / o));
    std::smatch m;
    REQUIRE(std::regex_match(last, m, done));
    CHECK(std::stoi(m[1]) + std::stoi(m[2]) == 300);
  }
  Counts c = count(dir / "cache");
  CHECK(c.entries == 300);
  CHECK(c.temporaries == 0);
  r = test::run_command(run);
  CHECK(test::last_line(r.out) == "done: 0 ran, 300 cached, 0 failed");
  r = test::run_command(bin + " get " + (dir / "g.yaml") + " n9_0.y --cache " + (dir / "cache"));
  CHECK(r.out == expected_first(10, 30));
  r = test::run_command(bin + " gc --verify --dry-run --cache " + (dir / "cache"));
  CHECK(r.out.find("0 damaged") != std::string::npos);
}

TEST_CASE("multiprocess: a process killed mid-run leaves no entry that reads as valid") {
  test::TempDir dir;
  test::write_file(dir / "g.yaml", layered(20, 100));
  const std::string args = (dir / "g.yaml") + " --cache " + (dir / "cache");
  // SIGTERM (what Ctrl-C's SIGINT does for a foreground run; a shell ignores SIGINT in
  // background jobs) first: the process removes its temporary files on the way out. kill -9
  // cannot; what it leaves is never taken for an entry, and gc removes it later.
  for (const char* sig : {"TERM", "KILL"}) {
    // Killed once it has written a hundred more entries, long before its two thousand are done.
    const std::string cached = "$(" + bin + " status " + args + " | grep -c cached)";
    auto r = test::run_command("base=" + cached + "; exec " + bin + " run " + args + " & pid=$!; while [ " + cached +
                               " -lt $((base + 100)) ] && kill -0 $pid; do sleep 0.05; done; kill -" + sig + " $pid; wait $pid");
    CHECK(test::last_line(r.out).rfind("done:", 0) != 0);  // it did not finish
    r = test::run_command(bin + " gc --verify --dry-run --cache " + (dir / "cache"));
    CHECK(r.out.find("0 damaged") != std::string::npos);
    if (std::string(sig) == "TERM") CHECK(count(dir / "cache").temporaries == 0);
  }
  auto r = test::run_command(bin + " run " + args);
  CHECK(r.code == 0);
  const auto last = test::last_line(r.out);
  CHECK(last.find(" cached, 0 failed") != std::string::npos);
  CHECK(last.rfind("done: 0 ran", 0) != 0);  // the killed runs had left work to do
  CHECK(test::run_command(bin + " get " + (dir / "g.yaml") + " n19_0.y --cache " + (dir / "cache")).out == expected_first(20, 100));
}

TEST_CASE("multiprocess: Ctrl-C stops a run, leaves no temporary file, and a rerun completes") {
  test::TempDir dir;
  test::write_file(dir / "g.yaml", layered(20, 100));
  const pid_t pid = spawn({bin, "run", dir / "g.yaml", "--cache", dir / "cache"}, dir / "out");
  // Interrupted once it has written a hundred entries, long before its two thousand are done.
  int status = 0;
  bool exited = false;
  while (!exited && count(dir / "cache").entries < 100) {
    exited = ::waitpid(pid, &status, WNOHANG) == pid;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  REQUIRE_FALSE(exited);
  REQUIRE(::kill(pid, SIGINT) == 0);
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  // It dies of the signal itself, so a shell sees 130 and a script stops.
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGINT);
  CHECK(test::run_command("sh -c 'kill -INT $$'").code == 130);  // how a shell reports it
  CHECK(test::last_line(test::read_file(dir / "out")).rfind("done:", 0) != 0);
  const Counts left = count(dir / "cache");
  CHECK(left.temporaries == 0);
  CHECK(left.entries >= 100);
  CHECK(left.entries < 2000);

  const std::string args = (dir / "g.yaml") + " --cache " + (dir / "cache");
  CHECK(test::run_command(bin + " gc --verify --dry-run --cache " + (dir / "cache")).out.find("0 damaged") != std::string::npos);
  auto r = test::run_command(bin + " run " + args);
  CHECK(r.code == 0);
  const std::regex done("done: ([0-9]+) ran, ([0-9]+) cached, 0 failed");
  std::smatch m;
  const std::string last = test::last_line(r.out);
  REQUIRE(std::regex_match(last, m, done));
  CHECK(std::stoul(m[2]) == left.entries);  // everything finished before Ctrl-C is reused
  CHECK(std::stoul(m[1]) + std::stoul(m[2]) == 2000);
  CHECK(test::run_command(bin + " get " + (dir / "g.yaml") + " n19_0.y --cache " + (dir / "cache")).out == expected_first(20, 100));
  CHECK(test::last_line(test::run_command(bin + " run " + args).out) == "done: 0 ran, 2000 cached, 0 failed");
}
