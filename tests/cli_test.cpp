// The command line as a user meets it: the real binary, real files, exit codes and output.
#include <doctest/doctest.h>

#include <filesystem>
#include <regex>

#include "tests/checks.h"
#include "tests/helpers.h"

using namespace untangle;

namespace {

struct Cli {
  test::TempDir dir;
  std::string graph = dir / "g.yaml";
  explicit Cli(const std::string& text) { test::write_file(graph, text); }
  test::CommandResult operator()(const std::string& args) {
    return test::run_command(std::string(UNTANGLE_BINARY) + " " + args);
  }
  std::string g() const { return graph + " --cache " + dir.path + "/cache"; }
};

const char* kGraph = R"(name: cli
vars: {scale: 7}
sweep: {seed: [1, 2, 3]}
nodes:
  one: {op: constant, params: {value: 1.5}}
  per: {op: add, inputs: {a: one.y}, params: {c: "${seed}"}}
  doubled: {op: add, inputs: {a: per.y, b: per.y}}
  stats: {op: aggregate, inputs: {x: doubled.y}}
  other: {op: add, inputs: {a: one.y}, params: {c: "${scale}"}}
)";

}  // namespace

TEST_CASE("cli: every command has --help and exits 0") {
  for (const char* c : {"", "run", "status", "get", "show", "dag", "ops", "gc"}) {
    auto r = test::run_command(std::string(UNTANGLE_BINARY) + " " + c + " --help");
    CHECK_MESSAGE(r.code == 0, c);
    CHECK_MESSAGE(r.out.find("Usage") != std::string::npos, c);
  }
  CHECK(test::run_command(std::string(UNTANGLE_BINARY) + " frobnicate").code == 2);
  CHECK(test::run_command(std::string(UNTANGLE_BINARY) + " run").code == 2);
}

TEST_CASE("cli: run, rerun, status after --set, and rerun of exactly what changed") {
  Cli cli(kGraph);
  auto r = cli("run " + cli.g());
  REQUIRE(r.code == 0);
  CHECK(test::last_line(r.out) == "done: 9 ran, 0 cached, 0 failed");
  r = cli("run " + cli.g());
  CHECK(test::last_line(r.out) == "done: 0 ran, 9 cached, 0 failed");

  r = cli("status " + cli.g() + " --set doubled.c=1");
  REQUIRE(r.code == 0);
  CHECK(r.out ==
        "one\tcached\nper[seed=1]\tcached\nper[seed=2]\tcached\nper[seed=3]\tcached\n"
        "doubled[seed=1]\tstale\ndoubled[seed=2]\tstale\ndoubled[seed=3]\tstale\nstats\tstale\nother\tcached\n");
  r = cli("run " + cli.g() + " --set doubled.c=1");
  CHECK(test::ran(r.out) == std::vector<std::string>{"doubled[seed=1]", "doubled[seed=2]", "doubled[seed=3]", "stats"});
  CHECK(test::last_line(r.out) == "done: 4 ran, 5 cached, 0 failed");

  r = cli("run " + cli.g() + " --dry-run --set scale=5");
  CHECK(r.out.find("  run     other\n") != std::string::npos);
  CHECK(test::last_line(r.out) == "dry run: 1 to run, 8 cached");
}

TEST_CASE("cli: run prints print outputs and the paths of file outputs, cached or not") {
  Cli cli(R"(name: tab
nodes:
  a: {op: constant, params: {value: 0.5}}
  b: {op: add, inputs: {a: a.y}, params: {c: 2}}
  t: {op: table, inputs: {cells: [a.y, b.y]}, params: {rows: [x], columns: [a, b], digits: 2}}
)");
  const std::string results = cli.dir / "out";
  const std::string expected = "t.text:\n        a     b\n  x  0.50  2.50\n  file    " + results + "/t.csv\n";
  for (int pass = 0; pass < 2; ++pass) {
    auto r = cli("run " + cli.g() + " --results " + results);
    REQUIRE(r.code == 0);
    CHECK_CONTAINS(r.out, expected);
    CHECK(test::read_file(results + "/t.csv") == ",a,b\nx,0.50,2.50\n");
  }
}

