#include <doctest/doctest.h>

#include "pipeline/plan.h"
#include "tests/helpers.h"
#include "tests/test_ops.h"

using namespace untangle;

namespace {

Plan plan_of(const std::string& text, Diagnostics& d, const std::vector<Override>& o = {}) {
  static Registry ops = test::test_registry();
  GraphSpec g = parse_graph_text(text, "t.yaml", d);
  return make_plan(g, ops, o, d);
}

std::vector<std::string> errors_of(const std::string& text, const std::vector<Override>& o = {}) {
  Diagnostics d;
  plan_of(text, d, o);
  std::vector<std::string> out;
  for (auto& x : d) out.push_back(x.str());
  return out;
}

std::vector<std::string> names(const Plan& p) {
  std::vector<std::string> out;
  for (auto& i : p.instances) out.push_back(i.name);
  return out;
}

}  // namespace

TEST_CASE("plan: every validation error names its place") {
  auto one = [](const std::string& text) {
    auto e = errors_of(text);
    REQUIRE(e.size() == 1);
    return e[0];
  };
  CHECK(one("nodes:\n  a: {op: nope}\n") == "t.yaml:2:11: error: unknown op 'nope' (see `untangle ops`)");
  CHECK(one("nodes:\n  a: {op: source, params: {valu: 1}}\n") ==
        "t.yaml:2:28: error: op 'source' has no param 'valu' (params: value, tag, ms)");
  CHECK(one("nodes:\n  a: {op: source, params: {value: high}}\n") ==
        "t.yaml:2:35: error: value must be a number, got 'high'");
  CHECK(one("nodes:\n  a: {op: source, params: {ms: 1.5}}\n") == "t.yaml:2:32: error: ms must be an integer, got '1.5'");
  CHECK(one("nodes:\n  a: {op: source}\n  b: {op: scale, inputs: {x: a.y}, params: {factor: 1000}}\n") ==
        "t.yaml:3:53: error: factor must be <= 100, got 1000");
  CHECK(one("nodes:\n  a: {op: source}\n  b: {op: scale, inputs: {x: a.y}, params: {mode: medium}}\n") ==
        "t.yaml:3:51: error: mode must be one of fast, slow, got 'medium'");
  CHECK(one("nodes:\n  b: {op: scale, inputs: {x: zz.y}}\n") == "t.yaml:2:30: error: unknown node 'zz'");
  CHECK(one("nodes:\n  a: {op: source}\n  b: {op: scale, inputs: {x: a.z}}\n") ==
        "t.yaml:3:30: error: node 'a' (source) has no output 'z' (outputs: y)");
  CHECK(one("nodes:\n  a: {op: source}\n  b: {op: scale, inputs: {x: a.y, w: a.y}}\n") ==
        "t.yaml:3:35: error: op 'scale' has no input 'w' (inputs: x)");
  CHECK(one("nodes:\n  b: {op: scale}\n") == "t.yaml:2:3: error: node 'b' is missing required input 'x' (op scale)");
  CHECK(one("nodes:\n  a: {op: source}\n  b: {op: pair, inputs: {a: a.y}}\n") ==
        "t.yaml:3:3: error: node 'b' is missing required param 'n' (op pair)");
  CHECK(one("nodes:\n  a: {op: source, params: {value: \"${sed}\"}}\n") ==
        "t.yaml:2:35: error: unknown var 'sed' (the graph declares no vars)");
  CHECK(one("vars: {seed: 1}\nnodes:\n  a: {op: source, params: {tag: \"x${sed}\"}}\n") ==
        "t.yaml:3:33: error: unknown var 'sed' (vars: seed)");
}

TEST_CASE("plan: a cycle is reported with its nodes, in data-flow order") {
  auto e = errors_of(R"(nodes:
  a: {op: scale, inputs: {x: c.y}}
  b: {op: scale, inputs: {x: a.y}}
  c: {op: scale, inputs: {x: b.y}}
  d: {op: source}
)");
  REQUIRE(e.size() == 1);
  CHECK(e[0] == "t.yaml:2:3: error: cycle: a -> b -> c -> a");
}

