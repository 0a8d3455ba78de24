// The Slurm executor against a real one-node cluster (tools/slurm-local, started by the CTest
// fixture in tests/CMakeLists.txt, which sets SLURM_CONF). The graphs run on tiny data.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <sstream>

#include <filesystem>

#include "tests/checks.h"
#include "tests/helpers.h"
#include "tests/idx_files.h"
#include "tests/slurm_logs.h"

using namespace untangle;
using test::count_of;

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

// A sweep of `n` exec nodes, each appending a line to dir/runs (so that a test can count how
// often each ran), sleeping `seconds`, then writing its seed as its output.
std::string sleepers(const test::TempDir& dir, int n, double seconds, const std::string& more = "") {
  std::string seeds;
  for (int k = 1; k <= n; ++k) seeds += (k > 1 ? ", " : "") + std::to_string(k);
  test::write_file(dir / "sleep.py",
                   "import os, sys, time, h5py\n"
                   "open(sys.argv[2], 'a').write(sys.argv[1] + '\\n')\n"
                   "time.sleep(" + std::to_string(seconds) + ")\n"
                   "h5py.File(os.environ['UNTANGLE_OUTPUT'], 'w')['s'] = float(sys.argv[1])\n");
  return "sweep: {seed: [" + seeds + "]}\nvars: {seed: 1}\nnodes:\n  nap:\n    op: exec\n" + more +
         "    params: {command: [/usr/bin/python3, sleep.py, \"${seed}\", " + (dir / "runs") +
         "], files: [sleep.py], outputs: {s: scalar}}\n";
}

// Starts untangle as a child, its output to `out`; returns its pid. Not through a shell: a
// shell's background job ignores SIGINT, which is what Ctrl-C sends.
pid_t start_driver(const std::string& args, const std::string& out) {
  std::vector<std::string> argv{kBinary};
  std::istringstream in(args);
  for (std::string a; in >> a;) argv.push_back(a);
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<char*> args_c;
    for (auto& a : argv) args_c.push_back(a.data());
    args_c.push_back(nullptr);
    ::execv(args_c[0], args_c.data());
    ::_exit(127);
  }
  return pid;
}

// The child's wait status, waiting up to `seconds`; -1 if it is still running.
int wait_child(pid_t pid, double seconds) {
  int status = 0;
  for (double t = 0; t < seconds; t += 0.1) {
    if (waitpid(pid, &status, WNOHANG) == pid) return status;
    usleep(100000);
  }
  return -1;
}

// Waits up to `seconds` for `file` to hold `part` `times` times.
bool wait_for(const std::string& file, const std::string& part, std::size_t times, double seconds) {
  for (double t = 0; t < seconds; t += 0.1) {
    std::error_code ec;
    if (std::filesystem::exists(file, ec) && count_of(test::read_file(file), part) >= times) return true;
    usleep(100000);
  }
  return false;
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

  // --force reaches the job, which computes the instance again although it is cached.
  auto forced = test::run_command(kBinary + " run " + graph + sets + " --cache " + (dir / "slurm") +
                                  " --executor slurm --poll-max 1 --force 'stats[seed=2]'");
  CHECK(test::last_line(forced.out) == "done: 1 ran, 12 cached, 0 failed");
  const std::string task = test::task_of(forced.out, "queued", "stats[seed=2]");
  REQUIRE(!task.empty());
  CHECK_CONTAINS(test::job_log(dir / "slurm", task), "  ran     stats[seed=2]");
}