TEST_CASE("cli: get prints scalars bare, small tensors as CSV, large ones as a shape") {
  Cli cli(kGraph);
  REQUIRE(cli("run " + cli.g()).code == 0);
  // per = 1.5 + seed; doubled = 2 * per: 5, 7, 9.
  CHECK(cli("get " + cli.g() + " stats.mean").out == "7\n");
  CHECK(cli("get " + cli.g() + " stats.sd").out == "2\n");
  CHECK(cli("get " + cli.g() + " stats.best").out == "seed=3\n");
  CHECK(cli("get " + cli.g() + " stats.values").out == "5,7,9\n");
  CHECK(cli("get " + cli.g() + " 'doubled[seed=2].y'").out == "7\n");
  CHECK(cli("get " + cli.g() + " other.y").out == "8.5\n");
  auto r = cli("get " + cli.g() + " doubled.y");
  CHECK(r.code == 2);
  CHECK(r.err.find("'doubled' is swept; name one instance") != std::string::npos);
  CHECK(cli("get " + cli.g() + " stats.nope").code == 2);
  r = cli("get " + cli.g() + " other.y --set scale=9");
  CHECK(r.code == 1);
  CHECK(r.err.find("other is stale") != std::string::npos);
}

TEST_CASE("cli: get shows a large tensor's shape, show and dag describe the cache") {
  Cli cli(R"(nodes:
  one: {op: constant, params: {value: 3}}
  big: {op: describe, inputs: {x: one.y}}
)");
  REQUIRE(cli("run " + cli.g()).code == 0);
  CHECK(cli("get " + cli.g() + " big.class_counts").out == "int64 [0]\n");  // no labels: empty
  auto r = cli("show " + cli.g() + " big");
  CHECK(r.code == 0);
  CHECK(r.out.find("  op       describe (version 1)") != std::string::npos);
  CHECK(r.out.find("    mean  float64 []  digest ") != std::string::npos);
  CHECK(r.out.find(cli.dir.path + "/cache/objects/") != std::string::npos);
  r = cli("dag " + cli.g());
  CHECK(r.out.rfind("digraph \"g\" {", 0) == 0);
  CHECK(r.out.find("\"one\" -> \"big\" [label=\"y → x\"];") != std::string::npos);
}

TEST_CASE("cli: a graph with four mistakes prints four FILE:LINE:COL errors and exits 2") {
  Cli cli(R"(nodes:
  one: {op: constant, params: {valeu: 1}}
  two: {op: ad, inputs: {a: one.y}}
  three: {op: add, inputs: {a: none.y}}
  four: {op: subset, inputs: {x: one.y, y: one.y}, params: {n: 0}}
)");
  auto r = cli("run " + cli.graph);
  CHECK(r.code == 2);
  CHECK(r.out.empty());
  const std::regex line("^" + cli.graph + ":[0-9]+:[0-9]+: error: .*");
  int errors = 0;
  for (const auto& l : test::lines_of(r.err)) errors += std::regex_match(l, line);
  CHECK(errors == 4);
  CHECK(r.err.find(cli.graph + ":2:32: error: op 'constant' has no param 'valeu'") != std::string::npos);
  CHECK(r.err.find(cli.graph + ":5:64: error: n must be >= 1, got 0") != std::string::npos);
}

TEST_CASE("cli: bad resources and where are errors at their place, all at once, exit code 2") {
  Cli cli(R"(resources: {cpus: 0}
nodes:
  one: {op: constant, resources: {mem: lots, tme: 1h}}
  two: {op: add, inputs: {a: one.y}, resources: {time: soon, gpus: -1}, where: moon}
  three: {op: add, inputs: {a: one.y}, resources: 4}
)");
  auto r = cli("run " + cli.g() + " --executor slurm --dry-run");
  CHECK(r.code == 2);
  const std::vector<std::string> expected = {
      cli.graph + ":1:19: error: resources.cpus must be >= 1, got 0",
      cli.graph + ":3:40: error: resources.mem must be an amount of memory like 500M or 4G, got 'lots'",
      cli.graph + ":3:46: error: resources has no key 'tme' (keys: cpus, mem, time, partition, gpus)",
      cli.graph + ":4:56: error: resources.time must be a duration like 30m, 2h or 1h30m, got 'soon'",
      cli.graph + ":4:68: error: resources.gpus must be >= 0, got -1",
      cli.graph + ":4:80: error: where must be auto, local or cluster, got 'moon'",
      cli.graph + ":5:51: error: resources must be a map (keys: cpus, mem, time, partition, gpus), got '4'",
      "7 errors in " + cli.graph};
  CHECK(test::lines_of(r.err) == expected);
}

