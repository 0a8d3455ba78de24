#include <doctest/doctest.h>

#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <regex>
#include <thread>

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>

#include "pipeline/executor.h"
#include "pipeline/results.h"
#include "tests/helpers.h"
#include "tests/test_ops.h"

using namespace untangle;
namespace fs = std::filesystem;

namespace {

const Registry& ops() {
  static Registry r = test::test_registry();
  return r;
}

// A graph file in a scratch dir, run against a cache beside it.
struct Bench {
  test::TempDir dir;
  Store store{dir / "cache"};
  std::vector<std::string> log;
  std::string graph = dir / "g.yaml";

  explicit Bench(const std::string& text) { test::write_file(graph, text); }

  Plan plan(const std::vector<Override>& o = {}) { return load_plan(graph, ops(), o); }

  RunReport run(const std::vector<Override>& o = {}, RunOptions opts = {}) {
    test::calls().clear();
    Plan p = plan(o);
    return Executor(p, store, [&](const std::string& s) { log.push_back(s); }).run(opts);
  }

  std::map<std::string, Outcome> status(const std::vector<Override>& o = {}) {
    Plan p = plan(o);
    auto st = Executor(p, store, [](const std::string&) {}).status();
    std::map<std::string, Outcome> out;
    for (std::size_t i = 0; i < st.size(); ++i) out[p.instances[i].name] = st[i].outcome;
    return out;
  }

  double value(const std::string& instance, const std::string& port, const std::vector<Override>& o = {}) {
    Plan p = plan(o);
    auto st = Executor(p, store, [](const std::string&) {}).status();
    return store.read(st[p.by_name.at(instance)].key, port).at(0);
  }
};

// A job limit below the thread count makes waiting tasks suspend, and Debian's oneTBB switches
// their stacks in a way ThreadSanitizer cannot follow (it crashes or reports nonsense). The
// TSan build therefore runs without job limits below the thread count.
#if defined(__SANITIZE_THREAD__)
constexpr bool kTsan = true;
#else
constexpr bool kTsan = false;
#endif

// Changes the stored bytes of a scalar entry's value, leaving its metadata intact.
void damage_scalar(Store& store, const std::string& key, double value) {
  std::string bytes = test::read_file(store.path_of(key));
  const auto at = bytes.find(std::string(reinterpret_cast<const char*>(&value), sizeof value));
  REQUIRE(at != std::string::npos);
  bytes[at + 7] ^= 0x40;
  test::write_file(store.path_of(key), bytes);
}

// Aborts the test binary when a run hangs, so that a deadlock fails instead of stalling CI.
class Watchdog {
 public:
  explicit Watchdog(int seconds)
      : thread_([this, seconds] {
          std::unique_lock<std::mutex> lock(m_);
          if (!cv_.wait_for(lock, std::chrono::seconds(seconds), [this] { return done_; })) {
            std::fprintf(stderr, "deadlock: the run did not finish in %d s\n", seconds);
            std::abort();
          }
        }) {}
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lock(m_);
      done_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

const char* kChain = R"(nodes:
  a: {op: source, params: {value: 3}}
  b: {op: scale, inputs: {x: a.y}, params: {factor: 2}}
  c: {op: scale, inputs: {x: b.y}, params: {factor: 10}}
  side: {op: scale, inputs: {x: a.y}, params: {factor: 3}}
)";

}  // namespace

TEST_CASE("executor: a second run is all cache hits and computes nothing") {
  Bench b(kChain);
  RunReport r = b.run();
  CHECK(r.summary() == "done: 4 ran, 0 cached, 0 failed");
  CHECK(test::calls().total() == 4);
  CHECK(b.value("c", "y") == 60);
  r = b.run();
  CHECK(r.summary() == "done: 0 ran, 4 cached, 0 failed");
  CHECK(test::calls().total() == 0);
}

TEST_CASE("executor: a changed param reruns exactly that node and what depends on it") {
  Bench b(kChain);
  b.run();
  const std::vector<Override> set{{"b.factor", "4"}};
  auto st = b.status(set);
  CHECK(st["a"] == Outcome::cached);
  CHECK(st["side"] == Outcome::cached);
  CHECK(st["b"] == Outcome::stale);
  CHECK(st["c"] == Outcome::stale);
  RunReport r = b.run(set);
  CHECK(r.summary() == "done: 2 ran, 2 cached, 0 failed");
  CHECK(test::calls()["b"] == 1);
  CHECK(test::calls()["c"] == 1);
  CHECK(b.value("c", "y", set) == 120);
  // Setting it back finds the earlier results still in the cache.
  r = b.run();
  CHECK(r.summary() == "done: 0 ran, 4 cached, 0 failed");
}