TEST_CASE("plan: several mistakes are reported together, in file order") {
  auto e = errors_of(R"(vars: {seed: 1}
nodes:
  load: {op: sourse}
  a: {op: source, params: {value: 2, colour: red}}
  b: {op: scale, inputs: {x: a.y}, params: {factor: "${sede}"}}
  c: {op: scale, inputs: {x: missing.y}, params: {factor: -500}}
)");
  REQUIRE(e.size() == 5);
  CHECK(e[0] == "t.yaml:3:14: error: unknown op 'sourse' (see `untangle ops`)");
  CHECK(e[1] == "t.yaml:4:38: error: op 'source' has no param 'colour' (params: value, tag, ms)");
  CHECK(e[2] == "t.yaml:5:53: error: unknown var 'sede' (vars: seed)");
  CHECK(e[3] == "t.yaml:6:30: error: unknown node 'missing'");
  CHECK(e[4] == "t.yaml:6:59: error: factor must be >= -100, got -500");
}

TEST_CASE("plan: defaults are filled in and values made canonical") {
  Diagnostics d;
  Plan p = plan_of("nodes:\n  a: {op: source, params: {value: 5e-1}}\n  b: {op: source, params: {value: 0.50}}\n", d);
  REQUIRE(d.empty());
  const auto& a = p.instances[0];
  CHECK(a.params["value"].Scalar() == "0.5");
  CHECK(a.params["tag"].Scalar() == "a");
  CHECK(a.params["ms"].Scalar() == "0");
  // 5e-1 and 0.50 are the same value, so a and b compute the same thing: one instance.
  CHECK(p.instances.size() == 1);
  CHECK(p.select("b") == std::vector<std::size_t>{0});
}

TEST_CASE("plan: vars substitute with their type, or as text inside a string") {
  Diagnostics d;
  Plan p = plan_of(R"(vars: {v: 3, name: run}
nodes:
  a: {op: source, params: {value: "${v}", tag: "${name}-${v}"}}
)", d);
  REQUIRE(d.empty());
  CHECK(p.instances[0].params["value"].Scalar() == "3");
  CHECK(p.instances[0].params["tag"].Scalar() == "run-3");
}

TEST_CASE("plan: --set overrides params and vars, and pins a swept var") {
  const std::string g = R"(vars: {v: 3}
sweep: {seed: [1, 2]}
nodes:
  a: {op: source, params: {value: "${v}", ms: "${seed}"}}
  b: {op: scale, inputs: {x: a.y}}
)";
  Diagnostics d;
  Plan p = plan_of(g, d, {{"b.factor", "7"}, {"v", "4"}});
  REQUIRE(d.empty());
  CHECK(p.instances[p.by_name.at("b[seed=2]")].params["factor"].Scalar() == "7");
  CHECK(p.instances[p.by_name.at("a[seed=1]")].params["value"].Scalar() == "4");

  Plan pinned = plan_of(g, d, {{"seed", "5"}});
  REQUIRE(d.empty());
  CHECK(names(pinned) == std::vector<std::string>{"a", "b"});
  CHECK(pinned.instances[0].params["ms"].Scalar() == "5");

  auto e = errors_of(g, {{"nope", "1"}, {"zz.factor", "1"}, {"b.colour", "1"}, {"b.factor", "x"}});
  REQUIRE(e.size() == 4);
  CHECK(e[0] == "--set nope=1: error: no var 'nope' in t.yaml (vars: v, seed)");
  CHECK(e[1] == "--set zz.factor=1: error: no node 'zz' in t.yaml");
  CHECK(e[2] == "--set b.colour=1: error: op 'scale' has no param 'colour' (params: factor, mode, ms)");
  CHECK(e[3] == "--set b.factor=x: error: factor must be a number, got 'x'");
  CHECK_THROWS_AS(parse_override("novalue"), std::invalid_argument);
}