TEST_CASE("cli: resources past Slurm's ranges, or holding control characters, are errors at their place") {
  const std::string huge = "1" + std::string(400, '0') + "h";  // past a double's range: read without throwing
  Cli cli(R"(nodes:
  one: {op: constant, resources: {time: ")" + huge + R"("}}
  two: {op: constant, resources: {time: 400d, cpus: 99999999999, gpus: 70000}}
  three: {op: constant, resources: {mem: "4G\t", partition: "a,,b"}}
  four: {op: constant, resources: {partition: "\x1b[31m"}}
  five: {op: constant, resources: {partition: ""}}
)");
  auto r = cli("run " + cli.g() + " --dry-run");
  CHECK(r.code == 2);
  const std::vector<std::string> expected = {
      cli.graph + ":2:41: error: resources.time must be a duration like 30m, 2h or 1h30m, got '" + huge + "'",
      cli.graph + ":3:41: error: resources.time must be at most 365d, got '400d'",
      cli.graph + ":3:53: error: resources.cpus must be <= 65533, got 99999999999",
      cli.graph + ":3:72: error: resources.gpus must be <= 65533, got 70000",
      cli.graph + ":4:42: error: resources.mem must not hold a tab, got '4G\\t'",
      cli.graph + ":4:61: error: resources.partition must be a partition or a comma-separated list of them (letters, digits, _, - and .), got 'a,,b'",
      cli.graph + ":5:47: error: resources.partition must not hold control character 0x1b, got '\\x1b[31m'",
      "7 errors in " + cli.graph};
  CHECK(test::lines_of(r.err) == expected);
}

TEST_CASE("cli: --slurm-arg takes one sbatch flag, --name or --name=value, and anything else is a usage error") {
  Cli cli("nodes:\n  one: {op: constant, params: {value: 1}}\n");
  const std::string dry = "run " + cli.g() + " --dry-run ";
  CHECK(cli(dry + "--slurm-arg=--account=lab --slurm-arg=--exclusive '--slurm-arg=--mail-user=Ada Lovelace <ada@example.org>'").code == 0);
  const std::string x = cli.dir / "X";
  struct Case {
    std::string arg, message;
  };
  for (const Case& c : {
           Case{"\"$(printf -- '--qos=x\\ntouch " + x + "')\"",
                "must not hold a newline, got '--qos=x\\ntouch " + x + "'"},
           Case{"-A", "must be one sbatch flag in its long form, --name or --name=value (--account=lab, not -A lab), got '-A'"},
           Case{"'--account lab'", "must be one sbatch flag in its long form, --name or --name=value (--account=lab, not -A lab), "
                                   "got '--account lab'"},
           Case{"--job-name=mine", "untangle sets --job-name itself, got '--job-name=mine'"},
           Case{"--out=log", "untangle sets --output itself, got '--out=log'"},  // sbatch takes any unambiguous prefix
       }) {
    CAPTURE(c.arg);
    auto r = cli(dry + "--slurm-arg=" + c.arg);
    CHECK(r.code == 2);
    CHECK(r.out.empty());
    CHECK(test::lines_of(r.err).at(0) == "--slurm-arg: " + c.message);
  }
  CHECK_FALSE(std::filesystem::exists(x));
}

TEST_CASE("cli: a failing node gives exit code 1 and the rest still runs") {
  Cli cli(R"(nodes:
  one: {op: constant, params: {value: 3}}
  d: {op: describe, inputs: {x: one.y}}
  pick: {op: subset, inputs: {x: d.class_counts, y: d.class_counts}, params: {n: 5}}
  after: {op: describe, inputs: {x: pick.x}}
  fine: {op: add, inputs: {a: one.y}}
)");
  auto r = cli("run " + cli.g());
  CHECK(r.code == 1);
  CHECK(r.out.find("  FAILED  pick: n = 5 but the input has only 0 rows") != std::string::npos);
  CHECK(r.out.find("  skipped after (pick failed)") != std::string::npos);
  CHECK(test::last_line(r.out) == "done: 3 ran, 0 cached, 1 failed, 1 skipped");
}

