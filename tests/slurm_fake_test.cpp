// The cluster executor's fault paths that a real one-node cluster cannot produce on demand (a
// node failing, preemption, a requeue, a lost sbatch reply, clusters without accounting), against
// tests/fake_slurm.py standing in for Slurm's commands. What a real cluster can show is tested
// against one in slurm_test.cpp.
#include <doctest/doctest.h>

#include <filesystem>
#include <set>

#include "tests/checks.h"
#include "tests/helpers.h"
#include "tests/slurm_logs.h"

using namespace untangle;
using test::count_of;

namespace {

const std::string kBinary = UNTANGLE_BINARY;

// A directory with Slurm's commands, all the fake, and the fake's state beside them.
struct FakeSlurm {
  test::TempDir dir;
  explicit FakeSlurm(bool with_sacct = true) {
    std::filesystem::create_directories(dir / "bin");
    std::filesystem::create_directories(dir / "state");
    for (const char* c : {"sbatch", "squeue", "sacct", "scontrol", "scancel", "sinfo"})
      if (with_sacct || std::string(c) != "sacct")
        std::filesystem::create_symlink(std::string(UNTANGLE_SOURCE_DIR) + "/tests/fake_slurm.py", (dir / "bin") + "/" + c);
  }
  std::string state(const std::string& file) const { return dir / ("state/" + file); }
  void set(const std::string& file, const std::string& text) const { test::write_file(state(file), text); }
  std::string calls() const { return test::read_file(state("calls")); }
  // untangle with the fake first on PATH; polling fast, as the fake's time is its squeue calls.
  test::CommandResult run(const std::string& args, const std::string& env = "") const {
    return test::run_command("cd " + dir.path + " && env FAKE_SLURM=" + (dir / "state") + " PATH=" + (dir / "bin") +
                             ":$PATH " + env + " " + kBinary + " " + args);
  }
};

// The job that computes an instance, from its "queued" line.
std::string task_of(const std::string& log, const std::string& name) { return test::task_of(log, "queued", name); }

// Four independent cluster instances and one that depends on `a`.
const char* kGraph = R"(nodes:
  one: {op: constant, params: {value: 1}}
  a: {op: add, inputs: {a: one.y}, params: {c: 1}, where: cluster}
  b: {op: add, inputs: {a: one.y}, params: {c: 2}, where: cluster}
  c: {op: add, inputs: {a: one.y}, params: {c: 3}, where: cluster}
  d: {op: add, inputs: {a: one.y}, params: {c: 4}, where: cluster}
  after: {op: add, inputs: {a: a.y}, where: cluster}
)";

const std::string kRun = "run g.yaml --cache cache --executor slurm --poll-max 0.2 --fs-latency 1";

// A sweep of `instances` cluster instances, add[i=1] … add[i=N], fed by one local constant.
std::string sweep_graph(int instances) {
  std::string graph = "sweep: {i: [";
  for (int i = 1; i <= instances; ++i) graph += (i > 1 ? ", " : "") + std::to_string(i);
  return graph + "]}\nvars: {i: 0}\nnodes:\n  one: {op: constant, params: {value: 1}}\n"
                 "  add: {op: add, inputs: {a: one.y}, params: {c: \"${i}\"}, where: cluster}\n";
}

// The task that computed each instance of sweep_graph's add, in order of i.
std::vector<std::string> sweep_tasks(const std::string& log, int instances) {
  std::vector<std::string> tasks;
  for (int i = 1; i <= instances; ++i) tasks.push_back(task_of(log, "add[i=" + std::to_string(i) + "]"));
  return tasks;
}

std::size_t distinct(const std::vector<std::string>& tasks) { return std::set<std::string>(tasks.begin(), tasks.end()).size(); }

}  // namespace

