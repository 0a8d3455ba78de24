// The executor's state for one run and the steps of deciding and running an instance, shared
// by the local run (executor.cpp, a TBB flow graph) and the cluster run (cluster_run.cpp, a
// driver loop over Slurm jobs). Internal to the engine.
#pragma once
#include <chrono>
#include <cstdio>
#include <deque>
#include <exception>
#include <filesystem>
#include <memory>
#include <mutex>
#include <set>

#include <oneapi/tbb/task.h>
#include <oneapi/tbb/task_arena.h>

#include "pipeline/executor.h"
#include "pipeline/hash.h"

namespace untangle {

namespace detail {

// A counting semaphore for tasks: a task that finds no free slot is suspended, not blocked,
// so its thread goes on to help with other work (including the parallel loops inside the
// ops that hold the slots).
class Slots {
 public:
  explicit Slots(std::size_t n) : free_(n) {}
  void acquire() {
    {
      std::lock_guard<std::mutex> lock(m_);
      if (free_ > 0) {
        --free_;
        return;
      }
    }
    tbb::task::suspend([this](tbb::task::suspend_point sp) {
      std::unique_lock<std::mutex> lock(m_);
      if (free_ > 0) {
        --free_;
        lock.unlock();
        tbb::task::resume(sp);
      } else {
        waiting_.push_back(sp);
      }
    });
  }
  void release() {
    std::unique_lock<std::mutex> lock(m_);
    if (waiting_.empty()) {
      ++free_;
      return;
    }
    auto sp = waiting_.front();  // the slot passes straight to the waiter
    waiting_.pop_front();
    lock.unlock();
    tbb::task::resume(sp);
  }

 private:
  std::mutex m_;
  std::size_t free_;
  std::deque<tbb::task::suspend_point> waiting_;
};

struct SlotGuard {
  Slots& s;
  explicit SlotGuard(Slots& s_) : s(s_) { s.acquire(); }
  ~SlotGuard() { s.release(); }
};

inline std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, s < 10 ? "%.2f s" : "%.1f s", s);
  return buf;
}

inline std::string message_of(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
    return "unknown error";
  }
}

inline std::set<std::size_t> select_all(const Plan& plan, const std::vector<std::string>& names, const char* flag) {
  std::set<std::size_t> out;
  for (const auto& n : names) {
    auto sel = plan.select(n);
    if (sel.empty()) throw std::invalid_argument(std::string(flag) + ": no node or instance '" + n + "' in " + plan.file);
    out.insert(sel.begin(), sel.end());
  }
  return out;
}

}  // namespace detail

using detail::message_of;
using detail::seconds_text;
using detail::select_all;
using detail::SlotGuard;
using detail::Slots;

struct Executor::Impl {
  const Plan& plan;
  Store& store;
  LogFn log, status;
  // res[i] is written only by instance i's own flow-graph node; its consumers start after
  // that and read it without a lock.
  std::vector<NodeResult> res;
  std::vector<bool> selected, forced;

  // What an op run gives the node that ran it.
  struct Ran {
    std::map<std::string, std::string> digests;
    double seconds = 0;
  };
  // A finished instance run again because a consumer found its entry damaged. Consumers read
  // res[j] meanwhile, so the outcome is kept here, and folded into res[j] after the run.
  struct Recompute {
    std::mutex m;  // held while it runs; the other consumers wait for it
    bool tried = false;
    std::unique_ptr<Ran> ran;  // null when another process had repaired the entry
    std::exception_ptr error;
  };
  std::vector<std::unique_ptr<Recompute>> recomputes;

  std::mutex log_mutex;
  // The live line on a terminal: how much is done, and each running op with how far it is.
  struct Running {
    std::chrono::steady_clock::time_point started;
    double fraction = 0;
    std::string what;  // the op's own words, e.g. "epoch 3/10"
    bool again = false;  // a recompute of an instance already counted as done
  };
  std::map<std::size_t, Running> running;  // guarded by log_mutex, like the counts
  std::size_t finished = 0, total = 0;
  const std::chrono::steady_clock::time_point run_started = std::chrono::steady_clock::now();

