// exec: programs in any language as graph nodes, run through the real binary as a user runs
// them; the programs are small shell and Python scripts the tests write.
#include <doctest/doctest.h>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "nodes/core/ops.h"
#include "tests/checks.h"
#include "tests/helpers.h"
#include "tests/idx_files.h"

using namespace untangle;

namespace {

struct Graph {
  test::TempDir dir;
  std::string file = dir / "g.yaml";
  explicit Graph(const std::string& text) { test::write_file(file, text); }
  test::CommandResult operator()(const std::string& command, const std::string& env = "") {
    return test::run_command(env + " " + UNTANGLE_BINARY + " " + command + " " + file + " --cache " + (dir / "cache"));
  }
};

bool has_h5py() { return test::run_command("/usr/bin/python3 -c 'import h5py'").code == 0; }

// Doubles its input `a`; `tag` is a comment that changes the script's bytes, not its output.
std::string doubler(const std::string& tag) {
  return "import os, h5py, numpy as np\n# " + tag +
         "\n"
         "with h5py.File(os.environ['UNTANGLE_INPUT'], 'r') as f:\n"
         "    a = f['a'][()]\n"
         "print('read', a)\n"
         "with h5py.File(os.environ['UNTANGLE_OUTPUT'], 'w') as f:\n"
         "    f['score'] = np.float64(2 * a)\n"
         "    f['seen'] = np.array([len(os.environ.get('EXEC_TEST_LEVEL', ''))], dtype=np.int32)\n";
}

const char* kDoubling = R"(nodes:
  c: {op: constant, params: {value: 2.5}}
  e:
    op: exec
    inputs: {a: c.y}
    params:
      command: [/usr/bin/python3, scripts/double.py]
      files: [scripts/double.py]
      outputs: {score: scalar, seen: tensor}
      env: [EXEC_TEST_LEVEL]
  d: {op: add, inputs: {a: e.score}}
)";

// A graph of one exec node running `command` (YAML flow list); returns the run's output.
test::CommandResult fails(const std::string& command, const std::string& outputs = "{s: scalar}",
                          const std::string& more = "") {
  Graph g("nodes:\n  e:\n    op: exec\n    params: {command: " + command + ", outputs: " + outputs + more + "}\n");
  auto r = g("run");
  CHECK(r.code == 1);
  CHECK(test::last_line(r.out) == "done: 0 ran, 0 cached, 1 failed, 0 skipped");
  CHECK(g("status").out == "e\tstale\n");
  return r;
}

std::string failure(const test::CommandResult& r) {
  const auto at = r.out.find("  FAILED  e: ");
  REQUIRE(at != std::string::npos);
  return r.out.substr(at + 13, r.out.find("\ndone:") - at - 13);
}

}  // namespace

TEST_CASE("exec: cached on rerun, an edited script reruns, and equal output keeps dependents cached") {
  if (!has_h5py()) {
    MESSAGE("SKIPPED: /usr/bin/python3 has no h5py");
    return;
  }
  Graph g(kDoubling);
  std::filesystem::create_directory(g.dir / "scripts");
  test::write_file(g.dir / "scripts/double.py", doubler("first"));
  // From elsewhere: the script is found beside the graph file, not in the working directory.
  auto r = g("run");
  REQUIRE(r.code == 0);
  CHECK(test::last_line(r.out) == "done: 3 ran, 0 cached, 0 failed");
  CHECK(r.out.find("  e: read 2.5\n") != std::string::npos);
  CHECK(test::run_command(std::string(UNTANGLE_BINARY) + " get " + g.file + " d.y --cache " + (g.dir / "cache")).out == "5\n");
  CHECK(g("run").out.find("done: 0 ran, 3 cached, 0 failed") != std::string::npos);

  test::write_file(g.dir / "scripts/double.py", doubler("second"));
  r = g("run");
  CHECK(test::ran(r.out) == std::vector<std::string>{"e"});
  CHECK(test::last_line(r.out) == "done: 1 ran, 2 cached, 0 failed");

  // A variable named by `env` enters the key by value.
  r = g("run", "EXEC_TEST_LEVEL=high");
  CHECK(test::ran(r.out) == std::vector<std::string>{"e"});
  CHECK(g("status", "EXEC_TEST_LEVEL=high").out == "c\tcached\ne\tcached\nd\tcached\n");
  CHECK(g("status", "EXEC_TEST_LEVEL=low").out == "c\tcached\ne\tstale\nd\tstale\n");
}