TEST_CASE("fake slurm: TIMEOUT, NODE_FAIL, PREEMPTED and CANCELLED each fail their instance with the state and what to do") {
  FakeSlurm slurm;
  test::write_file(slurm.dir / "g.yaml", kGraph);
  slurm.set("task_fates", "a TIMEOUT\nb NODE_FAIL\nc PREEMPTED\nd CANCELLED\n");
  const auto r = slurm.run(kRun);
  CHECK(r.code == 1);
  CHECK_CONTAINS(r.out, "  FAILED  a: the job left no result [job " + task_of(r.out, "a") +
                            ", TIMEOUT] (out of time: it asked for time 30m; raise resources.time)");
  CHECK_CONTAINS(r.out, "  FAILED  b: the job left no result [job " + task_of(r.out, "b") +
                            ", NODE_FAIL] (its node failed; --retries submits a job again)");
  CHECK_CONTAINS(r.out, "  FAILED  c: the job left no result [job " + task_of(r.out, "c") +
                            ", PREEMPTED] (preempted for a job of higher priority; --retries submits a job again)");
  CHECK_CONTAINS(r.out, "  FAILED  d: the job left no result [job " + task_of(r.out, "d") +
                            ", CANCELLED] (cancelled by scancel or the cluster's administrators)");
  CHECK(r.out.find("queued  after") == std::string::npos);  // its input failed: never submitted
  CHECK_CONTAINS(r.out, "done: 1 ran, 0 cached, 4 failed");
}

TEST_CASE("fake slurm: --retries submits a job that lost its node or was preempted again, and the run completes") {
  FakeSlurm slurm;
  test::write_file(slurm.dir / "g.yaml", kGraph);
  slurm.set("task_fates", "a NODE_FAIL\nb PREEMPTED\nb PREEMPTED\n");
  const auto once = slurm.run(kRun + " --retries 1");
  CHECK(once.code == 1);  // b is preempted twice: one retry is not enough
  CHECK_CONTAINS(once.out, "  retry   a (1 of 1): the job left no result [job ");
  CHECK_CONTAINS(once.out, "  ran     after");
  CHECK_CONTAINS(once.out, "  FAILED  b: the job left no result [job ");
  CHECK_CONTAINS(once.out, "done: 5 ran, 0 cached, 1 failed");
  const auto again = slurm.run(kRun);  // a second run resumes: only b is left
  CHECK(again.code == 0);
  CHECK_CONTAINS(again.out, "done: 1 ran, 5 cached, 0 failed");
}

TEST_CASE("fake slurm: a job that Slurm requeues (RUNNING, then PENDING) is not a failure") {
  FakeSlurm slurm;
  test::write_file(slurm.dir / "g.yaml", kGraph);
  slurm.set("task_fates", "a requeue\n");
  const auto r = slurm.run(kRun);
  CHECK_MESSAGE(r.code == 0, r.out << r.err);
  CHECK(count_of(r.out, "  start   a  ") == 1);
  CHECK_CONTAINS(r.out, "done: 6 ran, 0 cached, 0 failed");
  const std::string state = test::read_file(slurm.state("state.json"));
  CHECK_CONTAINS(state, "\"fate\": \"ok\"");  // the requeue happened
}

TEST_CASE("fake slurm: an sbatch whose reply is lost is found by its job name, not submitted twice") {
  FakeSlurm slurm;
  test::write_file(slurm.dir / "g.yaml", kGraph);
  SUBCASE("the job was submitted") {
    slurm.set("sbatch_fates", "lost-reply\n");
    const auto r = slurm.run(kRun);
    CHECK_MESSAGE(r.code == 0, r.out << r.err);
    CHECK_CONTAINS(r.out, "done: 6 ran, 0 cached, 0 failed");
    CHECK(count_of(slurm.calls(), "sbatch ") == 2);  // the four, then `after`: the lost reply not repeated
    CHECK(count_of(test::read_file(slurm.state("state.json")), "\"job\":") == 5);
  }
  SUBCASE("the job was not submitted") {
    slurm.set("sbatch_fates", "down\n");
    const auto r = slurm.run(kRun);
    CHECK_MESSAGE(r.code == 0, r.out << r.err);
    CHECK_CONTAINS(r.out, "  warning sbatch failed (sbatch: error: Batch job submission failed: Unable to contact slurm "
                          "controller); trying again");
    CHECK(count_of(slurm.calls(), "sbatch ") == 3);
    CHECK(count_of(test::read_file(slurm.state("state.json")), "\"job\":") == 5);
  }
}

