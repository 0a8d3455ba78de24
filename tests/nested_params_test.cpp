// Nested params: every key checked against the schema, and one canonical form per meaning, so
// a typo is an error and a rewording is a cache hit.
#include <doctest/doctest.h>

#include "pipeline/plan.h"
#include "pipeline/schema.h"

using namespace untangle;

namespace {

// An op shaped like a trainer: an update rule (a variant of records) and a list of layers, one
// of which derives a default from another key.
Registry nested_registry() {
  ParamSpec lr{"lr", ParamType::number, "step size", "0.01"};
  lr.min = 0, lr.min_open = true;
  ParamSpec momentum{"momentum", ParamType::number, "", "0"};
  momentum.min = 0, momentum.max = 1;
  ParamSpec beta{"beta", ParamType::number, "", "0.9"};
  beta.min = 0, beta.max = 1, beta.max_open = true;
  ParamSpec sgd{"sgd", ParamType::record, "", std::nullopt};
  sgd.fields = {lr, momentum, {"nesterov", ParamType::boolean, "", "false"}};
  ParamSpec adam{"adam", ParamType::record, "", std::nullopt};
  adam.fields = {lr, beta};
  ParamSpec rule{"rule", ParamType::variant, "", "{sgd: {lr: 0.01}}"};
  rule.fields = {sgd, adam};

  ParamSpec size{"size", ParamType::integer, "", std::nullopt};
  size.min = 1;
  ParamSpec kernel{"kernel", ParamType::list, "", std::nullopt};
  kernel.length = 2;
  kernel.items = {size};
  ParamSpec window = size;
  window.name = "window";
  window.default_value = "2";
  ParamSpec stride = size;
  stride.name = "stride";
  stride.optional = true;
  ParamSpec conv{"conv", ParamType::record, "", std::nullopt};
  conv.fields = {size, kernel};
  conv.fields[0].name = "filters";
  ParamSpec pool{"pool", ParamType::record, "", std::nullopt};
  pool.fields = {window, stride};
  pool.complete = [](YAML::Node& p) {
    if (!p["stride"]) p["stride"] = YAML::Clone(p["window"]);
  };
  ParamSpec layer{"layer", ParamType::variant, "", std::nullopt};
  layer.fields = {conv, pool, {"flat", ParamType::record, "", std::nullopt}};
  ParamSpec layers{"layers", ParamType::list, "", "[flat]"};
  layers.min = 1;
  layers.items = {layer};
  ParamSpec text{"text", ParamType::string, "", std::nullopt};
  ParamSpec column{"column", ParamType::list, "", std::nullopt};
  column.items = {text};
  ParamSpec notes{"notes", ParamType::dict, "", "{}"};
  notes.items = {column};

  OpSchema op;
  op.name = "learn";
  op.params = {rule, layers, notes};
  op.outputs = {{"y", ""}};
  op.run = [](OpContext&) { return Outputs{}; };
  Registry r;
  r.add(op);
  return r;
}

const Registry& ops() {
  static Registry r = nested_registry();
  return r;
}

// The part of the cache key that a node's params make, or the errors.
std::string key_text(const std::string& params, const std::vector<Override>& o = {}, std::string vars = "") {
  Diagnostics d;
  GraphSpec g = parse_graph_text(vars + "nodes:\n  a:\n    op: learn\n    params: " + params + "\n", "t.yaml", d);
  Plan p = make_plan(g, ops(), o, d);
  std::string errors;
  for (const auto& x : d) errors += x.str() + "\n";
  if (!errors.empty()) return errors;
  return params_key_text(*p.instances.at(0).op, p.instances.at(0).params);
}

}  // namespace

TEST_CASE("nested params: unknown keys, bad values and unknown alternatives are located errors") {
  CHECK(key_text("{rule: {sgd: {lr: 0.5, momentun: 0.9}}}") ==
        "t.yaml:4:36: error: rule.sgd has no key 'momentun' (keys: lr, momentum, nesterov)\n");
  CHECK(key_text("{rule: {sgdd: {lr: 0.5}}}") == "t.yaml:4:21: error: rule must be one of sgd, adam, got 'sgdd'\n");
  CHECK(key_text("{rule: {adam: {beta: 1}}}") == "t.yaml:4:34: error: rule.adam.beta must be < 1, got 1\n");
  CHECK(key_text("{rule: {sgd: {lr: 0}}}") == "t.yaml:4:31: error: rule.sgd.lr must be > 0, got 0\n");
  CHECK(key_text("{layers: []}") == "t.yaml:4:22: error: layers must have >= 1 items, got 0\n");
  // Every problem at once, each at its own place.
  CHECK(key_text("{layers: [{conv: {filters: 0, kernel: [3, 3, 3]}}, {pool: {size: 2}}]}") ==
        "t.yaml:4:40: error: layers[0].conv.filters must be >= 1, got 0\n"
        "t.yaml:4:51: error: layers[0].conv.kernel must have 2 items, got 3\n"
        "t.yaml:4:72: error: layers[1].pool has no key 'size' (keys: window, stride)\n");
  CHECK(key_text("{layers: [{conv: {kernel: 3}}]}") == "t.yaml:4:30: error: layers[0].conv needs key 'filters'\n");
  CHECK(key_text("{notes: {a: [x, [y]]}}") == "t.yaml:4:29: error: notes.a[1] must be a string, got a list\n");
}