TEST_CASE("plan: a sweep expands exactly the nodes that depend on it") {
  Diagnostics d;
  Plan p = plan_of(R"(sweep: {seed: [1, 2, 3]}
nodes:
  data: {op: source}
  noisy: {op: scale, inputs: {x: data.y}, params: {factor: "${seed}"}}
  after: {op: scale, inputs: {x: noisy.y}}
  other: {op: scale, inputs: {x: data.y}, params: {factor: 7}}
  all: {op: collect, inputs: {x: after.y}}
)", d);
  REQUIRE(d.empty());
  CHECK(names(p) == std::vector<std::string>{"data", "noisy[seed=1]", "noisy[seed=2]", "noisy[seed=3]", "after[seed=1]",
                                             "after[seed=2]", "after[seed=3]", "other", "all"});
  // Every instance of the swept node reads the single shared one.
  for (const char* n : {"noisy[seed=1]", "noisy[seed=3]"}) CHECK(p.instances[p.by_name.at(n)].inputs[0].from == std::vector<std::size_t>{0});
  const auto& after2 = p.instances[p.by_name.at("after[seed=2]")];
  CHECK(after2.inputs[0].from == std::vector<std::size_t>{p.by_name.at("noisy[seed=2]")});
  const auto& all = p.instances[p.by_name.at("all")];
  REQUIRE(all.inputs[0].from.size() == 3);
  CHECK(all.inputs[0].labels == std::vector<std::string>{"seed=1", "seed=2", "seed=3"});
  CHECK(p.instances[0].dependents.size() == 4);
}

TEST_CASE("plan: two swept vars give their product, over gathers only some") {
  Diagnostics d;
  Plan p = plan_of(R"(sweep: {seed: [1, 2], lr: [0.1, 0.5]}
nodes:
  a: {op: source, params: {value: "${lr}", ms: "${seed}"}}
  per_lr: {op: collect, inputs: {x: a.y}, over: seed}
  everything: {op: collect, inputs: {x: a.y}}
)", d);
  REQUIRE(d.empty());
  CHECK(names(p) == std::vector<std::string>{"a[seed=1,lr=0.1]", "a[seed=1,lr=0.5]", "a[seed=2,lr=0.1]",
                                             "a[seed=2,lr=0.5]", "per_lr[lr=0.1]", "per_lr[lr=0.5]", "everything"});
  const auto& g = p.instances[p.by_name.at("per_lr[lr=0.5]")].inputs[0];
  CHECK(g.from == std::vector<std::size_t>{1, 3});
  CHECK(g.labels == std::vector<std::string>{"seed=1", "seed=2"});
  CHECK(p.instances[p.by_name.at("everything")].inputs[0].labels ==
        std::vector<std::string>{"seed=1,lr=0.1", "seed=1,lr=0.5", "seed=2,lr=0.1", "seed=2,lr=0.5"});

  // Pinning the var that `over` names leaves one value to gather, not an invalid graph.
  Plan pinned = plan_of(R"(sweep: {seed: [1, 2], lr: [0.1, 0.5]}
nodes:
  a: {op: source, params: {value: "${lr}", ms: "${seed}"}}
  per_lr: {op: collect, inputs: {x: a.y}, over: seed}
)", d, {{"seed", "2"}});
  REQUIRE(d.empty());
  CHECK(names(pinned) == std::vector<std::string>{"a[lr=0.1]", "a[lr=0.5]", "per_lr[lr=0.1]", "per_lr[lr=0.5]"});
  CHECK(pinned.instances[pinned.by_name.at("per_lr[lr=0.5]")].inputs[0].from == std::vector<std::size_t>{1});
  CHECK(errors_of("sweep: {s: [1]}\nnodes:\n  a: {op: source}\n  b: {op: collect, inputs: {x: a.y}, over: t}\n") ==
        std::vector<std::string>{"t.yaml:4:44: error: 'over' names 't', which is not a swept var"});
  CHECK(errors_of("sweep: {s: [1]}\nnodes:\n  a: {op: source}\n  b: {op: scale, inputs: {x: a.y}, over: s}\n") ==
        std::vector<std::string>{"t.yaml:4:42: error: 'over' applies to ops that gather a sweep; op 'scale' does not"});
}

TEST_CASE("plan: a swept value that breaks a param's range names the instance") {
  auto e = errors_of("sweep: {f: [1, 200]}\nnodes:\n  a: {op: source}\n  b: {op: scale, inputs: {x: a.y}, params: {factor: \"${f}\"}}\n");
  REQUIRE(e.size() == 1);
  CHECK(e[0] == "t.yaml:4:53: error: factor must be <= 100, got 200 (in b[f=200])");
}