TEST_CASE("fake slurm: an sbatch that keeps failing fails its instances, their dependents are skipped, and the run ends") {
  FakeSlurm slurm;
  test::write_file(slurm.dir / "g.yaml", kGraph);
  slurm.set("sbatch_fates", "down\ndown\ndown\ndown\n");  // each of the four attempts at the first array
  const auto r = slurm.run(kRun);
  CHECK(r.code == 1);
  CHECK_CONTAINS(r.out, "  FAILED  a: sbatch failed: sbatch: error: Batch job submission failed: Unable to contact slurm controller");
  CHECK_CONTAINS(r.out, "  skipped after");
  CHECK_CONTAINS(r.out, "done: 1 ran, 0 cached, 4 failed, 1 skipped");
}

TEST_CASE("fake slurm: a finished job's state comes from sacct, from scontrol where accounting is off or sacct missing") {
  for (const int where : {0, 1, 2}) {
    CAPTURE(where);
    FakeSlurm slurm(where != 2);
    test::write_file(slurm.dir / "g.yaml", kGraph);
    slurm.set("task_fates", "a TIMEOUT\n");
    if (where == 1) slurm.set("no_accounting", "");
    const auto r = slurm.run(kRun);
    CHECK(r.code == 1);
    CHECK_CONTAINS(r.out, "[job " + task_of(r.out, "a") + ", TIMEOUT] (out of time");
    const std::string calls = slurm.calls();
    CHECK((calls.find("sacct -n -X -P --starttime=now-30days -j " + task_of(r.out, "a")) != std::string::npos) == (where != 2));
    CHECK((calls.find("scontrol show job " + task_of(r.out, "a")) != std::string::npos) == (where != 0));
  }
}

TEST_CASE("fake slurm: claims left by a job Slurm forgot, or by a driver that died submitting, are released") {
  FakeSlurm slurm;
  test::write_file(slurm.dir / "g.yaml", kGraph);
  // The keys, from the sbatch commands a dry run prints once their input is cached.
  REQUIRE(slurm.run("run g.yaml --cache cache --only one").code == 0);
  const auto dry = slurm.run(kRun + " --dry-run");
  REQUIRE(dry.code == 0);
  auto key_of = [&](const std::string& name) {
    const auto at = dry.out.find("  run     " + name + "  sbatch");
    const auto k = dry.out.find("--expect-key ", at) + 13;
    return dry.out.substr(k, dry.out.find('\'', k) - k);
  };
  std::filesystem::create_directories(slurm.dir / "cache/jobs/claims");
  const std::string claims = slurm.dir / "cache/jobs/claims/";
  test::write_file(claims + key_of("a"), "77_0 untangle-0000dead\n");
  test::write_file(claims + key_of("b"), "- untangle-0000dead\n");
  std::filesystem::last_write_time(claims + key_of("b"), std::filesystem::file_time_type::clock::now() - std::chrono::minutes(5));
  const auto r = slurm.run(kRun);
  CHECK_MESSAGE(r.code == 0, r.out << r.err);
  CHECK_CONTAINS(r.out, "  waiting a  [job 77_0, submitted by another run or an earlier one]");
  CHECK_CONTAINS(r.out, "  lost    a  [job 77_0 ended without a result; submitting again]");
  CHECK(!task_of(r.out, "b").empty());
  CHECK_CONTAINS(r.out, "done: 5 ran, 1 cached, 0 failed");
  CHECK(std::filesystem::is_empty(slurm.dir / "cache/jobs/claims"));
}

TEST_CASE("fake slurm: a driver inside an allocation passes none of its SLURM_* variables on, and jobs use their cpus") {
  FakeSlurm slurm;
  test::write_file(slurm.dir / "g.yaml", R"(nodes:
  one: {op: constant, params: {value: 1}}
  a: {op: add, inputs: {a: one.y}, where: cluster, resources: {cpus: 3}}
)");
  const auto r = slurm.run(kRun, "SLURM_JOB_ID=999 SLURM_CPUS_PER_TASK=7 SLURM_NTASKS=4 SLURM_CONF=/etc/slurm/slurm.conf");
  CHECK_MESSAGE(r.code == 0, r.out << r.err);
  CHECK(test::read_file(slurm.state("env-1")) == "SLURM_CONF=/etc/slurm/slurm.conf\n");
  CHECK_CONTAINS(test::job_log(slurm.dir / "cache", task_of(r.out, "a")), "untangle job: 3 threads");
}

