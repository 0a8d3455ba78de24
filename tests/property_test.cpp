// The cache never serves a wrong answer, checked on random graphs. Each case generates a graph
// of the ops in tests/property_ops.h (random DAG, params, vars, sweeps), then runs it again and
// again in one cache while random `--set` changes come and go. Every run is compared with a
// run of the same graph and settings in an empty cache, the reference:
//   - every instance has the reference's key, output digests and values (nothing stale);
//   - an instance runs exactly when its key is not in the cache yet, which the test tracks as
//     the union of the keys of all earlier runs (nothing cached runs again, nothing new is
//     served from the cache), and `status` predicts exactly that beforehand;
//   - the cache holds exactly those keys, whole.
// Runs vary --jobs, and some use --force (the node must run) or --only (the rest must not).
// The second test case kills some of the runs with SIGKILL at a random point (a child process,
// tests/property_child.cpp) and checks that what the killed run finished is whole, right and
// reused, and that the next run is still exact.
//
// UNTANGLE_PROPERTY_CASES (default: 400, and 200 with kills; a fifth of that off tmpfs),
// UNTANGLE_PROPERTY_SEED (default 1) and UNTANGLE_PROPERTY_FIRST (the first case's number,
// default 0) choose the cases; a failure prints the three values that replay it alone.
// UNTANGLE_PROPERTY_DIR: where the caches go (default /dev/shm, else the temp dir).
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <linux/magic.h>
#include <spawn.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>

#include "pipeline/atomic_file.h"
#include "pipeline/executor.h"
#include "tests/helpers.h"
#include "tests/property_ops.h"

extern char** environ;

using namespace untangle;
namespace fs = std::filesystem;

namespace {

// splitmix64: small, and the same numbers on every platform (std's distributions are not).
struct Rng {
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }
  bool chance(double p) { return static_cast<double>(next() >> 11) * 0x1.0p-53 < p; }
  template <class T> const T& pick(const std::vector<T>& v) { return v[below(v.size())]; }
};

struct Calls {
  std::mutex m;
  std::map<std::string, int> by_instance;
  void add(const std::string& instance) {
    std::lock_guard<std::mutex> lock(m);
    ++by_instance[instance];
  }
};

Calls& calls() {
  static Calls c;
  return c;
}

const Registry& ops() {
  static const Registry r = test::property_registry([](const std::string& i) { calls().add(i); });
  return r;
}

// ---------------------------------------------------------------------------------------------
// Random graphs and settings

// What a param takes: a number in [-100, 100], a count in [0, 4], digits in [0, 3], or text.
enum class Kind { number, count, digits, tag };

const std::map<std::string, std::vector<std::pair<std::string, Kind>>>& op_params() {
  static const std::map<std::string, std::vector<std::pair<std::string, Kind>>> m{
      {"const", {{"value", Kind::number}, {"n", Kind::count}, {"tag", Kind::tag}}},
      {"scale", {{"factor", Kind::number}}},
      {"offset", {{"by", Kind::number}}},
      {"clamp", {{"lo", Kind::number}, {"hi", Kind::number}}},
      {"round", {{"digits", Kind::digits}}},
      {"add", {}},
      {"gather", {}},
      {"split", {{"cut", Kind::number}}},
      {"merge", {}},
  };
  return m;
}

struct Graph {
  std::string yaml;
  std::vector<std::pair<std::string, std::string>> nodes;  // name, op
  std::vector<std::string> swept;                          // "s", "t"
};

// A number in one of the spellings that must mean the same: 2, 2.0, 2e0; 0.5, 5e-1.
std::string number_text(Rng& rng) {
  static const std::vector<double> pool{-2, -1, -0.5, 0, 0.5, 1, 1.5, 2, 3};
  const double v = rng.pick(pool);
  char plain[32], exp[32];
  std::snprintf(plain, sizeof plain, "%g", v);
  std::snprintf(exp, sizeof exp, "%ge0", v);
  switch (rng.below(4)) {
    case 0: return exp;
    case 1: return v == static_cast<int>(v) ? std::string(plain) + ".0" : std::string(plain) + "0";
    default: return plain;
  }
}

std::string integer_text(Rng& rng, int max) {
  const std::string v = std::to_string(rng.below(static_cast<std::size_t>(max) + 1));
  return rng.chance(0.15) ? "+" + v : v;
}