TEST_CASE("slurm: the seed's 5-seed MLP sweep through Slurm gives the local run's weights and accuracies, bit for bit") {
  test::TempDir dir;
  std::filesystem::create_directories(dir / "mnist");
  test::write_tiny_mnist(dir / "mnist", 200, 50);
  const std::string graph = std::string(UNTANGLE_SOURCE_DIR) + "/graphs/seed-mlp.yaml";
  const std::string sets = " --set mnist.dir=" + (dir / "mnist");
  auto local = test::run_command(kBinary + " run " + graph + sets + " --cache " + (dir / "local"));
  REQUIRE_MESSAGE(local.code == 0, local.out << local.err);
  auto slurm = test::run_command(kBinary + " run " + graph + sets + " --cache " + (dir / "slurm") +
                                 " --executor slurm --poll-max 1");
  REQUIRE_MESSAGE(slurm.code == 0, slurm.out << slurm.err);
  CHECK(count_of(slurm.out, "  queued  model[seed=") == 5);
  CHECK(count_of(slurm.out, "  ran     model[seed=") == 5);
  // Five trainings are few against the node's cores: a job (array task) each, each in Slurm's records.
  std::set<std::string> tasks;
  for (int seed = 1; seed <= 5; ++seed) tasks.insert(test::task_of(slurm.out, "queued", "model[seed=" + std::to_string(seed) + "]"));
  CHECK(tasks.size() == 5);
  CHECK(tasks.count("") == 0);
  for (const auto& task : tasks) {
    const auto record = test::run_command("scontrol show job " + task + " -o");
    CHECK_CONTAINS(record.out, "JobState=COMPLETED");
    CHECK_CONTAINS(record.out, "ArrayTaskId=" + task.substr(task.find('_') + 1) + " ");
  }
  CHECK(digests(graph, sets, dir / "slurm") == digests(graph, sets, dir / "local"));
  CHECK(test::run_command(kBinary + " get " + graph + " accuracy.mean" + sets + " --cache " + (dir / "slurm")).out ==
        test::run_command(kBinary + " get " + graph + " accuracy.mean" + sets + " --cache " + (dir / "local")).out);
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

TEST_CASE("slurm: a cluster that does not answer is a usage error, exit code 2, before anything runs") {
  test::TempDir dir;
  test::write_file(dir / "g.yaml", "nodes:\n  c: {op: constant, params: {value: 1}}\n");
  auto r = test::run_command("SLURM_CONF=" + (dir / "none.conf") + " " + kBinary + " run " + (dir / "g.yaml") +
                             " --cache " + (dir / "cache") + " --executor slurm");
  CHECK(r.code == 2);
  CHECK(r.err.rfind("untangle: error: --executor slurm: the cluster does not answer: ", 0) == 0);
  CHECK(r.out.empty());
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

TEST_CASE("slurm: a driver killed with kill -9 and started again adopts its jobs, and nothing runs twice") {
  test::TempDir dir;
  test::write_file(dir / "g.yaml", sleepers(dir, 4, 4));
  const std::string args = "run " + (dir / "g.yaml") + " --cache " + (dir / "cache") + " --executor slurm --poll-max 1";
  const pid_t pid = start_driver(args, dir / "first.out");
  REQUIRE(wait_for(dir / "first.out", "  queued  ", 4, 20));
  ::kill(pid, SIGKILL);
  wait_child(pid, 10);
  auto r = test::run_command(kBinary + " " + args);
  CHECK_MESSAGE(r.code == 0, r.out);
  CHECK(count_of(r.out, "  waiting nap[seed=") == 4);
  CHECK(count_of(r.out, ", adopted]") == 4);
  CHECK(count_of(r.out, "  queued  ") == 0);
  CHECK(test::last_line(r.out) == "done: 4 ran, 0 cached, 0 failed");
  CHECK(count_of(test::read_file(dir / "runs"), "\n") == 4);  // each seed once
}

TEST_CASE("slurm: scancel of a running job fails its instance with the job id, the rest goes on, a rerun completes") {
  test::TempDir dir;
  test::write_file(dir / "g.yaml", sleepers(dir, 2, 3) + "  quick: {op: constant, params: {value: 1}}\n");
  const std::string args = "run " + (dir / "g.yaml") + " --cache " + (dir / "cache") + " --executor slurm --poll-max 1";
  const pid_t pid = start_driver(args, dir / "out");
  REQUIRE(wait_for(dir / "out", "  start   nap[seed=1]  [job ", 1, 20));
  const std::string out = test::read_file(dir / "out");
  const std::string task = test::task_of(out, "start", "nap[seed=1]");
  CHECK(test::run_command("scancel " + task).code == 0);
  const int status = wait_child(pid, 60);
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 1));
  const std::string log = test::read_file(dir / "out");
  CHECK_CONTAINS(log, "  FAILED  nap[seed=1]: the job left no result [job " + task + ", CANCELLED]");
  CHECK_CONTAINS(log, "  ran     nap[seed=2]");
  CHECK(test::last_line(log) == "done: 2 ran, 0 cached, 1 failed, 0 skipped");
  auto r = test::run_command(kBinary + " " + args);
  CHECK(r.code == 0);
  CHECK(test::last_line(r.out) == "done: 1 ran, 2 cached, 0 failed");
}

