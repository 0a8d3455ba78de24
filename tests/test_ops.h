// Ops for testing the engine: each counts its calls and tracks how many run at once, so
// tests can assert exactly what ran.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <oneapi/tbb/parallel_for.h>

#include "pipeline/registry.h"

namespace untangle::test {

struct Calls {
  std::mutex m;
  std::map<std::string, int> by_instance;
  std::atomic<int> running{0}, peak{0};

  void clear() {
    std::lock_guard<std::mutex> lock(m);
    by_instance.clear();
    peak = 0;
  }
  int operator[](const std::string& instance) {
    std::lock_guard<std::mutex> lock(m);
    return by_instance[instance];
  }
  int total() {
    std::lock_guard<std::mutex> lock(m);
    int n = 0;
    for (auto& [k, v] : by_instance) n += v;
    return n;
  }
  // Records one call of `instance` for the lifetime of the returned guard.
  struct Running {
    Calls& c;
    ~Running() { --c.running; }
  };
  Running enter(const std::string& instance) {
    {
      std::lock_guard<std::mutex> lock(m);
      by_instance[instance]++;
    }
    int now = ++running;
    int p = peak.load();
    while (now > p && !peak.compare_exchange_weak(p, now)) {}
    return Running{*this};
  }
};

inline Calls& calls() {
  static Calls c;
  return c;
}

inline void pause_ms(const OpContext& ctx) {
  if (ctx.params["ms"]) std::this_thread::sleep_for(std::chrono::milliseconds(ctx.params["ms"].as<int>()));
}

inline Registry test_registry() {
  Registry r;
  ParamSpec ms{"ms", ParamType::integer, "sleep this long", "0"};
  ms.min = 0;

  OpSchema source;
  source.name = "source";
  source.outputs = {{"y", ""}};
  // `tag` is hashed but does not change the output: a rerun with identical bytes.
  source.params = {{"value", ParamType::number, "", "1"}, {"tag", ParamType::string, "", "a"}, ms};
  source.run = [](OpContext& ctx) {
    auto g = calls().enter(ctx.instance);
    pause_ms(ctx);
    return Outputs{{"y", Tensor::scalar(ctx.number("value"))}};
  };
  r.add(source);

  // Like source, but its work is a TBB parallel loop of slow steps, as real ops have: a thread
  // waiting inside the loop may pick up other tasks. The loop body captures nothing (the step
  // time is an atomic), so that in a TSan build it reads nothing that TBB's uninstrumented
  // library handed over.
  OpSchema spread;
  spread.name = "spread";
  spread.outputs = {{"y", ""}};
  spread.params = {{"value", ParamType::number, "", "1"}, {"steps", ParamType::integer, "", "64"}, ms};
  spread.run = [](OpContext& ctx) {
    auto g = calls().enter(ctx.instance);
    static std::atomic<int> step_ms;
    step_ms = static_cast<int>(ctx.integer("ms"));
    tbb::parallel_for(
        tbb::blocked_range<int>(0, static_cast<int>(ctx.integer("steps"))),
        [](const tbb::blocked_range<int>& r) {
          for (int k = r.begin(); k < r.end(); ++k) std::this_thread::sleep_for(std::chrono::milliseconds(step_ms));
        },
        tbb::simple_partitioner());
    return Outputs{{"y", Tensor::scalar(ctx.number("value"))}};
  };
  r.add(spread);

  // Ports named by the graph, as exec's: any inputs, outputs declared by a param. Each output
  // is the sum of the inputs plus its own position; `env` names a variable whose value enters
  // the key.
  OpSchema named;
  named.name = "named";
  named.any_inputs = true;
  ParamSpec outs{"outputs", ParamType::dict, "", std::nullopt};
  outs.items = {{"", ParamType::string, "", std::nullopt}};
  named.params = {outs, {"env", ParamType::string, "", "''"}};
  named.outputs_of = [](const YAML::Node& params) {
    std::vector<PortSpec> ports;
    if (params["outputs"].IsMap())
      for (const auto& kv : params["outputs"]) ports.push_back({kv.first.as<std::string>(), kv.second.as<std::string>()});
    return ports;
  };
  named.key_extra = [](const YAML::Node& params) {
    const std::string name = params["env"].as<std::string>();
    const char* v = name.empty() ? nullptr : std::getenv(name.c_str());
    return v ? std::string(v) : std::string();
  };
  named.run = [](OpContext& ctx) {
    auto g = calls().enter(ctx.instance);
    double sum = 0;
    for (const auto& [port, tensors] : ctx.inputs) sum += tensors.at(0).at(0);
    Outputs out;
    double k = 0;
    for (const auto& kv : ctx.params["outputs"]) out[kv.first.as<std::string>()] = Tensor::scalar(sum + k++);
    return out;
  };
  r.add(named);

  OpSchema scale;
  scale.name = "scale";
  scale.inputs = {{"x", ""}};
  scale.outputs = {{"y", ""}};
  ParamSpec factor{"factor", ParamType::number, "", "2"};
  factor.min = -100;
  factor.max = 100;
  ParamSpec mode{"mode", ParamType::choice, "", "fast"};
  mode.choices = {"fast", "slow"};
  scale.params = {factor, mode, ms};
  scale.run = [](OpContext& ctx) {
    auto g = calls().enter(ctx.instance);
    pause_ms(ctx);
    return Outputs{{"y", Tensor::scalar(ctx.input("x").at(0) * ctx.number("factor"))}};
  };
  r.add(scale);

  OpSchema pair;
  pair.name = "pair";
  pair.inputs = {{"a", ""}, {"b", "", true}};
  pair.outputs = {{"sum", ""}, {"both", ""}};
  pair.params = {{"n", ParamType::integer, "", std::nullopt}};
  pair.run = [](OpContext& ctx) {
    auto g = calls().enter(ctx.instance);
    double a = ctx.input("a").at(0), b = ctx.has("b") ? ctx.input("b").at(0) : 0;
    Tensor both = Tensor::zeros<double>({2});
    both.data<double>()[0] = a;
    both.data<double>()[1] = b;
    return Outputs{{"sum", Tensor::scalar(a + b + ctx.integer("n"))}, {"both", both}};
  };
  r.add(pair);

  OpSchema collect;
  collect.name = "collect";
  collect.inputs = {{"x", "", false, true}};
  collect.outputs = {{"values", ""}, {"labels", ""}};
  collect.run = [](OpContext& ctx) {
    auto g = calls().enter(ctx.instance);
    const auto& xs = ctx.inputs.at("x");
    Tensor v = Tensor::zeros<double>({xs.size()});
    for (std::size_t i = 0; i < xs.size(); ++i) v.data<double>()[i] = xs[i].at(0);
    return Outputs{{"values", v}, {"labels", Tensor::text(ctx.labels.at("x"))}};
  };
  r.add(collect);

  OpSchema bundle;  // a group output: a value per member
  bundle.name = "bundle";
  bundle.outputs = {{"w", "", false, false, true}};
  bundle.params = {{"first", ParamType::number, "", "1"}};
  bundle.run = [](OpContext& ctx) {
    auto g = calls().enter(ctx.instance);
    return Outputs{{"w/layer1/kernel", Tensor::scalar(ctx.number("first"))}, {"w/layer2/bias", Tensor::scalar(2.0)}};
  };
  r.add(bundle);

  OpSchema members;  // reads a group: the sum of its members, and their names
  members.name = "members";
  members.inputs = {{"g", ""}};
  members.outputs = {{"sum", ""}, {"names", ""}};
  members.run = [](OpContext& ctx) {
    auto g = calls().enter(ctx.instance);
    double s = 0;
    for (const auto& t : ctx.inputs.at("g")) s += t.at(0);
    return Outputs{{"sum", Tensor::scalar(s)}, {"names", Tensor::text(ctx.labels.at("g"))}};
  };
  r.add(members);

  OpSchema report;  // outputs for people: a text to print and a file to copy out
  report.name = "report";
  report.inputs = {{"x", "", false, true}};
  PortSpec note{"note", ""}, file{"file", ""};
  note.print = true;
  file.file = "txt";
  report.outputs = {note, file};
  report.params = {{"tag", ParamType::string, "a label, unused: a sweep over it names instances", "\"\""}};
  report.run = [](OpContext& ctx) {
    auto g = calls().enter(ctx.instance);
    std::string text;
    for (std::size_t i = 0; i < ctx.inputs.at("x").size(); ++i)
      text += ctx.labels.at("x")[i] + "=" + std::to_string(ctx.inputs.at("x")[i].at(0)) + ";";
    return Outputs{{"note", Tensor::text({"total", text})}, {"file", Tensor::file(text)}};
  };
  r.add(report);

  OpSchema fail;
  fail.name = "fail";
  fail.inputs = {{"x", "", true}};
  fail.outputs = {{"y", ""}};
  fail.run = [](OpContext& ctx) -> Outputs {
    calls().enter(ctx.instance);
    throw std::runtime_error("deliberate failure");
  };
  r.add(fail);

  OpSchema reader;
  reader.name = "reader";
  reader.outputs = {{"size", ""}};
  ParamSpec path{"path", ParamType::path, "", std::nullopt};
  path.hashed = false;
  reader.params = {path};
  reader.files = [](const YAML::Node& p) { return std::vector<std::string>{p["path"].as<std::string>()}; };
  reader.run = [](OpContext& ctx) {
    auto g = calls().enter(ctx.instance);
    std::ifstream in(ctx.string("path"), std::ios::binary | std::ios::ate);
    return Outputs{{"size", Tensor::scalar<std::int64_t>(static_cast<std::int64_t>(in.tellg()))}};
  };
  r.add(reader);
  return r;
}

}  // namespace untangle::test