TEST_CASE("exec: a timeout that is no duration is a located graph error") {
  Graph g("nodes:\n  e:\n    op: exec\n    params: {command: ['true'], outputs: {s: scalar}, timeout: soon}\n");
  const auto r = g("run");
  CHECK(r.code == 2);
  CHECK(r.err.find(g.file + ":4:64: error: timeout must be a duration like 30s, 10m or 2h, got 'soon'") != std::string::npos);
  CHECK(!std::filesystem::exists(g.dir / "cache/objects"));
}

TEST_CASE("exec: a failing program fails its node with its status and stderr, caching nothing") {
  CHECK(failure(fails("[sh, -c, 'echo one >&2; echo two >&2; exit 3']")) ==
        "sh exited with status 3; the last lines of its stderr:\n  one\n  two");
  CHECK(failure(fails("[sh, -c, 'for i in $(seq 1 25); do echo line $i >&2; done; exit 1']")) ==
        "sh exited with status 1; the last lines of its stderr:\n  line 6\n  line 7\n  line 8\n  line 9\n  line 10\n"
        "  line 11\n  line 12\n  line 13\n  line 14\n  line 15\n  line 16\n  line 17\n  line 18\n  line 19\n  line 20\n"
        "  line 21\n  line 22\n  line 23\n  line 24\n  line 25");
  CHECK(failure(fails("[sh, -c, 'kill -SEGV $$']")) == "sh was killed by signal 11 (Segmentation fault) (stderr was empty)");
  const auto t0 = std::chrono::steady_clock::now();
  CHECK(failure(fails("[sh, -c, 'echo waiting >&2; sleep 30']", "{s: scalar}", ", timeout: 1s")) ==
        "sh timed out after 1s; the last lines of its stderr:\n  waiting");
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));  // the sleep was killed with its shell
  CHECK(failure(fails("['true']")) == "true wrote no output 's' to UNTANGLE_OUTPUT (stderr was empty)");
  CHECK(failure(fails("[no-such-program-here]")) == "cannot run no-such-program-here: No such file or directory");
  if (!has_h5py()) {
    MESSAGE("SKIPPED: /usr/bin/python3 has no h5py");
    return;
  }
  const std::string py = "[/usr/bin/python3, -c, \"import os, h5py, numpy as np; f = h5py.File(os.environ['UNTANGLE_OUTPUT'], 'w'); ";
  CHECK(failure(fails(py + "f['s'] = np.float64(1); f['extra'] = np.zeros(2)\"]")) ==
        "/usr/bin/python3 wrote undeclared output 'extra' (outputs: s) (stderr was empty)");
  CHECK(failure(fails(py + "f['s'] = np.zeros(3)\"]")) ==
        "/usr/bin/python3 wrote output 's' with shape [3]; it is declared scalar (one value) (stderr was empty)");
  CHECK(failure(fails(py + "f['s'] = np.array(['a', 'b'], dtype=h5py.string_dtype())\"]", "{s: tensor}")) ==
        "/usr/bin/python3 wrote output 's' as strings; it must be numeric (stderr was empty)");
  CHECK(failure(fails(py + "f['s'] = np.array([1, 2], dtype=np.uint16)\"]", "{s: tensor}")) ==
        "/usr/bin/python3's UNTANGLE_OUTPUT: dataset 's' has a type untangle does not hold (int8 to int64, uint8, float32, "
        "float64) (stderr was empty)");
}

// A file the fuzzer made (tests/fuzz/hdf5.cpp) on which libhdf5 1.10.8 crashes when the
// datasets at its root are listed. Left out of the sanitizer builds, whose runtime reports that
// crash in the reader as the error it is.
TEST_CASE("exec: an output file that crashes libhdf5 fails the node with a message [libhdf5 crash]") {
  const std::string file = std::string(UNTANGLE_SOURCE_DIR) + "/tests/data/crashes-libhdf5-listing.h5";
  const std::string e = failure(fails("[sh, -c, 'cp " + file + " \"$UNTANGLE_OUTPUT\"']"));
  CHECK(e.rfind("sh's UNTANGLE_OUTPUT: ", 0) == 0);
  CHECK(e.find("/output.h5: libhdf5 failed reading it (untangle-read-hdf5 was killed by signal 11 (Segmentation "
               "fault)); the file is damaged or not what it claims (stderr was empty)") != std::string::npos);
}