// A value for a param of this kind, as YAML text: a literal or a reference to a var.
std::string param_value(Rng& rng, Kind kind, const Graph& g) {
  std::vector<std::string> refs;
  switch (kind) {
    case Kind::number: refs = {"v0", "v1"}; break;
    case Kind::count:
    case Kind::digits: refs = {"i0"}; break;
    case Kind::tag: refs = {"v0", "i0"}; break;
  }
  refs.insert(refs.end(), g.swept.begin(), g.swept.end());  // sweeps hold 0 to 3: valid anywhere
  if (rng.chance(0.3)) {
    const std::string ref = "${" + rng.pick(refs) + "}";
    return "\"" + (kind == Kind::tag ? "t-" + ref : ref) + "\"";
  }
  switch (kind) {
    case Kind::number: return number_text(rng);
    case Kind::count: return integer_text(rng, 4);
    case Kind::digits: return integer_text(rng, 3);
    case Kind::tag: return rng.pick(std::vector<std::string>{"a", "b"});
  }
  return "";
}

Graph make_graph(Rng& rng) {
  Graph g;
  const std::size_t sweeps = rng.chance(0.5) ? (rng.chance(0.4) ? 2 : 1) : 0;
  std::string sweep_text;
  for (std::size_t k = 0; k < sweeps; ++k) {
    const std::string var = k == 0 ? "s" : "t";
    g.swept.push_back(var);
    std::vector<int> values{0, 1, 2, 3};
    std::string list;
    for (std::size_t n = 2 + rng.below(2); n > 0; --n) {
      const std::size_t at = rng.below(values.size());
      list += (list.empty() ? "" : ", ") + std::to_string(values[at]);
      values.erase(values.begin() + static_cast<long>(at));
    }
    sweep_text += (sweep_text.empty() ? "" : ", ") + var + ": [" + list + "]";
  }
  g.yaml = "vars: {v0: " + number_text(rng) + ", v1: " + number_text(rng) + ", i0: " + integer_text(rng, 3) + "}\n";
  if (!sweep_text.empty()) g.yaml += "sweep: {" + sweep_text + "}\n";
  g.yaml += "nodes:\n";

  static const std::vector<std::string> op_choice{"const", "scale", "scale", "scale", "offset", "offset", "clamp",
                                                  "clamp", "round", "round", "add",   "add",   "gather", "gather",
                                                  "split", "merge"};
  const std::size_t n = 2 + rng.below(11);
  std::vector<std::string> numeric, groups;  // "node.port" that earlier nodes offer
  for (std::size_t i = 0; i < n; ++i) {
    const std::string name = "n" + std::to_string(i);
    const std::string op = i == 0 ? "const" : rng.pick(op_choice);
    std::string inputs;
    auto input = [&](const std::string& port, const std::string& from) {
      inputs += (inputs.empty() ? "" : ", ") + port + ": " + from;
    };
    if (op == "add") {
      input("a", rng.pick(numeric));
      if (rng.chance(0.7)) input("b", rng.pick(numeric));
    } else if (op == "merge") {
      input("g", !groups.empty() && rng.chance(0.7) ? rng.pick(groups) : rng.pick(numeric));
    } else if (op == "gather") {
      input("x", rng.pick(numeric));
    } else if (op != "const") {
      input("x", rng.pick(numeric));
    }
    std::string params;
    for (const auto& [param, kind] : op_params().at(op))
      if (rng.chance(0.6)) params += (params.empty() ? "" : ", ") + param + ": " + param_value(rng, kind, g);
    g.yaml += "  " + name + ": {op: " + op;
    if (!inputs.empty()) g.yaml += ", inputs: {" + inputs + "}";
    if (!params.empty()) g.yaml += ", params: {" + params + "}";
    if (op == "gather" && g.swept.size() == 2 && rng.chance(0.4)) g.yaml += ", over: " + rng.pick(g.swept);
    g.yaml += "}\n";
    g.nodes.push_back({name, op});
    if (op == "split") groups.push_back(name + ".parts");
    else numeric.push_back(name + (op == "gather" ? ".values" : ".y"));
  }
  return g;
}

// The --set values in force, in the order they were first set.
using Settings = std::vector<std::pair<std::string, std::string>>;

std::vector<Override> overrides_of(const Settings& s) {
  std::vector<Override> out;
  for (const auto& [k, v] : s) out.push_back({k, v});
  return out;
}

std::string settings_text(const Settings& s) {
  std::string out;
  for (const auto& [k, v] : s) out += " --set " + k + "=" + v;
  return out.empty() ? " (graph as written)" : out;
}