TEST_CASE("plan: a gather port cannot take a group") {
  auto e = errors_of("sweep: {s: [1, 2]}\nnodes:\n  w: {op: bundle, params: {first: \"${s}\"}}\n  c: {op: collect, inputs: {x: w.w}}\n");
  REQUIRE(e.size() == 1);
  CHECK(e[0] == "t.yaml:4:32: error: input 'x' gathers a sweep and cannot take the group 'w'");
}

TEST_CASE("plan: a gathering port takes a list of sources, or rows of them, named by instance") {
  Diagnostics d;
  Plan p = plan_of(R"(sweep: {s: [1, 2]}
nodes:
  a: {op: source, params: {value: 5}}
  b: {op: source, params: {value: "${s}"}}
  c: {op: scale, inputs: {x: a.y}}
  all: {op: collect, inputs: {x: [[a.y, c.y], [b.y]]}}
)", d);
  REQUIRE(d.empty());
  const auto& all = p.instances[p.by_name.at("all")];
  std::vector<std::string> labels;
  for (const auto& in : all.inputs) labels.insert(labels.end(), in.labels.begin(), in.labels.end());
  CHECK(labels == std::vector<std::string>{"a.y", "c.y", "b[s=1].y", "b[s=2].y"});
  CHECK(errors_of("nodes:\n  a: {op: source}\n  b: {op: scale, inputs: {x: [a.y, a.y]}}\n") ==
        std::vector<std::string>{"t.yaml:3:31: error: input 'x' takes one NODE.PORT; only gathering inputs (like aggregate's x) take a list",
                                 "t.yaml:3:36: error: input 'x' takes one NODE.PORT; only gathering inputs (like aggregate's x) take a list"});
  CHECK(errors_of("nodes:\n  a: {op: source}\n  b: {op: collect, inputs: {x: [a.y, 3]}}\n") ==
        std::vector<std::string>{"t.yaml:3:38: error: input 'x' must be NODE.PORT, got '3'"});
}

TEST_CASE("plan: include puts a graph's nodes and vars under a prefix, shared work is one instance") {
  test::TempDir dir;
  test::write_file(dir / "sub.yaml", R"(vars: {f: 3, g: 5}
sweep: {seed: [1, 2]}
nodes:
  data: {op: source, params: {value: "${g}"}}
  noisy: {op: scale, inputs: {x: data.y}, params: {factor: "${seed}"}}
  scaled: {op: scale, inputs: {x: data.y}, params: {factor: "${f}"}}
  all: {op: collect, inputs: {x: noisy.y}}
)");
  test::write_file(dir / "main.yaml", R"(name: main
include: {one: sub.yaml, two: sub.yaml}
nodes:
  both: {op: collect, inputs: {x: [one/all.values, two/scaled.y]}}
)");
  static Registry ops = test::test_registry();
  Plan p = load_plan(dir / "main.yaml", ops, {{"two/f", "4"}});
  // one/data and two/data compute the same, and so do one/noisy and two/noisy: one instance each.
  CHECK(names(p) == std::vector<std::string>{"one/data", "one/noisy[seed=1]", "one/noisy[seed=2]", "one/scaled",
                                             "one/all", "two/scaled", "both"});
  CHECK(p.select("two/data") == p.select("one/data"));
  CHECK(p.select("two/noisy[seed=2]") == p.select("one/noisy[seed=2]"));
  CHECK(p.select("two/all") == p.select("one/all"));  // same sources, so the same gather
  CHECK(p.instances[p.by_name.at("two/scaled")].params["factor"].Scalar() == "4");
  CHECK(p.instances[p.by_name.at("one/scaled")].params["factor"].Scalar() == "3");
  CHECK(p.instances[p.by_name.at("one/data")].params["value"].Scalar() == "5");
  // Pinning one include's swept var leaves the other's sweep alone.
  Plan pinned = load_plan(dir / "main.yaml", ops, {{"one/seed", "2"}});
  CHECK(pinned.select("one/noisy").size() == 1);
  CHECK(pinned.select("two/noisy").size() == 2);

  test::write_file(dir / "loop.yaml", "include: {me: loop.yaml}\nnodes:\n  a: {op: source}\n");
  test::write_file(dir / "bad.yaml", "include: {x: missing.yaml, 'y z': sub.yaml}\nnodes:\n  a: {op: source}\n");
  std::vector<std::string> errors;
  for (const char* f : {"loop.yaml", "bad.yaml"}) {
    try {
      load_plan(dir / f, ops, {});
    } catch (const GraphError& e) {
      for (const auto& d : e.diagnostics) errors.push_back(d.str());
    }
  }
  REQUIRE(errors.size() == 3);
  CHECK(errors[0] == dir / "loop.yaml" + ":1:15: error: 'loop.yaml' includes itself (through " + dir / "loop.yaml" + ")");
  CHECK(errors[1] == dir / "bad.yaml" + ":1:14: error: no graph file '" + dir / "missing.yaml" + "'");
  CHECK(errors[2] == dir / "bad.yaml" + ":1:28: error: 'y z' is not a valid include name (letters, digits, _ and -)");
}

