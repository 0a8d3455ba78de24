// The Slurm executor against a real one-node cluster (tools/slurm-local, started by the CTest
// fixture in tests/CMakeLists.txt, which sets SLURM_CONF). The graphs run on tiny data.
#include <doctest/doctest.h>

#include <filesystem>

#include "tests/checks.h"
#include "tests/helpers.h"
#include "tests/idx_files.h"

using namespace untangle;

namespace {

const std::string kBinary = UNTANGLE_BINARY;

// Each instance's output digests as `untangle show` gives them, one block per instance.
std::string digests(const std::string& graph, const std::string& sets, const std::string& cache) {
  std::string all;
  for (const auto& line : test::lines_of(test::run_command(kBinary + " status " + graph + sets + " --cache " + cache).out)) {
    const std::string name = line.substr(0, line.find('\t'));
    const auto shown = test::run_command(kBinary + " show " + graph + " '" + name + "'" + sets + " --cache " + cache).out;
    all += name + "\n" + shown.substr(shown.find("  datasets"));
  }
  return all;
}

std::size_t count_of(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("slurm: data-sweep through Slurm has the local run's digests, and a rerun submits nothing") {
  test::TempDir dir;
  std::filesystem::create_directories(dir / "mnist");
  test::write_tiny_mnist(dir / "mnist", 100, 60);
  const std::string graph = std::string(UNTANGLE_SOURCE_DIR) + "/graphs/data-sweep.yaml";
  const std::string sets = " --set mnist.dir=" + (dir / "mnist") + " --set n=20";
  auto local = test::run_command(kBinary + " run " + graph + sets + " --cache " + (dir / "local"));
  REQUIRE_MESSAGE(local.code == 0, local.out << local.err);
  auto slurm = test::run_command(kBinary + " run " + graph + sets + " --cache " + (dir / "slurm") +
                                 " --executor slurm --poll-max 1");
  REQUIRE_MESSAGE(slurm.code == 0, slurm.out << slurm.err);
  CHECK(test::last_line(slurm.out) == "done: 13 ran, 0 cached, 0 failed");
  // mnist, five samples and five stats in jobs; the two aggregates (light) in the driver.
  CHECK(count_of(slurm.out, "  queued  ") == 11);
  CHECK_CONTAINS(slurm.out, "  ran     stats[seed=4]");
  const std::string here = digests(graph, sets, dir / "local");
  CHECK(count_of(here, "\n") > 13 * 2);  // every instance, with its datasets
  CHECK(count_of(here, "stats[seed=5]\n  datasets\n") == 1);
  CHECK(digests(graph, sets, dir / "slurm") == here);

  for (const std::string cache : {"slurm", "local"}) {
    auto again = test::run_command(kBinary + " run " + graph + sets + " --cache " + (dir / cache) + " --executor slurm");
    CHECK(again.code == 0);
    CHECK(test::last_line(again.out) == "done: 0 ran, 13 cached, 0 failed");
    CHECK(count_of(again.out, "  queued  ") == 0);
  }
}

TEST_CASE("slurm: an op failing in a job fails its instance with its message and job id, the rest goes on") {
  test::TempDir dir;
  test::write_file(dir / "g.yaml", R"(nodes:
  bad:
    op: exec
    params: {command: [sh, -c, "echo working; echo the disk is full >&2; exit 3"], outputs: {s: scalar}}
  after: {op: add, inputs: {a: bad.s}}
  good:
    op: exec
    params: {command: [/usr/bin/python3, -c, "import h5py, os; h5py.File(os.environ['UNTANGLE_OUTPUT'], 'w')['s'] = 2.0"], outputs: {s: scalar}}
)");
  auto r = test::run_command(kBinary + " run " + (dir / "g.yaml") + " --cache " + (dir / "cache") + " --executor slurm --poll-max 1");
  CHECK(r.code == 1);
  CHECK(test::last_line(r.out) == "done: 1 ran, 0 cached, 1 failed, 1 skipped");
  const auto at = r.out.find("  FAILED  bad: sh exited with status 3; the last lines of its stderr:\n  the disk is full [job ");
  CHECK_MESSAGE(at != std::string::npos, r.out);
  CHECK_CONTAINS(r.out, ", FAILED]");  // untangle job exits 1 when its op fails
  CHECK_CONTAINS(r.out, "  skipped after (bad failed)");
  CHECK_CONTAINS(r.out, "  ran     good");
}

TEST_CASE("slurm: without Slurm's commands on PATH, --executor slurm is a usage error, exit code 2") {
  test::TempDir dir;
  test::write_file(dir / "g.yaml", "nodes:\n  c: {op: constant, params: {value: 1}}\n");
  auto r = test::run_command("PATH=" + (dir / "nothing") + " " + kBinary + " run " + (dir / "g.yaml") + " --cache " +
                             (dir / "cache") + " --executor slurm");
  CHECK(r.code == 2);
  CHECK(r.err == "untangle: error: --executor slurm needs Slurm's commands, and sbatch is not on PATH (run where "
                 "Slurm's client tools are installed, or use --executor local)\n");
  CHECK_FALSE(std::filesystem::exists(dir / "cache"));
}

TEST_CASE("slurm: --dry-run prints the sbatch of each instance it would submit, and submits nothing") {
  test::TempDir dir;
  test::write_file(dir / "g.yaml", "nodes:\n  c: {op: constant, params: {value: 1}}\n"
                                   "  e: {op: exec, inputs: {a: c.y}, params: {command: [cat], outputs: {s: scalar}}}\n");
  REQUIRE(test::run_command(kBinary + " run " + (dir / "g.yaml") + " --cache " + (dir / "cache") + " --only c").code == 0);
  auto r = test::run_command(kBinary + " run " + (dir / "g.yaml") + " --cache " + (dir / "cache") +
                             " --executor slurm --dry-run --slurm-arg=--qos=short");
  CHECK(r.code == 0);
  const auto lines = test::lines_of(r.out);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == "  cached  c");
  CHECK(lines[1].rfind("  run     e  sbatch --cpus-per-task=1 --mem=1G --time=30 --qos=short --wrap '", 0) == 0);
  CHECK_CONTAINS(lines[1], " job " + (dir / "g.yaml") + " --cache " + (dir / "cache") + " --instance e --expect-key ");
  CHECK(lines[1].find("<known once") == std::string::npos);  // c is cached, so e's key is known
  CHECK(lines[2] == "dry run: 1 to run, 1 cached");
  CHECK_FALSE(std::filesystem::exists(dir / "cache/jobs"));
}