void set(Settings& s, const std::string& key, const std::string& value) {
  for (auto& kv : s)
    if (kv.first == key) {
      kv.second = value;
      return;
    }
  s.push_back({key, value});
}

// One random change: a param or a var set, a swept var pinned, a setting dropped, or every
// setting back as it was some runs ago.
void change(Rng& rng, const Graph& g, Settings& s, const std::vector<Settings>& history) {
  const std::size_t what = rng.below(100);
  if (what < 15 && !history.empty()) {
    s = rng.pick(history);
  } else if (what < 30 && !s.empty()) {
    s.erase(s.begin() + static_cast<long>(rng.below(s.size())));
  } else if (what < 40 && !g.swept.empty()) {
    set(s, rng.pick(g.swept), std::to_string(rng.below(4)));
  } else if (what < 55) {
    const std::string var = rng.pick(std::vector<std::string>{"v0", "v1", "i0"});
    set(s, var, var == "i0" ? integer_text(rng, 3) : number_text(rng));
  } else {
    std::vector<std::pair<std::string, std::pair<std::string, Kind>>> params;
    for (const auto& [node, op] : g.nodes)
      for (const auto& p : op_params().at(op)) params.push_back({node, p});
    if (params.empty()) return;
    const auto& [node, p] = rng.pick(params);
    std::string value = param_value(rng, p.second, g);
    if (value.front() == '"') value = value.substr(1, value.size() - 2);  // --set reads YAML itself
    set(s, node + "." + p.first, value);
  }
}

// ---------------------------------------------------------------------------------------------
// Runs and what they must give

struct Result {
  std::string key;
  std::map<std::string, std::string> digests;
  std::map<std::string, Tensor> values;
};

// doctest's messages print a const char* as a pointer.
std::string state(Outcome o) { return outcome_name(o); }

std::string describe(const Tensor& t) {
  std::string s = std::string(dtype_name(t.dtype)) + shape_string(t.shape) + " {";
  for (std::size_t i = 0; i < t.size(); ++i)
    if (t.dtype == DType::str) {
      s += (i ? ", " : "") + t.strings[i];
    } else {
      char v[32];
      std::snprintf(v, sizeof v, "%.17g", t.at(i));
      s += (i ? ", " : "") + std::string(v);
    }
  return s + "}";
}

std::string shown(const std::map<std::string, Tensor>& values) {
  std::string s;
  for (const auto& [port, t] : values) s += (s.empty() ? "" : ", ") + port + " = " + describe(t);
  return s.empty() ? "no outputs" : s;
}

std::string served(const Store& store, const NodeResult& n) {
  std::map<std::string, Tensor> values;
  try {
    for (const auto& [port, digest] : n.digests) values[port] = store.read(n.key, port);
  } catch (const std::exception& e) {
    return e.what();
  }
  return shown(values);
}

bool same(const Tensor& a, const Tensor& b) {
  return a.dtype == b.dtype && a.shape == b.shape && a.bytes == b.bytes && a.strings == b.strings;
}

std::string failures(const Plan& p, const RunReport& r) {
  std::string s = r.summary();
  for (std::size_t i = 0; i < r.nodes.size(); ++i)
    if (r.nodes[i].outcome == Outcome::failed) s += "; " + p.instances[i].name + ": " + r.nodes[i].error;
  return s;
}

std::set<std::string> entries_in(const std::string& cache) {
  std::set<std::string> keys;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(cache + "/objects", ec)) {
    const std::string name = e.path().filename().string();
    if (e.path().extension() == ".h5" && !is_temp_name(name)) keys.insert(e.path().stem().string());
  }
  return keys;
}

struct Case {
  std::string dir;  // scratch directory of the case
  std::string graph;
  std::string cache;  // the cache that persists from run to run
  std::set<std::string> known;  // keys the cache holds, by the model
  std::map<std::string, std::vector<Result>> references;  // by settings_text
  std::string& context;  // what a failure message shows: the graph and the runs so far
  int fresh = 0;

  Plan plan(const Settings& s) const { return load_plan(graph, ops(), overrides_of(s)); }