TEST_CASE("plan: a cycle does not hide the other mistakes, and they come in file order") {
  test::TempDir dir;
  test::write_file(dir / "g.yaml", R"(nodes:
  a: {op: scale, inputs: {x: b.y}, params: {factor: many}}
  b: {op: scale, inputs: {x: a.y, z: a.y}}
  c: {op: nope}
)");
  static Registry ops = test::test_registry();
  try {
    load_plan(dir / "g.yaml", ops, {});
    FAIL("the graph was accepted");
  } catch (const GraphError& e) {
    std::vector<std::string> got;
    for (const auto& d : e.diagnostics) got.push_back(d.str().substr(d.str().find("g.yaml")));
    CHECK(got == std::vector<std::string>{"g.yaml:2:3: error: cycle: a -> b -> a",
                                          "g.yaml:2:53: error: factor must be a number, got 'many'",
                                          "g.yaml:3:35: error: op 'scale' has no input 'z' (inputs: x)",
                                          "g.yaml:4:11: error: unknown op 'nope' (see `untangle ops`)"});
  }
}

TEST_CASE("plan: an op whose ports the graph names takes any inputs and declares its outputs by params") {
  Diagnostics d;
  Plan p = plan_of(
      "nodes:\n  a: {op: source}\n  n: {op: named, inputs: {left: a.y, right: a.y}, params: {outputs: {score: s, rest: t}}}\n"
      "  b: {op: scale, inputs: {x: n.score}}\n",
      d);
  REQUIRE(d.empty());
  const Instance& n = p.instances[p.by_name.at("n")];
  REQUIRE(n.outputs.size() == 2);
  CHECK(n.outputs[0].name == "score");  // as the params list them
  CHECK(n.outputs[1].name == "rest");
  CHECK(n.output("score") != nullptr);
  CHECK(n.output("y") == nullptr);
  REQUIRE(n.inputs.size() == 2);
  CHECK(n.inputs[0].port == "left");
  CHECK(n.inputs[1].port == "right");
  CHECK(p.instances[p.by_name.at("b")].inputs.at(0).from_port == "score");

  // A port the params do not declare is an error at the reference, once even when swept.
  CHECK(errors_of("sweep: {s: [1, 2]}\nnodes:\n  a: {op: source, params: {value: \"${s}\"}}\n"
                  "  n: {op: named, inputs: {x: a.y}, params: {outputs: {score: s}}}\n"
                  "  b: {op: scale, inputs: {x: n.scor}}\n") ==
        std::vector<std::string>{"t.yaml:5:30: error: node 'n' (named) has no output 'scor' (outputs: score)"});
  CHECK(errors_of("nodes:\n  a: {op: source}\n  n: {op: named, inputs: {x: [a.y, a.y]}, params: {outputs: {s: s}}}\n") ==
        std::vector<std::string>{
            "t.yaml:3:31: error: input 'x' takes one NODE.PORT; only gathering inputs (like aggregate's x) take a list",
            "t.yaml:3:36: error: input 'x' takes one NODE.PORT; only gathering inputs (like aggregate's x) take a list"});
}