  Impl(const Plan& p, Store& s, LogFn l, LogFn st, const RunOptions& opts)
      : plan(p), store(s), log(std::move(l)), status(std::move(st)), res(p.instances.size()),
        selected(p.instances.size(), opts.only.empty()), forced(p.instances.size(), false) {
    for (auto i : select_all(plan, opts.force, "--force")) forced[i] = true;
    // --only: the named instances and everything upstream of them.
    std::vector<std::size_t> todo;
    for (auto i : select_all(plan, opts.only, "--only")) todo.push_back(i);
    while (!todo.empty()) {
      auto i = todo.back();
      todo.pop_back();
      if (selected[i]) continue;
      selected[i] = true;
      for (const auto& in : plan.instances[i].inputs) todo.insert(todo.end(), in.from.begin(), in.from.end());
    }
    for (std::size_t i = 0; i < res.size(); ++i) recomputes.emplace_back(new Recompute);
    total = static_cast<std::size_t>(std::count(selected.begin(), selected.end(), true));
  }

  void say(const std::string& line) {
    std::lock_guard<std::mutex> lock(log_mutex);
    log(line);
    show();
  }

  // With log_mutex held.
  void show() {
    if (!status || running.empty()) return;
    const auto now = std::chrono::steady_clock::now();
    const auto first_runs = std::count_if(running.begin(), running.end(), [](const auto& r) { return !r.second.again; });
    std::string line = "  [" + std::to_string(finished) + "/" + std::to_string(total) + " done, " +
                       std::to_string(total - finished - first_runs) + " waiting, " +
                       seconds_text(std::chrono::duration<double>(now - run_started).count()) + "]";
    for (const auto& [i, r] : running) {
      const double spent = std::chrono::duration<double>(now - r.started).count();
      char pct[16];
      std::snprintf(pct, sizeof pct, " %.0f%%", 100 * r.fraction);
      line += "  " + plan.instances[i].name + (r.fraction > 0 ? pct : "") + " " + seconds_text(spent);
      if (r.fraction > 0.02) line += " ~" + seconds_text(spent * (1 - r.fraction) / r.fraction) + " left";
      if (running.size() == 1 && !r.what.empty()) line += "  " + r.what;
    }
    constexpr std::size_t kWidth = 200;
    if (line.size() > kWidth) line = line.substr(0, kWidth - 1) + "…";
    status(line);
  }

  void finish(std::size_t i) {
    std::lock_guard<std::mutex> lock(log_mutex);
    running.erase(i);
    ++finished;
    show();
  }

  // Digests of the files an op reads; false when one is missing and may not be fetched now.
  bool file_digests(const Instance& inst, std::vector<std::string>& out, bool fetch) {
    out.clear();
    if (!inst.op->files) return true;
    auto paths = inst.op->files(inst.params);
    if (inst.op->files_from_graph_dir)
      for (auto& p : paths) p = (std::filesystem::path(inst.graph_dir) / p).lexically_normal().string();
    bool missing = false;
    for (const auto& p : paths) missing |= !std::filesystem::exists(p);
    if (missing) {
      if (!fetch) return false;
      if (!inst.op->prepare)
        for (const auto& p : paths)
          if (!std::filesystem::exists(p)) throw std::runtime_error("missing file " + p);
      inst.op->prepare(inst.params);
    }
    for (const auto& p : paths) out.push_back(file_digest(p, store.file_memo_dir()));
    return true;
  }

  // The cache key: what the op is, how it is set, and the content of all it reads.
  std::string key_of(std::size_t i, const std::vector<std::string>& files) {
    const Instance& inst = plan.instances[i];
    std::string text = "untangle key v1\nop " + inst.op->name + " v" + std::to_string(inst.op->version) + "\n" +
                       params_key_text(*inst.op, inst.params);
    if (!inst.op->origin_digest.empty()) text += "code " + inst.op->origin_digest + "\n";
    for (const auto& in : inst.inputs)
      for (std::size_t k = 0; k < in.from.size(); ++k) {
        const NodeResult& up = res[in.from[k]];
        // Only an input that is there has a digest: a group whose producer has yet to run must
        // not pass for an empty group.
        const bool there = up.outcome == Outcome::cached || up.outcome == Outcome::ran;
        const std::string d = there ? port_digest(up.digests, out_port(in.from[k], in.from_port)) : "";
        if (d.empty()) return "";
        text += "in " + in.port + " " + in.labels[k] + " " + d + "\n";
      }
    for (const auto& f : files) text += "file " + f + "\n";
    if (inst.op->key_extra) text += "extra " + inst.op->key_extra(inst.params) + "\n";
    return hash_text(text);
  }