  // The same graph and settings in an empty cache: everything computed from scratch.
  const std::vector<Result>& reference(const Settings& s) {
    auto it = references.find(settings_text(s));
    if (it != references.end()) return it->second;
    const Plan p = plan(s);
    Store store(dir + "/fresh" + std::to_string(fresh++));
    const RunReport r = Executor(p, store, [](const std::string&) {}).run({});
    REQUIRE_MESSAGE(r.failed == 0, "the reference run failed: " << failures(p, r));
    std::vector<Result> out(p.instances.size());
    std::set<std::string> ran_keys;
    for (std::size_t i = 0; i < out.size(); ++i)
      if (r.nodes[i].outcome == Outcome::ran) ran_keys.insert(r.nodes[i].key);
    for (std::size_t i = 0; i < out.size(); ++i) {
      const NodeResult& n = r.nodes[i];
      // In an empty cache only an instance whose key another instance just wrote is cached.
      REQUIRE_MESSAGE((n.outcome == Outcome::ran || (n.outcome == Outcome::cached && ran_keys.count(n.key))),
                      p.instances[i].name << " was " << state(n.outcome) << " in an empty cache");
      out[i].key = n.key;
      out[i].digests = n.digests;
      for (const auto& [port, digest] : n.digests) out[i].values[port] = store.read(n.key, port);
    }
    std::error_code ec;
    fs::remove_all(store.root(), ec);
    return references.emplace(settings_text(s), std::move(out)).first->second;
  }

  // The persistent cache holds exactly the keys the model says: nothing lost, nothing extra.
  void check_entries() {
    const auto on_disk = entries_in(cache);
    for (const auto& k : on_disk) REQUIRE_MESSAGE(known.count(k), "the cache holds " << k << ", which no run produced");
    for (const auto& k : known) REQUIRE_MESSAGE(on_disk.count(k), "the cache lost " << k);
  }

  void check_values(const Store& store, const Plan& p, const std::vector<Result>& ref, const std::vector<bool>& selected) {
    for (std::size_t i = 0; i < ref.size(); ++i)
      for (const auto& entry : ref[i].values) {
        const auto& port = entry.first;
        const auto& want = entry.second;
        if (!selected[i]) break;
        const Tensor got = store.read(ref[i].key, port);
        REQUIRE_MESSAGE(same(got, want), p.instances[i].name << "." << port << " is " << describe(got) << ", a fresh run gives "
                                                             << describe(want));
      }
  }

  // One run in the persistent cache, checked against the reference and the model.
  void run(Rng& rng, const Settings& s) {
    context += "run" + settings_text(s);
    run_here(rng, s);
  }