TEST_CASE("cli: ops lists the ops and describes one") {
  auto r = test::run_command(std::string(UNTANGLE_BINARY) + " ops");
  CHECK(r.code == 0);
  for (const char* op : {"aggregate", "load_mnist", "subset", "describe"}) CHECK(r.out.find("  " + std::string(op)) != std::string::npos);
  r = test::run_command(std::string(UNTANGLE_BINARY) + " ops subset");
  CHECK(r.out.find("    mode: choice (first|random|stratified), default first") != std::string::npos);
  CHECK(test::run_command(std::string(UNTANGLE_BINARY) + " ops nope").code == 2);
}

TEST_CASE("cli: every graph in graphs/ is valid") {
  test::TempDir cache;
  int graphs = 0;
  for (const auto& e : std::filesystem::directory_iterator(std::string(UNTANGLE_SOURCE_DIR) + "/graphs")) {
    if (e.path().extension() != ".yaml") continue;
    ++graphs;
    auto r = test::run_command(std::string(UNTANGLE_BINARY) + " status " + e.path().string() + " --cache " + cache.path);
    CHECK_MESSAGE(r.code == 0, e.path().string() << ": " << r.err);
  }
  CHECK(graphs >= 5);
}

TEST_CASE("cli: gc --max-age removes entries no graph's latest run used and older than the limit") {
  Cli cli("nodes:\n  one: {op: constant, params: {value: 1.5}}\n  two: {op: constant, params: {value: 2}}\n");
  // Runs the graph with `one` set to `value`, and returns the path of that entry.
  auto run_with = [&](const std::string& value) {
    REQUIRE(cli("run " + cli.g() + " --set one.value=" + value).code == 0);
    for (const auto& l : test::lines_of(cli("show " + cli.g() + " --set one.value=" + value + " one").out))
      if (l.rfind("  file     ", 0) == 0) return l.substr(11);
    FAIL("show printed no file");
    return std::string();
  };
  const std::string old_unused = run_with("11"), young_unused = run_with("12"), used = run_with("13");
  const std::string two = test::lines_of(cli("show " + cli.g() + " two").out).at(1).substr(11);
  // Ages as gc reads them: the time an entry was last written or used.
  const auto now = std::filesystem::file_time_type::clock::now();
  const auto days = [&](int n) { return now - std::chrono::hours(24 * n); };
  std::filesystem::last_write_time(old_unused, days(10));
  std::filesystem::last_write_time(young_unused, days(3));
  std::filesystem::last_write_time(used, days(10));  // the latest run's entries stay, however old
  std::filesystem::last_write_time(two, days(10));

  auto r = cli("gc --max-age 5 --dry-run --cache " + cli.dir.path + "/cache");
  CHECK(r.code == 0);
  CHECK_CONTAINS(r.out, "would remove " + old_unused);
  CHECK(std::filesystem::exists(old_unused));

  r = cli("gc --max-age 5 --cache " + cli.dir.path + "/cache");
  CHECK(r.code == 0);
  CHECK_CONTAINS(r.out, "removed " + old_unused + " (unused for over 5 days)");
  CHECK(test::last_line(r.out).rfind("gc: removed 1 unused, 0 damaged and 0 interrupted entries", 0) == 0);
  CHECK_CONTAINS(test::last_line(r.out), "kept 3");
  CHECK_FALSE(std::filesystem::exists(old_unused));
  for (const auto& kept : {young_unused, used, two}) CHECK(std::filesystem::exists(kept));

  r = cli("gc --max-age 2 --cache " + cli.dir.path + "/cache");
  CHECK(test::last_line(r.out).rfind("gc: removed 1 unused", 0) == 0);
  CHECK_FALSE(std::filesystem::exists(young_unused));
  CHECK(test::last_line(cli("run " + cli.g() + " --set one.value=13").out) == "done: 0 ran, 2 cached, 0 failed");
}