TEST_CASE("exec: stdout lines are the node's log, 'progress F text' lines its progress") {
  test::TempDir dir;
  OpSchema op = exec_op();
  OpContext ctx;
  ctx.params = YAML::Load(
      "{command: [sh, -c, 'echo first; echo progress 0.25 a quarter; echo progress x; printf last'], files: [], "
      "outputs: {}, env: [], timeout: ''}");
  ctx.graph_dir = dir.path;
  std::vector<std::string> log, progress;
  ctx.log = [&](const std::string& line) { log.push_back(line); };
  ctx.progress = [&](double f, const std::string& what) { progress.push_back(std::to_string(f) + " " + what); };
  CHECK(op.run(ctx).empty());
  CHECK(log == std::vector<std::string>{"first", "progress x", "last"});
  CHECK(progress == std::vector<std::string>{"0.250000 a quarter"});
}

TEST_CASE("exec: the temporary directory is the program's working directory and is removed") {
  test::TempDir dir;
  OpContext ctx;
  ctx.params = YAML::Load("{command: [sh, -c, 'pwd; echo $UNTANGLE_GRAPH_DIR'], files: [], outputs: {}, env: [], timeout: ''}");
  ctx.graph_dir = dir.path;
  std::vector<std::string> log;
  ctx.log = [&](const std::string& line) { log.push_back(line); };
  exec_op().run(ctx);
  REQUIRE(log.size() == 2);
  CHECK(log[0].find("untangle-exec-") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(std::filesystem::path(log[0]).parent_path()));
  CHECK(log[1] == dir.path);
}