  std::string inputs_yaml(std::size_t i) {
    // A port that lists its sources has one PlanInput per source; show them as one list.
    std::vector<std::pair<std::string, std::vector<std::string>>> ports;
    for (const auto& in : plan.instances[i].inputs) {
      if (ports.empty() || ports.back().first != in.port) ports.push_back({in.port, {}});
      for (auto j : in.from)
        ports.back().second.push_back(plan.instances[j].name + "." + in.from_port + " " +
                                      port_digest(res[j].digests, out_port(j, in.from_port)));
    }
    YAML::Emitter e;
    e << YAML::BeginMap;
    for (const auto& [port, sources] : ports) e << YAML::Key << port << YAML::Value << sources;
    e << YAML::EndMap;
    return ports.empty() ? "{}" : e.c_str();
  }

  const PortSpec& out_port(std::size_t j, const std::string& port) const {
    return *plan.instances[j].output(port);  // the plan checked that it exists
  }

  // Resolves an instance's key and checks the cache, as far as its inputs allow.
  void resolve(std::size_t i, bool fetch) {
    NodeResult& r = res[i];
    std::vector<std::string> files;
    if (!file_digests(plan.instances[i], files, fetch)) return;  // stale: data not there yet
    r.key = key_of(i, files);
    if (r.key.empty() || forced[i]) return;
    EntryInfo info;
    std::string why;
    switch (store.lookup(r.key, &info, &why)) {
      case Store::State::ok:
        r.outcome = Outcome::cached;
        r.digests = info.digests;
        r.seconds = info.seconds;
        return;
      case Store::State::damaged:
        say("  damaged " + why + "; recomputing " + plan.instances[i].name);
        if (fetch) store.discard(r.key);
        return;
      case Store::State::missing:
        return;
    }
  }

  Tensor load(std::size_t j, const std::string& port) {
    Tensor t;
    std::string digest;  // verified by the store, so the bytes need not be hashed again
    try {
      t = store.read(res[j].key, port, &digest);
    } catch (const DamagedEntry& d) {
      recompute(j, d.what());
      t = store.read(res[j].key, port, &digest);
    }
    // The reader's key names the digest it expects; computing from other bytes would cache a
    // result under a key that does not describe it.
    const auto expected = res[j].digests.find(port);
    if (expected == res[j].digests.end() || expected->second != digest)
      throw std::runtime_error(plan.instances[j].name + "." + port +
                               " changed when recomputed (its op is not deterministic); run again");
    return t;
  }

  // Runs j again after a consumer found its entry damaged: once, however many consumers find
  // it. Isolated, so that a thread waiting inside j's op (in a parallel loop) takes up no
  // other task, such as another consumer of j, which would wait for this very recompute.
  void recompute(std::size_t j, const std::string& why) {
    Recompute& rc = *recomputes[j];
    std::lock_guard<std::mutex> lock(rc.m);
    if (!rc.tried) {
      rc.tried = true;
      // Another process sharing the cache may have replaced the entry meanwhile.
      if (store.lookup(res[j].key) != Store::State::ok || !verified(j)) {
        say("  damaged " + why + "; recomputing " + plan.instances[j].name);
        store.discard(res[j].key);
        try {
          tbb::this_task_arena::isolate([&] { rc.ran = std::make_unique<Ran>(execute(j, true)); });
        } catch (...) {
          rc.error = std::current_exception();
        }
        if (rc.ran && rc.ran->digests != res[j].digests)
          say("  warning " + plan.instances[j].name + " gave different output when recomputed; its op is not deterministic");
      }
    }
    if (rc.error) throw std::runtime_error("recomputing " + plan.instances[j].name + ": " + message_of(rc.error));
  }