TEST_CASE("fake slurm: an array has a task per instance up to four per slot, past that instances share tasks") {
  for (const int cpus : {1, 2}) {
    CAPTURE(cpus);
    FakeSlurm slurm;
    slurm.set("cpus", std::to_string(cpus));
    test::write_file(slurm.dir / "g.yaml", sweep_graph(10));
    const auto r = slurm.run(kRun);
    CHECK_MESSAGE(r.code == 0, r.out << r.err);
    // 1 CPU (counted once, though its node is in two partitions): 4 tasks; 2 CPUs: 8.
    CHECK(distinct(sweep_tasks(r.out, 10)) == static_cast<std::size_t>(4 * cpus));
    CHECK(count_of(r.out, "  ran     add[") == 10);
  }
}

TEST_CASE("fake slurm: arrays stay within the cluster's MaxArraySize") {
  FakeSlurm slurm;
  slurm.set("cpus", "2");
  slurm.set("max_array_size", "3");  // indices 0-2: the 8 tasks that 2 CPUs allow would be refused
  test::write_file(slurm.dir / "g.yaml", sweep_graph(10));
  const auto r = slurm.run(kRun);
  CHECK_MESSAGE(r.code == 0, r.out << r.err);
  CHECK(count_of(r.out, "  ran     add[") == 10);
  CHECK(distinct(sweep_tasks(r.out, 10)) == 3);  // one array of three tasks, sharing the ten instances
  CHECK_CONTAINS(slurm.calls(), "scontrol show config");
}

TEST_CASE("fake slurm: a last wave that cannot fill the cluster asks for the cores it would leave idle") {
  struct Case {
    int cpus, instances, wider;  // the instances that ask for 2 cores: the last `wider`
  };
  // 5 on 2 CPUs: waves 2, 2, 1 → the fifth takes both cores. 6 on 4: 4, 2 → the last two take
  // two each. 7 on 4: 4, 3 → three cannot share four cores evenly. 2 on 2: one wave.
  for (const Case c : {Case{2, 5, 1}, Case{4, 6, 2}, Case{4, 7, 0}, Case{2, 2, 0}}) {
    CAPTURE(c.cpus);
    CAPTURE(c.instances);
    FakeSlurm slurm;
    slurm.set("cpus", std::to_string(c.cpus));
    test::write_file(slurm.dir / "g.yaml", sweep_graph(c.instances));
    const auto r = slurm.run(kRun);
    CHECK_MESSAGE(r.code == 0, r.out << r.err);
    const auto tasks = sweep_tasks(r.out, c.instances);
    for (int i = 1; i <= c.instances; ++i) {
      CAPTURE(i);
      const bool wide = i > c.instances - c.wider;
      CHECK_CONTAINS(test::job_log(slurm.dir / "cache", tasks[i - 1]), wide ? "untangle job: 2 threads" : "untangle job: 1 thread\n");
    }
    CHECK(distinct(tasks) == static_cast<std::size_t>(c.instances));  // still a task per instance
    CHECK(count_of(slurm.calls(), "sbatch ") == (c.wider > 0 ? 2 : 1));  // the array[, its last wave]
  }
}

TEST_CASE("fake slurm: a resource with a newline is an error at its place: nothing is submitted, nothing runs") {
  FakeSlurm slurm;
  const std::string x = slurm.dir / "X";
  test::write_file(slurm.dir / "g.yaml", "nodes:\n  one: {op: constant, params: {value: 1}}\n"
                                         "  a: {op: add, inputs: {a: one.y}, where: cluster, resources: {partition: \"short\\ntouch " +
                                             x + "\"}}\n");
  const auto r = slurm.run(kRun);
  CHECK(r.code == 2);
  CHECK(r.err == "g.yaml:3:75: error: resources.partition must not hold a newline, got 'short\\ntouch " + x +
                     "'\n1 error in g.yaml\n");
  CHECK(r.out.empty());
  CHECK_FALSE(std::filesystem::exists(x));
  CHECK(slurm.calls().find("sbatch") == std::string::npos);
}