TEST_CASE("exec: Ctrl-C on untangle kills the program's whole process group") {
  Graph g("nodes:\n  e:\n    op: exec\n    params: {command: [sh, -c, 'sleep 60 & echo $! > \"$UNTANGLE_GRAPH_DIR/child\"; wait'], "
          "outputs: {s: scalar}}\n");
  // Through the binary in a process of its own, so that SIGINT reaches untangle alone, not the
  // program's group: only untangle's cleanup can kill that.
  const std::string cmd = std::string(UNTANGLE_BINARY) + " run " + g.file + " --cache " + (g.dir / "cache");
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::execl("/bin/sh", "sh", "-c", ("exec " + cmd + " >/dev/null 2>&1").c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const std::string child_file = g.dir / "child";
  for (int k = 0; k < 500 && test::read_file(child_file).empty(); ++k) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const std::string text = test::read_file(child_file);
  REQUIRE(!text.empty());
  const pid_t sleeper = std::stoi(text);
  ::kill(pid, SIGINT);
  int status = 0;
  ::waitpid(pid, &status, 0);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGINT);
  // The sleep was in the program's group: killed, so gone, or a zombie where nothing reaps it.
  auto dead = [&] {
    const std::string stat = test::read_file("/proc/" + std::to_string(sleeper) + "/stat");
    return ::kill(sleeper, 0) != 0 || stat.find(") Z ") != std::string::npos;
  };
  bool gone = false;
  for (int k = 0; k < 200 && !gone; ++k) {
    gone = dead();
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(gone);
}

TEST_CASE("exec: files beside two graph files are two files, though their names and nodes are the same") {
  const std::string node = "nodes:\n  e: {op: exec, params: {command: [sh, s.sh], files: [s.sh], outputs: {}}}\n";
  Graph g("include: {sub: sub/g.yaml}\n" + node);
  std::filesystem::create_directory(g.dir / "sub");
  test::write_file(g.dir / "sub/g.yaml", node);
  test::write_file(g.dir / "s.sh", "echo top");
  test::write_file(g.dir / "sub/s.sh", "echo sub");
  auto r = g("run");
  CHECK(test::last_line(r.out) == "done: 2 ran, 0 cached, 0 failed");
  CHECK(r.out.find("  e: top\n") != std::string::npos);
  CHECK(r.out.find("  sub/e: sub\n") != std::string::npos);
}

namespace {

// Trustworthiness from its definition (Venna and Kaski): each point's k nearest neighbours in
// the embedding, penalised by how far past k each one ranks among the point's neighbours in
// the original space. Written apart from graphs/scripts/trustworthiness.py, to check it: ranks
// by counting, distances summed directly.
std::vector<double> trustworthiness(const std::vector<std::vector<double>>& x, const std::vector<std::vector<double>>& y,
                                    std::size_t k) {
  const std::size_t n = x.size();
  auto distance = [](const std::vector<double>& a, const std::vector<double>& b) {
    double s = 0;
    for (std::size_t d = 0; d < a.size(); ++d) s += (a[d] - b[d]) * (a[d] - b[d]);
    return s;
  };
  std::vector<double> out;
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<double> dx(n), dy(n);
    for (std::size_t j = 0; j < n; ++j) {
      dx[j] = distance(x[i], x[j]);
      dy[j] = distance(y[i], y[j]);
    }
    // j's rank among i's neighbours (from 1): how many others are nearer, ties to the lower index.
    auto rank = [&](const std::vector<double>& d, std::size_t j) {
      std::size_t r = 1;
      for (std::size_t l = 0; l < n; ++l)
        if (l != i && l != j && (d[l] < d[j] || (d[l] == d[j] && l < j))) ++r;
      return r;
    };
    double penalty = 0;
    for (std::size_t j = 0; j < n; ++j)
      if (j != i && rank(dy, j) <= k) penalty += std::max<double>(static_cast<double>(rank(dx, j)) - double(k), 0);
    out.push_back(1 - 2 * penalty / (double(k) * (2.0 * double(n) - 3.0 * double(k) - 1)));
  }
  return out;
}

std::vector<double> numbers_in(const std::string& csv) {
  std::vector<double> out;
  std::size_t pos = 0;
  while (pos < csv.size()) {
    std::size_t end = csv.find_first_of(",\n", pos);
    if (end == std::string::npos) end = csv.size();
    if (end > pos) out.push_back(std::stod(csv.substr(pos, end - pos)));
    pos = end + 1;
  }
  return out;
}

}  // namespace

