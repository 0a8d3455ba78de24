// Several untangle processes on one cache, and processes killed half-way.
#include <doctest/doctest.h>

#include <cstdio>
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
  for (auto& e : fs::recursive_directory_iterator(cache + "/objects")) {
    const auto name = e.path().filename().string();
    if (name.rfind(".tmp.", 0) == 0) ++c.temporaries;
    else if (e.path().extension() == ".h5") ++c.entries;
  }
  return c;
}

const std::string bin = UNTANGLE_BINARY;

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