  bool verified(std::size_t j) {
    try {
      for (const auto& d : res[j].digests) store.read(res[j].key, d.first);
      return true;
    } catch (const DamagedEntry&) {
      return false;
    }
  }

  // Runs instance i's op and caches what it gives. `again`: i has finished before, and this
  // recomputes its damaged entry.
  Ran execute(std::size_t i, bool again = false) {
    const Instance& inst = plan.instances[i];
    const std::string& key = res[i].key;
    {
      std::lock_guard<std::mutex> lock(log_mutex);
      running[i] = {std::chrono::steady_clock::now(), 0, "", again};
    }
    struct Stopped {  // off the live line however the op ends
      Impl& impl;
      std::size_t i;
      ~Stopped() {
        std::lock_guard<std::mutex> lock(impl.log_mutex);
        impl.running.erase(i);
      }
    } stopped{*this, i};
    say("  start   " + inst.name);
    OpContext ctx;
    ctx.params = inst.params;
    ctx.instance = inst.name;
    ctx.graph_dir = inst.graph_dir;
    for (const auto& in : inst.inputs)
      for (std::size_t k = 0; k < in.from.size(); ++k) {
        if (!out_port(in.from[k], in.from_port).group) {
          ctx.inputs[in.port].push_back(load(in.from[k], in.from_port));
          ctx.labels[in.port].push_back(in.labels[k]);
          continue;
        }
        const std::string prefix = in.from_port + "/";
        for (const auto& [name, digest] : res[in.from[k]].digests)
          if (name.compare(0, prefix.size(), prefix) == 0) {
            ctx.inputs[in.port].push_back(load(in.from[k], name));
            // A group listed among other sources keeps its source in each member's label.
            const std::string member = name.substr(prefix.size());
            ctx.labels[in.port].push_back(in.labels[k].empty() ? member : in.labels[k] + "/" + member);
          }
      }
    const auto started = std::chrono::steady_clock::now();
    auto last = started;
    ctx.progress = [&, last](double f, const std::string& what) mutable {
      // A live line on a terminal; in a log, a line now and then for ops that say nothing else.
      const auto now = std::chrono::steady_clock::now();
      if (now - last < (status ? std::chrono::milliseconds(200) : std::chrono::milliseconds(30000))) return;
      last = now;
      if (status) {
        std::lock_guard<std::mutex> lock(log_mutex);
        Running& r = running.at(i);
        r.fraction = f;
        r.what = what;
        show();
        return;
      }
      const double spent = std::chrono::duration<double>(now - started).count();
      char text[64];
      std::snprintf(text, sizeof text, " %3.0f%% %s", 100 * f, seconds_text(spent).c_str());
      std::string line = "  ...     " + inst.name + text;
      if (f > 0.02) line += ", ~" + seconds_text(spent * (1 - f) / f) + " left";
      if (!what.empty()) line += "  " + what;
      say(line);
    };
    ctx.log = [&](const std::string& text) {
      std::string block;
      std::size_t start = 0;
      while (start < text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        block += (block.empty() ? "" : "\n") + ("  " + inst.name + ": ") + text.substr(start, end - start);
        start = end + 1;
      }
      say(block);  // one call, so lines of parallel nodes do not interleave
    };
    const auto t0 = std::chrono::steady_clock::now();
    Outputs out = inst.op->run(ctx);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (const auto& port : inst.outputs)
      if (!port.group && !out.count(port.name))
        throw std::runtime_error("op " + inst.op->name + " produced no output '" + port.name + "'");
    for (const auto& [name, t] : out) {
      const auto slash = name.find('/');
      const PortSpec* port = inst.output(name.substr(0, slash));
      if (!port || port->group != (slash != std::string::npos))
        throw std::runtime_error("op " + inst.op->name + " produced undeclared output '" + name + "'");
    }
    EntryInfo info;
    info.key = key;
    info.op = inst.op->name;
    info.op_version = inst.op->version;
    info.node = inst.name;
    info.params = params_yaml(*inst.op, inst.params);
    info.inputs = inputs_yaml(i);
    info.seconds = secs;
    if (!ctx.timings.empty()) {
      YAML::Emitter e;
      e << YAML::BeginMap;
      for (const auto& [name, values] : ctx.timings) e << YAML::Key << name << YAML::Value << YAML::Flow << values;
      e << YAML::EndMap;
      info.timings = e.c_str();
    }
    store.write(info, out);
    Ran ran;
    for (const auto& [port, t] : out) ran.digests[port] = t.digest();
    ran.seconds = secs;
    say("  ran     " + inst.name + "  " + seconds_text(secs));
    return ran;
  }