TEST_CASE("nested params: a value that came from a var is reported where the param is written") {
  CHECK(key_text("{rule: \"${r}\"}", {}, "vars: {r: {sgd: {lr: 0.5, momentun: 0.9}}}\n") ==
        "t.yaml:5:20: error: rule.sgd has no key 'momentun' (keys: lr, momentum, nesterov)\n");
  CHECK(key_text("{rule: {sgd: {lr: \"${lr}\"}}}", {{"lr", "-1"}}, "vars: {lr: 0.5}\n") ==
        "t.yaml:5:31: error: rule.sgd.lr must be > 0, got -1\n");
}

TEST_CASE("nested params: equal meanings give equal keys") {
  const std::string plain = key_text("{rule: {sgd: {lr: 0.5}}}");
  CHECK(plain.find("error") == std::string::npos);
  CHECK(key_text("{rule: {sgd: {lr: 5e-1}}}") == plain);
  CHECK(key_text("{rule: {sgd: {momentum: 0, lr: 0.50, nesterov: no}}}") == plain);
  CHECK(key_text("{rule: {sgd: {lr: 0.5, momentum: 0.9}}}") != plain);
  // The default written out, or the alternative named alone.
  CHECK(key_text("{rule: sgd}") == key_text("{}"));
  CHECK(key_text("{rule: {sgd: }}") == key_text("{rule: {sgd: {lr: 1e-2}}}"));
  // A fixed-length list given one value; a default derived from another key.
  CHECK(key_text("{layers: [{conv: {filters: 4, kernel: 3}}]}") == key_text("{layers: [{conv: {filters: 4, kernel: [3, 3]}}]}"));
  CHECK(key_text("{layers: [{pool: {window: 3}}]}") == key_text("{layers: [{pool: {window: 3, stride: 3}}]}"));
  CHECK(key_text("{layers: [{pool: {window: 3}}]}") != key_text("{layers: [{pool: {window: 3, stride: 1}}]}"));
  CHECK(key_text("{layers: [flat]}") == key_text("{layers: [{flat: {}}]}"));
  // --set reaches into a nested param and is canonicalised the same way.
  CHECK(key_text("{rule: {sgd: {lr: 0.1}}}", {{"a.rule", "{sgd: {lr: 5e-1}}"}}) == plain);
}

TEST_CASE("nested params: the canonical form has every key in schema order") {
  CHECK(key_text("{rule: {adam: {beta: 0.5}}, layers: [{pool: {stride: 1}}], notes: {b: [x], a: [y]}}") ==
        "rule={adam: {lr: 0.01, beta: 0.5}}\n"
        "layers=[{pool: {window: 2, stride: 1}}]\n"
        "notes={b: [x], a: [y]}\n");
}

TEST_CASE("nested params: a check says what the type cannot, at the value's place") {
  ParamSpec size{"size", ParamType::integer, "", std::nullopt};
  size.check = [](const YAML::Node& v) { return v.as<int>() % 2 ? std::string() : "must be odd, got " + v.Scalar(); };
  ParamSpec sizes{"sizes", ParamType::list, "", std::nullopt};
  sizes.items = {size};
  std::vector<ParamIssue> issues;
  const YAML::Node written = YAML::Load("[3, 4, 5, x]");
  canonical_param(sizes, written, issues, written);
  REQUIRE(issues.size() == 2);
  CHECK(issues[0].message == "sizes[1] must be odd, got 4");
  CHECK(issues[0].mark.column == 4);
  CHECK(issues[1].message == "sizes[3] must be an integer, got 'x'");  // the type first; no check of a bad value
}

TEST_CASE("nested params: untangle ops shows the nested schema") {
  const std::string text = describe_param(ops().find("learn")->params[0], "  ");
  CHECK(text ==
        "  rule: one of, default {sgd: {lr: 0.01}}\n"
        "    sgd: map\n"
        "      lr: number > 0, default 0.01. step size\n"
        "      momentum: number in [0, 1], default 0\n"
        "      nesterov: boolean, default false\n"
        "    adam: map\n"
        "      lr: number > 0, default 0.01. step size\n"
        "      beta: number in [0, 1), default 0.9\n");
}