TEST_CASE("fake slurm: Slurm's names, lists, sizes and times reach sbatch as written, while spaces, quotes, $() and backticks are errors") {
  FakeSlurm slurm;
  SUBCASE("good values") {
    test::write_file(slurm.dir / "g.yaml", R"x(nodes:
  one: {op: constant, params: {value: 1}}
  a:
    op: add
    inputs: {a: one.y}
    where: cluster
    resources: {partition: "debug,long_2.x", mem: 2G, time: 1h30m, cpus: 2, gpus: 1}
)x");
    const auto r = slurm.run(kRun);
    CHECK_MESSAGE(r.code == 0, r.out << r.err);
    const std::string opts = test::read_file(slurm.state("sbatch-1"));
    for (const char* o : {"partition=debug,long_2.x\n", "mem=2G\n", "time=90\n", "cpus-per-task=2\n", "gres=gpu:1\n"})
      CHECK_CONTAINS(opts, o);
  }
  SUBCASE("values a shell would read otherwise") {
    test::write_file(slurm.dir / "g.yaml", R"x(nodes:
  one: {op: constant, params: {value: 1}}
  a: {op: add, inputs: {a: one.y}, where: cluster, resources: {partition: "a b"}}
  b: {op: add, inputs: {a: one.y}, where: cluster, resources: {partition: "lab'x"}}
  c: {op: add, inputs: {a: one.y}, where: cluster, resources: {partition: "$(touch X)"}}
  d: {op: add, inputs: {a: one.y}, where: cluster, resources: {partition: "`touch X`"}}
)x");
    const auto r = slurm.run(kRun);
    CHECK(r.code == 2);
    const std::string partition =
        ": error: resources.partition must be a partition or a comma-separated list of them (letters, digits, _, - and .), got '";
    CHECK(test::lines_of(r.err) == std::vector<std::string>{"g.yaml:3:75" + partition + "a b'", "g.yaml:4:75" + partition + "lab'x'",
                                                            "g.yaml:5:75" + partition + "$(touch X)'",
                                                            "g.yaml:6:75" + partition + "`touch X`'", "4 errors in g.yaml"});
    CHECK_FALSE(std::filesystem::exists(slurm.dir / "X"));
    CHECK(slurm.calls().find("sbatch") == std::string::npos);
  }
}

TEST_CASE("fake slurm: a --slurm-arg's value reaches sbatch exactly, spaces, quotes, $(), backticks and # included") {
  FakeSlurm slurm;
  test::write_file(slurm.dir / "g.yaml", kGraph);
  // `it's $(touch X) `touch X` a\b #c` as one word for sh.
  const std::string arg = R"x( '--slurm-arg=--qos=it'\''s $(touch X) `touch X` a\b #c')x";
  REQUIRE(slurm.run("run g.yaml --cache cache --only one").code == 0);
  const auto dry = slurm.run(kRun + arg + " --dry-run");
  CHECK(dry.code == 0);
  CHECK_CONTAINS(dry.out, R"x( --time=30 --qos='it'\''s $(touch X) `touch X` a'\\'b #c' --wrap ')x");
  const auto r = slurm.run(kRun + arg);
  CHECK_MESSAGE(r.code == 0, r.out << r.err);
  CHECK_CONTAINS(test::read_file(slurm.state("sbatch-1")), "qos=it's $(touch X) `touch X` a\\b #c\n");
  CHECK_FALSE(std::filesystem::exists(slurm.dir / "X"));
}

TEST_CASE("fake slurm: a cache path with a newline fails the instances it would have put on an #SBATCH line") {
  FakeSlurm slurm;
  test::write_file(slurm.dir / "g.yaml", kGraph);
  const auto r = slurm.run(R"x(run g.yaml --cache "$(printf 'c\ntouch X #')" --executor slurm --poll-max 0.2 --fs-latency 1)x");
  CHECK(r.code == 1);
  CHECK_CONTAINS(r.out, "  FAILED  a: an #SBATCH line cannot hold a newline, got '--output=c\\ntouch X #/jobs/untangle-");
  CHECK_CONTAINS(r.out, "done: 1 ran, 0 cached, 4 failed, 1 skipped");
  CHECK_FALSE(std::filesystem::exists(slurm.dir / "X"));
  CHECK(slurm.calls().find("sbatch") == std::string::npos);
}