TEST_CASE("executor: an upstream rerun with identical output leaves downstream cached") {
  Bench b(kChain);
  b.run();
  RunReport r = b.run({{"a.tag", "renamed"}});
  CHECK(r.summary() == "done: 1 ran, 3 cached, 0 failed");
  CHECK(test::calls()["a"] == 1);
  CHECK(test::calls().total() == 1);
}

TEST_CASE("executor: a sweep computes shared nodes once and each instance once") {
  Bench b(R"(sweep: {seed: [1, 2, 3]}
nodes:
  a: {op: source, params: {value: 2}}
  s: {op: scale, inputs: {x: a.y}, params: {factor: "${seed}"}}
  all: {op: collect, inputs: {x: s.y}}
)");
  RunReport r = b.run();
  CHECK(r.summary() == "done: 5 ran, 0 cached, 0 failed");
  CHECK(test::calls()["a"] == 1);
  for (const char* n : {"s[seed=1]", "s[seed=2]", "s[seed=3]", "all"}) CHECK(test::calls()[n] == 1);
  Plan p = b.plan();
  auto st = Executor(p, b.store, [](const std::string&) {}).status();
  Tensor v = b.store.read(st[p.by_name.at("all")].key, "values");
  CHECK(std::vector<double>(v.data<double>(), v.data<double>() + 3) == std::vector<double>{2, 4, 6});
  // A fourth seed runs only the new instance and the gather.
  test::write_file(b.graph, test::read_file(b.graph).replace(14, 9, "[1, 2, 3, 4]"));
  r = b.run();
  CHECK(r.summary() == "done: 2 ran, 4 cached, 0 failed");
  CHECK(test::calls()["s[seed=4]"] == 1);
  CHECK(test::calls()["all"] == 1);
}

TEST_CASE("executor: a failing node skips its dependents and the rest goes on") {
  Bench b(R"(nodes:
  a: {op: source}
  bad: {op: fail, inputs: {x: a.y}}
  after: {op: scale, inputs: {x: bad.y}}
  later: {op: scale, inputs: {x: after.y}}
  fine: {op: scale, inputs: {x: a.y}}
)");
  RunReport r = b.run();
  CHECK(r.summary() == "done: 2 ran, 0 cached, 1 failed, 2 skipped");
  CHECK(test::calls()["fine"] == 1);
  CHECK(test::calls()["after"] == 0);
  bool reported = false;
  for (auto& l : b.log) reported |= l == "  FAILED  bad: deliberate failure";
  CHECK(reported);
  CHECK(r.nodes[3].outcome == Outcome::skipped);
  CHECK(r.nodes[3].error == "after was skipped");
}

TEST_CASE("executor: --force reruns a cached node, --only runs a node and what it needs") {
  Bench b(kChain);
  RunOptions only;
  only.only = {"b"};
  RunReport r = b.run({}, only);
  CHECK(r.summary() == "done: 2 ran, 0 cached, 0 failed");
  CHECK(test::calls()["c"] == 0);
  CHECK(test::calls()["side"] == 0);
  RunOptions force;
  force.force = {"b"};
  r = b.run({}, force);
  CHECK(r.summary() == "done: 3 ran, 1 cached, 0 failed");  // b forced; c and side were never run
  CHECK(test::calls()["b"] == 1);
  RunOptions unknown;
  unknown.force = {"zz"};
  CHECK_THROWS_AS(b.run({}, unknown), std::invalid_argument);
}

TEST_CASE("executor: a damaged upstream entry is reported and recomputed when needed") {
  Bench b(kChain);
  b.run();
  Plan p = b.plan();
  auto st = Executor(p, b.store, [](const std::string&) {}).status();
  const std::string a_key = st[p.by_name.at("a")].key;
  const std::string b_key = st[p.by_name.at("b")].key;
  // Damage a's data (flip the stored value), and remove b so that it must read a.
  std::string bytes = test::read_file(b.store.path_of(a_key));
  const double three = 3;
  const auto at = bytes.find(std::string(reinterpret_cast<const char*>(&three), sizeof three));
  REQUIRE(at != std::string::npos);
  bytes[at + 7] ^= 0x40;
  test::write_file(b.store.path_of(a_key), bytes);
  b.store.discard(b_key);

  RunReport r = b.run();
  CHECK(test::calls()["a"] == 1);
  CHECK(test::calls()["b"] == 1);
  CHECK(test::calls()["c"] == 0);  // b's output is the same as before: c stays cached
  CHECK(r.failed == 0);
  bool reported = false;
  for (auto& l : b.log) reported |= l.find("damaged") != std::string::npos && l.find("recomputing a") != std::string::npos;
  CHECK(reported);
  CHECK(b.value("b", "y") == 6);

  // A truncated entry is caught on lookup and simply recomputed.
  fs::resize_file(b.store.path_of(b_key), 64);
  r = b.run();
  CHECK(r.summary() == "done: 1 ran, 3 cached, 0 failed");
  CHECK(b.value("b", "y") == 6);
}