TEST_CASE("slurm: a job over its memory fails with the out-of-memory state, and --retries submits it again") {
  test::TempDir dir;
  test::write_file(dir / "g.yaml", R"y(nodes:
  big:
    op: exec
    resources: {mem: 50M}
    params: {command: [/usr/bin/python3, -c, "a = bytearray(600 * 2**20); import time; time.sleep(3)"], outputs: {s: scalar}}
)y");
  auto r = test::run_command(kBinary + " run " + (dir / "g.yaml") + " --cache " + (dir / "cache") +
                             " --executor slurm --poll-max 1 --retries 1");
  CHECK(r.code == 1);
  CHECK(count_of(r.out, "  retry   big (1 of 1): ") == 1);
  CHECK_CONTAINS(r.out, "(out of memory: it asked for mem 50M; raise resources.mem)");
  CHECK(count_of(r.out, "  queued  big") == 2);
  CHECK(test::last_line(r.out) == "done: 0 ran, 0 cached, 1 failed, 0 skipped");
}

TEST_CASE("slurm: Ctrl-C on the driver cancels its jobs and exits 130") {
  test::TempDir dir;
  test::write_file(dir / "g.yaml", sleepers(dir, 2, 30));
  const pid_t pid = start_driver("run " + (dir / "g.yaml") + " --cache " + (dir / "cache") + " --executor slurm --poll-max 1",
                                 dir / "out");
  REQUIRE(wait_for(dir / "out", "  queued  ", 2, 20));
  const std::string out = test::read_file(dir / "out");
  const std::string task = test::task_of(out, "queued", "nap[seed=1]");
  const std::string job = task.substr(0, task.find('_'));
  ::kill(pid, SIGINT);
  const int status = wait_child(pid, 20);
  CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGINT));  // a shell shows it as exit code 130
  std::string states;
  for (int k = 0; k < 50; ++k) {
    states = test::run_command("squeue -h -r -j " + job + " -o %T").out;
    if (states.find("RUNNING") == std::string::npos && states.find("PENDING") == std::string::npos) break;
    usleep(100000);
  }
  CHECK(states.find("RUNNING") == std::string::npos);
  CHECK(states.find("PENDING") == std::string::npos);
}

TEST_CASE("slurm: two drivers on one cache never compute one instance twice: the second waits for the first's jobs") {
  test::TempDir dir;
  test::write_file(dir / "g.yaml", sleepers(dir, 3, 3));
  const std::string args = "run " + (dir / "g.yaml") + " --cache " + (dir / "cache") + " --executor slurm --poll-max 1";
  const pid_t first = start_driver(args, dir / "first.out");
  REQUIRE(wait_for(dir / "first.out", "  queued  ", 3, 20));
  auto second = test::run_command(kBinary + " " + args);
  CHECK(second.code == 0);
  CHECK(count_of(second.out, "  queued  ") == 0);
  CHECK(count_of(second.out, ", submitted by another run or an earlier one]") == 3);
  CHECK(test::last_line(second.out) == "done: 3 ran, 0 cached, 0 failed");
  const int status = wait_child(first, 60);
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  CHECK(test::last_line(test::read_file(dir / "first.out")) == "done: 3 ran, 0 cached, 0 failed");
  CHECK(count_of(test::read_file(dir / "runs"), "\n") == 3);  // each seed once
}

TEST_CASE("slurm: squeue failing for a while is retried with back-off and the run completes") {
  test::TempDir dir;
  // An squeue that fails its first two calls, as a busy slurmctld's time-outs do, then is Slurm's.
  std::filesystem::create_directories(dir / "bin");
  const std::string real = test::run_command("command -v squeue").out;
  test::write_file(dir / "bin/squeue", "#!/bin/sh\nn=$(cat " + (dir / "calls") + " 2>/dev/null || echo 0)\n"
                                       "echo $((n + 1)) > " + (dir / "calls") + "\n"
                                       "if [ \"$n\" -ge 1 ] && [ \"$n\" -le 2 ]; then echo 'slurm_load_jobs error: Socket timed out' >&2; exit 1; fi\n"
                                       "exec " + real.substr(0, real.size() - 1) + " \"$@\"\n");
  std::filesystem::permissions(dir / "bin/squeue", std::filesystem::perms::owner_all);
  test::write_file(dir / "g.yaml", sleepers(dir, 1, 0));
  auto r = test::run_command("PATH=" + (dir / "bin") + ":$PATH " + kBinary + " run " + (dir / "g.yaml") + " --cache " +
                             (dir / "cache") + " --executor slurm --poll-max 1");
  CHECK(r.code == 0);
  CHECK(count_of(r.out, "  warning squeue failed (slurm_load_jobs error: Socket timed out); trying again in ") == 2);
  CHECK(test::last_line(r.out) == "done: 1 ran, 0 cached, 0 failed");
}
