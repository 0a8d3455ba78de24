#include <doctest/doctest.h>

#include "pipeline/graph_spec.h"
#include "pipeline/plan.h"
#include "pipeline/utf8.h"
#include "tests/test_ops.h"

using namespace untangle;

TEST_CASE("graph spec: a graph file is read with positions") {
  Diagnostics d;
  GraphSpec g = parse_graph_text(R"(name: example
vars: {seed: 1}
sweep: {seed: [1, 2, 3]}
nodes:
  mnist: {op: load_mnist}
  sample:
    op: subset
    inputs: {x: mnist.test_x, y: mnist.test_y}
    params: {n: 1000, mode: random, seed: "${seed}"}
)", "g.yaml", d);
  REQUIRE(d.empty());
  CHECK(g.name == "example");
  REQUIRE(g.vars.size() == 1);
  CHECK(g.vars[0].name == "seed");
  REQUIRE(g.sweep.size() == 1);
  CHECK(g.sweep[0].values.size() == 3);
  REQUIRE(g.nodes.size() == 2);
  const NodeSpec& s = g.nodes[1];
  CHECK(s.name == "sample");
  CHECK(s.loc.line == 6);
  CHECK(s.loc.col == 3);
  CHECK(s.op == "subset");
  CHECK(s.op_loc.line == 7);
  CHECK(s.op_loc.col == 9);
  REQUIRE(s.inputs.size() == 2);
  CHECK(s.inputs[1].port == "y");
  CHECK(s.inputs[1].node == "mnist");
  CHECK(s.inputs[1].node_port == "test_y");
  CHECK(s.inputs[1].loc.line == 8);
  CHECK(s.inputs[1].loc.col == 34);
  REQUIRE(s.params.size() == 3);
  CHECK(s.params[2].name == "seed");
  CHECK(s.params[2].value.Scalar() == "${seed}");
}

TEST_CASE("graph spec: the name defaults to the file's stem") {
  Diagnostics d;
  GraphSpec g = parse_graph_text("nodes: {a: {op: x}}\n", "dir/my-graph.yaml", d);
  CHECK(d.empty());
  CHECK(g.name == "my-graph");
}

TEST_CASE("graph spec: a YAML syntax error points at the text") {
  Diagnostics d;
  parse_graph_text("nodes:\n  a: {op: x\n  b: {op: y}\n", "bad.yaml", d);
  REQUIRE(d.size() == 1);
  CHECK(d[0].str().rfind("bad.yaml:", 0) == 0);
  CHECK(d[0].str().find(": error: YAML syntax") != std::string::npos);
  CHECK(d[0].loc.line >= 2);
}

TEST_CASE("graph spec: structural mistakes are all reported") {
  Diagnostics d;
  parse_graph_text(R"(nodez: 1
nodes:
  a: {op: x, input: {}}
  b: {inputs: {x: nodot}}
  9c: {op: y}
sweep: {seed: []}
)", "s.yaml", d);
  std::vector<std::string> lines;
  for (auto& x : d) lines.push_back(x.str());
  REQUIRE(lines.size() == 6);
  CHECK(lines[0] == "s.yaml:1:1: error: unknown key 'nodez' (expected name, include, plugins, resources, vars, sweep, nodes or doc)");
  CHECK(lines[1] == "s.yaml:3:14: error: unknown key 'input' in node 'a' (expected op, inputs, params, over, resources, where or doc)");
  CHECK(lines[2] == "s.yaml:4:19: error: input 'x' must be NODE.PORT or a list of them, got 'nodot'");
  CHECK(lines[3] == "s.yaml:4:6: error: node 'b' has no op");
  CHECK(lines[4] == "s.yaml:5:3: error: '9c' is not a valid node name (letters, digits, _ and -)");
  CHECK(lines[5] == "s.yaml:6:15: error: sweep of 'seed' must be a non-empty list of values");
}

TEST_CASE("graph spec: a missing file is an error, not a crash") {
  Diagnostics d;
  parse_graph_file("/nonexistent/graph.yaml", d);
  REQUIRE(d.size() == 1);
  CHECK(d[0].str() == "/nonexistent/graph.yaml: error: cannot read graph file");
}

TEST_CASE("graph spec: text that is not UTF-8 is an error where the graph gives it, in any string param") {
  // 0xff starts no character; e2 82 is the euro sign cut short; c0 af is '/' overlong; ed a0 80 a surrogate.
  CHECK(invalid_utf8_at("caf\xc3\xa9 \xe2\x80\xa8 \xf0\x9f\x99\x82") == std::string::npos);
  CHECK(invalid_utf8_at("ab\xff") == 2);
  CHECK(invalid_utf8_at("\xe2\x82") == 0);
  CHECK(invalid_utf8_at("a\xc0\xaf") == 1);
  CHECK(invalid_utf8_at("\xed\xa0\x80") == 0);
  CHECK(invalid_utf8_at("\xf4\x90\x80\x80") == 0);  // past U+10FFFF
  CHECK(repair_utf8("a\xff" "b\xe2\x82") == "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd");

  static Registry ops = test::test_registry();
  const std::string text = "vars: {v: \"x\xe2\x82\"}\n"
                           "nodes:\n"
                           "  a: {op: source, params: {tag: \"ok\xff\"}}\n"
                           "  b: {op: named, params: {outputs: {\"y\xff\": scalar, z: \"s\xc0\xaf\"}}}\n"
                           "  c: {op: source, params: {tag: \"run-${v}\"}}\n"
                           "  d: {op: reader, params: {path: \"f\xed\xa0\x80.txt\"}}\n"
                           "  e: {op: source, params: {tag: \"caf\xc3\xa9 \xe2\x80\xa8 <!--<script>\"}}\n";
  Diagnostics d;
  make_plan(parse_graph_text(text, "u.yaml", d), ops, {}, d);
  std::vector<std::string> lines;
  for (auto& x : d) lines.push_back(x.str());
  CHECK(lines == std::vector<std::string>{
                     "u.yaml:3:33: error: tag must be UTF-8 text; byte 3 of it is not",
                     "u.yaml:4:37: error: outputs key must be UTF-8 text; byte 2 of it is not",
                     "u.yaml:4:54: error: outputs.z must be UTF-8 text; byte 2 of it is not",
                     "u.yaml:5:33: error: tag must be UTF-8 text; byte 6 of it is not",
                     "u.yaml:6:34: error: path must be UTF-8 text; byte 2 of it is not",
                 });
  // A --set value is checked the same way.
  Diagnostics set;
  make_plan(parse_graph_text("nodes:\n  e: {op: source}\n", "u.yaml", set), ops, {{"e.tag", "\"\xff\""}}, set);
  REQUIRE(set.size() == 1);
  CHECK(set[0].message == "tag must be UTF-8 text; byte 1 of it is not");
}