TEST_CASE("executor: a damaged entry read by many consumers at once is recomputed once") {
  constexpr int kConsumers = 24;
  std::string text = "nodes:\n  up: {op: spread, params: {value: 3, ms: 2}}\n";
  for (int k = 1; k <= kConsumers; ++k)
    text += "  c" + std::to_string(k) + ": {op: scale, inputs: {x: up.y}, params: {factor: " + std::to_string(k) + "}}\n";
  Bench b(text);
  REQUIRE(b.run().ran == kConsumers + 1);
  Plan p = b.plan();
  auto st = Executor(p, b.store, [](const std::string&) {}).status();
  damage_scalar(b.store, st[p.by_name.at("up")].key, 3);
  for (int k = 1; k <= kConsumers; ++k) b.store.discard(st[p.by_name.at("c" + std::to_string(k))].key);

  // Four threads on any machine, and fewer job slots than threads: a consumer waiting for a
  // slot frees its thread, which then helps with the recompute's parallel loop.
  tbb::global_control threads(tbb::global_control::max_allowed_parallelism, 4);
  tbb::task_arena arena(4);
  RunOptions opts;
  opts.jobs = kTsan ? 4 : 2;
  std::vector<std::string> log, status;
  RunReport r;
  test::calls().clear();
  {
    Watchdog watchdog(120);
    arena.execute([&] {
      r = Executor(p, b.store, [&](const std::string& s) { log.push_back(s); },
                   [&](const std::string& s) { status.push_back(s); }).run(opts);
    });
  }
  CHECK(test::calls()["up"] == 1);
  CHECK(r.summary() == "done: " + std::to_string(kConsumers + 1) + " ran, 0 cached, 0 failed");
  for (int k = 1; k <= kConsumers; ++k) CHECK(b.value("c" + std::to_string(k), "y") == 3 * k);
  CHECK(std::count_if(log.begin(), log.end(), [](const std::string& l) {
          return l.find("damaged") != std::string::npos && l.find("recomputing up") != std::string::npos;
        }) == 1);
  // The live line counts each node once: nothing is left running, nothing waits twice.
  const std::regex counts(R"(  \[([0-9]+)/([0-9]+) done, ([0-9]+) waiting, .*)");
  REQUIRE_FALSE(status.empty());
  for (const auto& line : status) {
    std::smatch m;
    REQUIRE(std::regex_match(line, m, counts));
    const unsigned long done = std::stoul(m[1]), total = std::stoul(m[2]), waiting = std::stoul(m[3]);
    CHECK_MESSAGE(done + waiting <= total, line);
    CHECK_MESSAGE(done < total, line);  // once all are done, no op is shown running
  }
}

TEST_CASE("executor: independent nodes run at the same time, and --jobs caps them" * doctest::skip(kTsan)) {
  std::string text = "nodes:\n";
  for (int i = 0; i < 6; ++i) text += "  n" + std::to_string(i) + ": {op: source, params: {value: " + std::to_string(i) + ", ms: 150}}\n";
  Bench b(text);
  RunOptions one;
  one.jobs = 1;
  b.run({}, one);
  CHECK(test::calls().peak == 1);
  RunOptions two;
  two.jobs = 2;
  b.run({{"n0.tag", "b"}, {"n1.tag", "b"}, {"n2.tag", "b"}, {"n3.tag", "b"}}, two);
  CHECK(test::calls().total() == 4);
  CHECK(test::calls().peak == 2);
}

TEST_CASE("executor: files enter the key by content, not by path or timestamp") {
  test::TempDir data;
  test::write_file(data / "f.bin", "12345");
  Bench b("nodes:\n  r: {op: reader, params: {path: " + (data / "f.bin") + "}}\n");
  CHECK(b.run().ran == 1);
  CHECK(b.value("r", "size") == 5);
  fs::last_write_time(data / "f.bin", fs::file_time_type::clock::now() + std::chrono::seconds(5));
  CHECK(b.run().cached == 1);  // touched, same bytes
  fs::copy_file(data / "f.bin", data / "g.bin");
  CHECK(b.run({{"r.path", data / "g.bin"}}).cached == 1);  // another path, same bytes
  test::write_file(data / "f.bin", "1234567");
  CHECK(b.run().ran == 1);
  CHECK(b.value("r", "size") == 7);
  fs::remove(data / "f.bin");
  CHECK(b.status()["r"] == Outcome::stale);
  RunReport r = b.run();
  CHECK(r.failed == 1);  // no prepare step can bring the file back
}

