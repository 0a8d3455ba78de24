// examples/plugin as its users build it: untangle installed with `cmake --install`, the example
// configured as an outside project against that prefix, its graph run by the installed binary.
#include <doctest/doctest.h>

#include <filesystem>

#include "tests/checks.h"
#include "tests/helpers.h"

using namespace untangle;

namespace {

// The mean silhouette of blobs.csv, raw, by NumPy from the definition: an answer computed
// apart from the plugin's loops.
const char* kSilhouette = R"(
import numpy as np
d = np.loadtxt('blobs.csv', delimiter=',', skiprows=1)
x, y = d[:, :4], d[:, 4].astype(int)
dist = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1))
s = []
for i in range(len(x)):
    own = y == y[i]
    a = dist[i, own].sum() / (own.sum() - 1)
    b = min(dist[i, y == c].mean() for c in set(y) if c != y[i])
    s.append((b - a) / max(a, b))
print('%.4f' % np.mean(s))
)";

}  // namespace

TEST_CASE("example plugin: built against the installed package, its op runs in its graph, a rebuild reruns it") {
  test::TempDir dir;
  const std::string prefix = dir / "prefix", src = dir / "plugin";
  auto sh = [](const std::string& command) {
    auto r = test::run_command(command);
    REQUIRE_MESSAGE(r.code == 0, command << "\n" << r.out << r.err);
    return r;
  };
  sh(std::string(CMAKE_COMMAND) + " --install " + UNTANGLE_BUILD_DIR + " --prefix " + prefix);
  std::filesystem::copy(std::string(UNTANGLE_SOURCE_DIR) + "/examples/plugin", src, std::filesystem::copy_options::recursive);
  std::filesystem::remove_all(src + "/build");
  const std::string build = "cd " + src + " && " + CMAKE_COMMAND + " --build build";
  sh("cd " + src + " && " + CMAKE_COMMAND + " -S . -B build -DCMAKE_PREFIX_PATH=" + prefix);
  sh(build);

  const std::string untangle = "cd " + src + " && " + prefix + "/bin/untangle ";
  auto r = sh(untangle + "run silhouette.yaml --cache cache");
  CHECK(test::last_line(r.out) == "done: 7 ran, 0 cached, 0 failed");
  CHECK_CONTAINS(r.out, "  sil_raw: silhouette of 90 points in 3 classes\n");
  const std::string score = sh(untangle + "get silhouette.yaml sil_raw.score --cache cache").out;
  const auto numpy = test::run_command("cd " + src + " && /usr/bin/python3 -c \"" + kSilhouette + "\"");
  if (numpy.code == 0) CHECK(std::stod(score) == doctest::Approx(std::stod(numpy.out)).epsilon(1e-4));
  else MESSAGE("no NumPy: the score is not compared");
  CHECK_CONTAINS(r.out, "  raw          " + score.substr(0, 6));

  // The same code built again: the same library bytes, so everything stays cached.
  sh("touch " + src + "/silhouette.cpp && " + build);
  r = sh(untangle + "run silhouette.yaml --cache cache");
  CHECK(test::last_line(r.out) == "done: 0 ran, 7 cached, 0 failed");

  // Changed code: the plugin's nodes rerun. Their outputs are the same, so the table does not.
  std::string code = test::read_file(src + "/silhouette.cpp");
  code.replace(code.find("Silhouette coefficient"), 22, "The silhouette coefficient");
  test::write_file(src + "/silhouette.cpp", code);
  sh(build);
  r = sh(untangle + "run silhouette.yaml --cache cache");
  CHECK(test::ran(r.out) == std::vector<std::string>{"sil_pca", "sil_raw"});
}