TEST_CASE("exec: graphs/exec-example.yaml on a small MNIST: the script's trustworthiness, cached, edits rerun only it") {
  if (!has_h5py()) {
    MESSAGE("SKIPPED: /usr/bin/python3 has no h5py");
    return;
  }
  // 200 test digits: t-SNE's default perplexity of 30 needs more than 3 x 30 + 1 points.
  const std::uint32_t n = 200;
  test::TempDir dir;
  std::filesystem::create_directory(dir / "mnist");
  test::write_tiny_mnist(dir / "mnist", 100, n);
  const std::string sets =
      " --set mnist.dir=" + (dir / "mnist") + " --set first.n=" + std::to_string(n) + " --cache " + (dir / "cache");
  auto untangle = [&](const std::string& command, const std::string& graph, const std::string& more = "") {
    // run copies the table's CSV to --results, by default results/ in the working directory.
    const std::string results = command == "run" ? " --results " + (dir / "results") : "";
    return test::run_command(std::string(UNTANGLE_BINARY) + " " + command + " " + graph + more + sets + results);
  };
  const std::string graph = std::string(UNTANGLE_SOURCE_DIR) + "/graphs/exec-example.yaml";

  auto r = untangle("run", graph);
  REQUIRE(r.code == 0);
  CHECK(test::last_line(r.out) == "done: 6 ran, 0 cached, 0 failed");
  CHECK_CONTAINS(r.out, "  trust: trustworthiness of 200 points, k = 6\n");
  const double score = std::stod(untangle("get", graph, " trust.score").out);
  CHECK(score >= 0);
  CHECK(score <= 1);

  // The same figure from the definition, on the pixels as load_mnist gives them (u8 / 255 as
  // float32) and the embedding as the tsne node cached it.
  const std::string images = test::read_file(dir / "mnist/t10k-images-idx3-ubyte");
  const std::string label_bytes = test::read_file(dir / "mnist/t10k-labels-idx1-ubyte");
  REQUIRE(images.size() == 16 + n * 784);
  std::vector<std::vector<double>> x(n, std::vector<double>(784)), y;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t p = 0; p < 784; ++p)
      x[i][p] = static_cast<double>(static_cast<unsigned char>(images[16 + i * 784 + p]) / 255.0f);
  const auto points = numbers_in(untangle("get", graph, " tsne.points").out);
  REQUIRE(points.size() == 2 * n);
  for (std::size_t i = 0; i < n; ++i) y.push_back({points[2 * i], points[2 * i + 1]});
  const auto t = trustworthiness(x, y, 6);
  double mean = 0;
  for (double v : t) mean += v / n;
  // A rank swapped by rounding between two almost equal distances moves the mean by 4e-6.
  CHECK(score == doctest::Approx(mean).epsilon(1e-4));
  std::vector<double> per_class(10, 0);
  for (std::size_t i = 0; i < n; ++i) per_class[static_cast<unsigned char>(label_bytes[8 + i])] += t[i] / (n / 10);
  const auto got = numbers_in(untangle("get", graph, " trust.per_class").out);
  REQUIRE(got.size() == 10);
  for (std::size_t c = 0; c < 10; ++c) CHECK(got[c] == doctest::Approx(per_class[c]).epsilon(1e-3));
  // The classes are bands of bright rows: t-SNE separates them, and the table shows both figures.
  CHECK(std::stod(untangle("get", graph, " nh.overall").out) > 0.9);
  CHECK_CONTAINS(r.out, "trustworthiness");
  char rounded[32];
  std::snprintf(rounded, sizeof rounded, "%.4f", score);
  CHECK_CONTAINS(r.out, rounded);

  // Run again: everything cached.
  r = untangle("run", graph);
  CHECK(r.code == 0);
  CHECK(test::last_line(r.out) == "done: 0 ran, 6 cached, 0 failed");

  // A copy of the graph, its script and the helper it imports, laid out as in the repository:
  // still all cached (paths are not in the keys). A comment in the script reruns trust alone,
  // whose score is the same, so the table stays cached; a change to the score reruns the table.
  const std::string copy = dir / "copy";
  std::filesystem::create_directories(copy + "/graphs/scripts");
  std::filesystem::create_directories(copy + "/tools");
  std::filesystem::copy_file(graph, copy + "/graphs/exec-example.yaml");
  std::filesystem::copy_file(std::string(UNTANGLE_SOURCE_DIR) + "/graphs/scripts/trustworthiness.py",
                             copy + "/graphs/scripts/trustworthiness.py");
  std::filesystem::copy_file(std::string(UNTANGLE_SOURCE_DIR) + "/tools/untangle_exec.py", copy + "/tools/untangle_exec.py");
  const std::string copied = copy + "/graphs/exec-example.yaml", script = copy + "/graphs/scripts/trustworthiness.py";
  r = untangle("run", copied);
  CHECK(test::last_line(r.out) == "done: 0 ran, 6 cached, 0 failed");

  test::write_file(script, test::read_file(script) + "# an edit that changes nothing it computes\n");
  r = untangle("run", copied);
  CHECK(r.code == 0);
  CHECK(test::ran(r.out) == std::vector<std::string>{"trust"});
  CHECK(test::last_line(r.out) == "done: 1 ran, 5 cached, 0 failed");

  std::string text = test::read_file(script);
  const std::string mean_of = "score=np.float64(t.mean())";
  REQUIRE(text.find(mean_of) != std::string::npos);
  text.replace(text.find(mean_of), mean_of.size(), "score=np.float64(0.25)");
  test::write_file(script, text);
  r = untangle("run", copied);
  CHECK(r.code == 0);
  CHECK(test::ran(r.out) == std::vector<std::string>{"summary", "trust"});
  CHECK(test::last_line(r.out) == "done: 2 ran, 4 cached, 0 failed");
  CHECK_CONTAINS(r.out, "0.2500");
  CHECK(untangle("get", copied, " trust.score").out == "0.25\n");
  // The original graph's script is untouched, so its run is still wholly cached.
  CHECK(test::last_line(untangle("run", graph).out) == "done: 0 ran, 6 cached, 0 failed");
}