  // After the run: a recomputed instance counts as ran (or failed), once.
  void fold_recomputes() {
    for (std::size_t j = 0; j < res.size(); ++j) {
      const Recompute& rc = *recomputes[j];
      if (rc.ran) {
        res[j].outcome = Outcome::ran;
        res[j].digests = rc.ran->digests;
        res[j].seconds = rc.ran->seconds;
      } else if (rc.error) {
        res[j].outcome = Outcome::failed;
        res[j].error = "when recomputed: " + message_of(rc.error);
      }
    }
  }

  void body(std::size_t i, Slots& slots) {
    decide(i, slots);
    if (selected[i]) finish(i);
  }

  // Before running: false when i is excluded or skipped (said).
  bool inputs_usable(std::size_t i) {
    NodeResult& r = res[i];
    const Instance& inst = plan.instances[i];
    if (!selected[i]) {
      r.outcome = Outcome::excluded;
      return false;
    }
    for (const auto& in : inst.inputs)
      for (auto j : in.from)
        if (res[j].outcome == Outcome::failed || res[j].outcome == Outcome::skipped) {
          r.outcome = Outcome::skipped;
          r.error = plan.instances[j].name + (res[j].outcome == Outcome::failed ? " failed" : " was skipped");
          say("  skipped " + inst.name + " (" + r.error + ")");
          return false;
        }
    return true;
  }

  // Looks i up in the cache: true when it is there (said). `fetch`: a missing data file may be
  // fetched to compute the key.
  bool cached(std::size_t i, bool fetch) {
    resolve(i, fetch);
    if (res[i].outcome != Outcome::cached) return false;
    if (!fetch) store.touch(res[i].key);
    say("  cached  " + plan.instances[i].name);
    return true;
  }

  // Whether i is still to run once cached(i, false) said no: what a missing data file, once
  // fetched, makes of it.
  bool still_to_run(std::size_t i) {
    if (res[i].key.empty() && cached(i, true)) return false;
    if (res[i].key.empty()) throw std::logic_error("no key for " + plan.instances[i].name);
    return true;
  }

  void run_here(std::size_t i) {
    NodeResult& r = res[i];
    try {
      Ran ran = execute(i);
      r.digests = std::move(ran.digests);
      r.seconds = ran.seconds;
      r.outcome = Outcome::ran;
    } catch (const std::exception& e) {
      fail(i, e.what());
    }
  }

  void fail(std::size_t i, const std::string& error) {
    res[i].outcome = Outcome::failed;
    res[i].error = error;
    say("  FAILED  " + plan.instances[i].name + ": " + error);
  }

  // The run's counts; its keys recorded for gc.
  RunReport report(const RunOptions& opts) {
    RunReport rep;
    rep.nodes = std::move(res);
    std::vector<std::string> keys;
    for (const auto& r : rep.nodes) {
      rep.ran += r.outcome == Outcome::ran;
      rep.cached += r.outcome == Outcome::cached;
      rep.failed += r.outcome == Outcome::failed;
      rep.skipped += r.outcome == Outcome::skipped;
      if (r.outcome == Outcome::ran || r.outcome == Outcome::cached) keys.push_back(r.key);
    }
    try {
      store.record_refs(plan.file, keys, !opts.only.empty() || rep.failed > 0);
    } catch (const std::exception& e) {
      log("  warning cannot record this run for gc: " + std::string(e.what()));
    }
    return rep;
  }

  void decide(std::size_t i, Slots& slots) {
    if (!inputs_usable(i)) return;
    try {
      if (cached(i, false)) return;
      SlotGuard slot(slots);
      if (still_to_run(i)) run_here(i);
    } catch (const std::exception& e) {
      fail(i, e.what());
    }
  }
};

}  // namespace untangle