  void run_here(Rng& rng, const Settings& s) {
    const Plan p = plan(s);
    const auto& ref = reference(s);
    RunOptions opts;
    opts.jobs = 1 + rng.below(3);
    const std::string& node = p.instances[rng.below(p.instances.size())].node;
    if (rng.chance(0.1)) opts.force = {node};
    else if (rng.chance(0.1)) opts.only = {node};
    context += " (jobs " + std::to_string(opts.jobs) + (opts.force.empty() ? "" : ", --force " + node) +
               (opts.only.empty() ? "" : ", --only " + node) + ")\n";
    Store store(cache);
    std::set<std::size_t> forced;
    for (const auto& f : opts.force)
      for (auto i : p.select(f)) forced.insert(i);
    // --only: the node's instances and all they read, directly or not.
    std::vector<bool> selected(p.instances.size(), opts.only.empty());
    for (const auto& o : opts.only)
      for (auto i : p.select(o)) selected[i] = true;
    for (std::size_t i = p.instances.size(); i-- > 0;)
      if (selected[i])
        for (const auto& in : p.instances[i].inputs)
          for (auto j : in.from) selected[j] = true;

    // status: a key wherever every input is known to be cached; cached where that key is too.
    const auto st = Executor(p, store, [](const std::string&) {}).status(opts);
    std::vector<bool> keyed(p.instances.size()), cached(p.instances.size());
    for (std::size_t i = 0; i < p.instances.size(); ++i) {
      keyed[i] = true;
      for (const auto& in : p.instances[i].inputs)
        for (auto j : in.from) keyed[i] = keyed[i] && cached[j];
      const std::string key = keyed[i] ? ref[i].key : "";
      cached[i] = keyed[i] && !forced.count(i) && known.count(ref[i].key);
      if (!selected[i]) {
        REQUIRE_MESSAGE((st[i].outcome == Outcome::excluded && st[i].key.empty()), "status: " << p.instances[i].name << " is "
                                                                                          << state(st[i].outcome) << ", not excluded");
        continue;
      }
      const Outcome want = cached[i] ? Outcome::cached : Outcome::stale;
      REQUIRE_MESSAGE(st[i].key == key, "status: " << p.instances[i].name << " has key '" << st[i].key << "', expected '" << key << "'");
      REQUIRE_MESSAGE(st[i].outcome == want, "status: " << p.instances[i].name << " is " << state(st[i].outcome) << ", expected "
                                                        << state(want));
    }

    {
      std::lock_guard<std::mutex> lock(calls().m);
      calls().by_instance.clear();
    }
    const RunReport r = Executor(p, store, [](const std::string&) {}).run(opts);
    REQUIRE_MESSAGE(r.failed == 0, failures(p, r));
    std::map<std::string, int> ran_per_key;
    for (std::size_t i = 0; i < p.instances.size(); ++i) {
      const std::string& name = p.instances[i].name;
      const NodeResult& n = r.nodes[i];
      if (!selected[i]) {
        REQUIRE_MESSAGE((n.outcome == Outcome::excluded && calls().by_instance[name] == 0), name << " is " << state(n.outcome));
        continue;
      }
      REQUIRE_MESSAGE(n.key == ref[i].key, name << " has key " << n.key << ", a fresh run " << ref[i].key);
      REQUIRE_MESSAGE(n.digests == ref[i].digests, name << " (" << state(n.outcome) << ") gave " << served(store, n)
                                                        << ", a fresh run gives " << shown(ref[i].values));
      const int called = calls().by_instance[name];
      REQUIRE_MESSAGE(called == (n.outcome == Outcome::ran ? 1 : 0),
                      name << " is reported " << state(n.outcome) << " but its op ran " << called << " times");
      if (forced.count(i)) {
        REQUIRE_MESSAGE(n.outcome == Outcome::ran, name << " was forced but is " << state(n.outcome));
      } else if (known.count(n.key)) {
        REQUIRE_MESSAGE(n.outcome == Outcome::cached, name << " ran although its key was in the cache");
      } else {
        REQUIRE_MESSAGE((n.outcome == Outcome::ran || n.outcome == Outcome::cached), name << " is " << state(n.outcome));
      }
      if (!known.count(n.key)) ran_per_key[n.key] += n.outcome == Outcome::ran;
    }
    // Instances that compute one new key (say, equal ops on equal inputs) may share one run.
    for (const auto& entry : ran_per_key)
      REQUIRE_MESSAGE(entry.second > 0, "nothing ran for the new key " << entry.first << ", yet it was served");
    std::size_t total = 0;
    for (const auto& [name, n] : calls().by_instance) total += static_cast<std::size_t>(n);
    REQUIRE_MESSAGE(total == r.ran, total << " op calls for " << r.ran << " instances that ran");

    for (std::size_t i = 0; i < ref.size(); ++i)
      if (selected[i]) known.insert(ref[i].key);
    check_values(store, p, ref, selected);
    check_entries();
  }

  // A run in a child process that is killed part-way. What it finished must be whole and right;
  // what it did not, absent.
  void killed_run(Rng& rng, const Settings& s) {
    context += "run" + settings_text(s);
    const Plan p = plan(s);
    const auto& ref = reference(s);
    std::set<std::string> fresh_keys;
    for (const auto& res : ref)
      if (!known.count(res.key)) fresh_keys.insert(res.key);
    if (fresh_keys.empty()) return run_here(rng, s);  // nothing would run: nothing to interrupt

    // At the start of a random op call, or after a random delay: anywhere, mid-write included.
    const bool by_call = rng.chance(0.7);
    const std::string at_call = by_call ? std::to_string(1 + rng.below(fresh_keys.size())) : "0";
    const std::string after_us = by_call ? "0" : std::to_string(100 + rng.below(30000));
    const std::string jobs = std::to_string(1 + rng.below(3));
    context += " (jobs " + jobs + ") killed " + (by_call ? "at op call " + at_call : "after " + after_us + " us") + "\n";

    std::vector<std::string> args{PROPERTY_CHILD, graph, cache, jobs, at_call, after_us};
    for (const auto& [k, v] : s) args.push_back(k + "=" + v);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string err = dir + "/child.err";
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    REQUIRE_MESSAGE(rc == 0, "cannot start " << argv[0]);
    int status = 0;
    pid_t waited = 0;
    do waited = waitpid(pid, &status, 0);
    while (waited < 0 && errno == EINTR);
    REQUIRE(waited == pid);
    const bool killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
    const bool finished = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    REQUIRE_MESSAGE((killed || (finished && !by_call)), "the child run ended with status " << status << ": "
                                                                                       << test::read_file(err));
    if (finished) context += "  (it finished before the kill)\n";

    Store store(cache);
    for (std::size_t i = 0; i < ref.size(); ++i) {
      if (known.count(ref[i].key)) continue;
      EntryInfo info;
      std::string why;
      const auto found = store.lookup(ref[i].key, &info, &why);
      REQUIRE_MESSAGE(found != Store::State::damaged, "the killed run left a damaged entry for " << p.instances[i].name << ": " << why);
      if (found == Store::State::missing) continue;
      REQUIRE_MESSAGE(store.inspect(ref[i].key, nullptr, &why) == Store::State::ok,
                      "the killed run left an entry for " << p.instances[i].name << " that passes lookup but not inspection: " << why);
      REQUIRE_MESSAGE(info.digests == ref[i].digests, "the killed run left wrong outputs for " << p.instances[i].name);
      for (const auto& entry : ref[i].values)
        REQUIRE_MESSAGE(same(store.read(ref[i].key, entry.first), entry.second),
                        "the killed run left a wrong " << p.instances[i].name << "." << entry.first);
      known.insert(ref[i].key);
    }
    check_entries();
  }
};