TEST_CASE("executor: a group port passes a named set of tensors, keyed by all their contents") {
  Bench b(R"(nodes:
  w: {op: bundle, params: {first: 5}}
  m: {op: members, inputs: {g: w.w}}
)");
  CHECK(b.run().summary() == "done: 2 ran, 0 cached, 0 failed");
  CHECK(b.value("m", "sum") == 7);
  Plan p = b.plan();
  auto st = Executor(p, b.store, [](const std::string&) {}).status();
  CHECK(b.store.read(st[1].key, "names").strings == std::vector<std::string>{"layer1/kernel", "layer2/bias"});
  CHECK(b.store.read(st[0].key, "w/layer1/kernel").at(0) == 5);
  CHECK(b.run({{"w.first", "6"}}).summary() == "done: 2 ran, 0 cached, 0 failed");
  CHECK(b.value("m", "sum", {{"w.first", "6"}}) == 8);
}

TEST_CASE("results: file outputs are copied out under the instance's name, print outputs are returned") {
  Bench b(R"(nodes:
  a: {op: source, params: {value: 3}}
  c: {op: scale, inputs: {x: a.y}}
  r: {op: report, inputs: {x: [a.y, c.y]}}
)");
  const std::string dir = b.dir / "results";
  auto collect = [&](const std::vector<Override>& o = {}) {
    Plan p = b.plan(o);
    RunReport rep = Executor(p, b.store, [](const std::string&) {}).run({});
    return collect_results(p, b.store, rep, dir);
  };
  Results r = collect();
  REQUIRE(r.files == std::vector<std::string>{dir + "/r.txt"});
  CHECK(test::read_file(dir + "/r.txt") == "a.y=3.000000;c.y=6.000000;");
  REQUIRE(r.texts.size() == 1);
  CHECK(r.texts[0].first == "r.note");
  CHECK(r.texts[0].second == "total\na.y=3.000000;c.y=6.000000;\n");
  // Cached: still reported, and the file is left as it is.
  const auto written = fs::last_write_time(dir + "/r.txt");
  r = collect();
  CHECK(r.files.size() == 1);
  CHECK(r.texts.size() == 1);
  CHECK(fs::last_write_time(dir + "/r.txt") == written);
  collect({{"a.value", "4"}});
  CHECK(test::read_file(dir + "/r.txt") == "a.y=4.000000;c.y=8.000000;");
  CHECK(default_results_dir(b.plan()) == "results/g");
}

TEST_CASE("results: a sweep value names a file inside the results directory, whatever it holds") {
  Bench b(R"(sweep: {t: ["../../../outside", "a/b", "50%"]}
nodes:
  a: {op: source}
  r: {op: report, inputs: {x: a.y}, params: {tag: "${t}"}}
)");
  const std::string dir = b.dir / "deep/er/results";
  Plan p = b.plan();
  RunReport rep = Executor(p, b.store, [](const std::string&) {}).run({});
  const Results r = collect_results(p, b.store, rep, dir);
  CHECK(r.files == std::vector<std::string>{dir + "/r[t=..%2F..%2F..%2Foutside].txt", dir + "/r[t=a%2Fb].txt",
                                            dir + "/r[t=50%25].txt"});
  for (const auto& f : r.files) CHECK(fs::is_regular_file(f));
  // Nothing anywhere else: the results directory holds the three files and nothing more.
  std::size_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(b.dir / "deep")) n += e.is_regular_file();
  CHECK(n == 3);
}

TEST_CASE("executor: OpSchema::key_extra enters the key, so a changed environment value reruns") {
  Bench b("nodes:\n  a: {op: source}\n  n: {op: named, inputs: {x: a.y}, params: {outputs: {s: s}, env: UNTANGLE_TEST_KEY}}\n"
          "  c: {op: scale, inputs: {x: n.s}}\n");
  ::setenv("UNTANGLE_TEST_KEY", "one", 1);
  CHECK(b.run().summary() == "done: 3 ran, 0 cached, 0 failed");
  CHECK(b.value("c", "y") == 2);
  CHECK(b.run().summary() == "done: 0 ran, 3 cached, 0 failed");
  ::setenv("UNTANGLE_TEST_KEY", "two", 1);
  CHECK(b.status()["n"] == Outcome::stale);
  // The same bytes again: what reads n stays cached.
  CHECK(b.run().summary() == "done: 1 ran, 2 cached, 0 failed");
  CHECK(test::calls()["n"] == 1);
  ::unsetenv("UNTANGLE_TEST_KEY");
}