// Scratch space on tmpfs where there is one: there a cache entry's fsync costs nothing, so the
// default run affords hundreds of cases. UNTANGLE_PROPERTY_DIR puts it elsewhere, say on disk.
std::string scratch_root() {
  if (const char* d = std::getenv("UNTANGLE_PROPERTY_DIR")) return d;
  if (::access("/dev/shm", W_OK | X_OK) == 0) return "/dev/shm";
  return fs::temp_directory_path().string();
}

bool on_tmpfs(const std::string& dir) {
  struct statfs fs_info {};
  return ::statfs(dir.c_str(), &fs_info) == 0 && fs_info.f_type == TMPFS_MAGIC;
}

struct Config {
  std::uint64_t seed = 1;
  int first = 0, cases = 0;
};

// On a disk every cache entry waits for its fsync, several times slower: fewer cases by default.
Config config(int cases) {
  Config c;
  c.cases = on_tmpfs(scratch_root()) ? cases : cases / 5;
  if (const char* s = std::getenv("UNTANGLE_PROPERTY_SEED")) c.seed = std::stoull(s);
  if (const char* s = std::getenv("UNTANGLE_PROPERTY_FIRST")) c.first = std::stoi(s);
  if (const char* s = std::getenv("UNTANGLE_PROPERTY_CASES")) c.cases = std::stoi(s);
  return c;
}

// Cases derive their own seeds, so any one of them replays alone.
void run_cases(bool kills, int default_cases) {
  const Config c = config(default_cases);
  for (int k = c.first; k < c.first + c.cases; ++k) {
    Rng rng{c.seed * 0x100000001b3ULL + static_cast<std::uint64_t>(k) * 2 + (kills ? 1 : 0)};
    rng.next();
    test::TempDir dir(scratch_root());
    std::string context = "replay with UNTANGLE_PROPERTY_SEED=" + std::to_string(c.seed) + " UNTANGLE_PROPERTY_FIRST=" +
                          std::to_string(k) + " UNTANGLE_PROPERTY_CASES=1\n";
    INFO(context);
    const Graph g = make_graph(rng);
    context += "graph:\n" + g.yaml + "runs:\n";
    Case cs{dir.path, dir / "g.yaml", dir / "cache", {}, {}, context};
    test::write_file(cs.graph, g.yaml);

    Settings s;
    std::vector<Settings> history;
    const std::size_t steps = 3 + rng.below(4);
    for (std::size_t step = 0; step < steps; ++step) {
      if (step > 0) {
        // After a kill, often the same settings again: the run that picks up the pieces.
        if (!(kills && rng.chance(0.4))) change(rng, g, s, history);
        if (rng.chance(0.3)) change(rng, g, s, history);
      }
      history.push_back(s);
      if (kills && step + 1 < steps && rng.chance(0.6)) cs.killed_run(rng, s);
      else cs.run(rng, s);
    }
  }
}

}  // namespace

TEST_CASE("property: incremental runs serve exactly what runs in an empty cache compute") {
  run_cases(false, 400);
}

TEST_CASE("property: runs killed with SIGKILL leave a cache that still serves only right answers") {
  run_cases(true, 200);
}
