// Plugins of ops through the real binary: loading (from a graph's `plugins:` and --plugin),
// their ops in the cache like untangle's own, and every way a plugin can be wrong. The plugins
// are built from tests/plugins/ with the tests; a "rebuilt" plugin is another build copied
// over the file the graph names.
#include <doctest/doctest.h>

#include <filesystem>

#include "tests/checks.h"
#include "tests/helpers.h"

using namespace untangle;

namespace {

std::string plugin(const std::string& name) { return std::string(TEST_PLUGIN_DIR) + "/" + name + ".so"; }

// A graph in dir/g/g.yaml whose plugin lives beside it in dir/g/lib/ops.so; run from dir.
struct Project {
  test::TempDir dir;
  std::string graph = dir / "g/g.yaml";
  std::string lib = dir / "g/lib/ops.so";

  explicit Project(const std::string& text) {
    std::filesystem::create_directories(dir / "g/lib");
    test::write_file(graph, text);
  }
  void install(const std::string& name) const {
    std::filesystem::copy_file(plugin(name), lib, std::filesystem::copy_options::overwrite_existing);
  }
  test::CommandResult operator()(const std::string& command, const std::string& more = "") const {
    return test::run_command("cd " + dir.path + " && " + UNTANGLE_BINARY + " " + command + " g/g.yaml --cache cache " + more);
  }
  std::string cache() const { return dir / "cache"; }
};

const char* kGraph = R"(plugins: [lib/ops.so]
nodes:
  c: {op: constant, params: {value: 1.5}}
  s: {op: scale, inputs: {x: c.y}, params: {by: 2}}
  d: {op: add, inputs: {a: s.y}}
)";

using Names = std::vector<std::string>;

}  // namespace

TEST_CASE("plugin: a graph's plugins load relative to its file, their ops get params, log and progress") {
  Project p(kGraph);
  p.install("times2");
  auto r = p("run");
  REQUIRE_MESSAGE(r.code == 0, r.out << r.err);
  CHECK(test::ran(r.out) == Names{"c", "d", "s"});
  CHECK_CONTAINS(r.out, "  s: scaling by 2\n");
  CHECK(p("get", "s.y").out == "6\n");  // 1.5 · 2 (compiled in) · 2 (by)
  r = p("run");
  CHECK(test::last_line(r.out) == "done: 0 ran, 3 cached, 0 failed");
}

TEST_CASE("plugin: a rebuilt plugin reruns its nodes and their dependents, the rest stays cached") {
  Project p(kGraph);
  p.install("times2");
  REQUIRE(p("run").code == 0);
  p.install("times3");
  auto r = p("run");
  REQUIRE(r.code == 0);
  CHECK(test::ran(r.out) == Names{"d", "s"});
  CHECK(p("get", "s.y").out == "9\n");
  // The first build again: its entries are still in the cache.
  p.install("times2");
  r = p("run");
  CHECK(test::last_line(r.out) == "done: 0 ran, 3 cached, 0 failed");
  CHECK(p("get", "s.y").out == "6\n");
}

TEST_CASE("plugin: --plugin loads a plugin for a graph that names none, and ops shows where ops come from") {
  Project p("nodes:\n  c: {op: constant, params: {value: 1.5}}\n  s: {op: scale, inputs: {x: c.y}}\n");
  auto r = p("run");
  CHECK(r.code == 2);
  CHECK_CONTAINS(r.err, "g/g.yaml:3:11: error: unknown op 'scale'");
  r = p("run", "--plugin " + plugin("times3"));
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(p("get", "s.y --plugin " + plugin("times3")).out == "4.5\n");

  const std::string canonical = std::filesystem::canonical(plugin("times3")).string();
  r = test::run_command(std::string(UNTANGLE_BINARY) + " ops --plugin " + plugin("times3"));
  REQUIRE(r.code == 0);
  const auto at = r.out.find("from plugin " + canonical + ":\n");
  REQUIRE(at != std::string::npos);
  CHECK(r.out.substr(at).find("\n  fail ") != std::string::npos);
  CHECK(r.out.substr(at).find("\n  scale ") != std::string::npos);
  CHECK(r.out.substr(0, at).find("\n  constant ") != std::string::npos);  // untangle's own above
  r = test::run_command(std::string(UNTANGLE_BINARY) + " ops scale --plugin " + plugin("times3"));
  CHECK(test::lines_of(r.out).at(0) == "scale (version 1, from plugin " + canonical + ")");
}

TEST_CASE("plugin: an op that throws fails its node with the message, exit code 1, nothing cached") {
  Project p("plugins: [lib/ops.so]\nnodes:\n  c: {op: constant, params: {value: 1}}\n"
            "  f: {op: fail, params: {why: the disk is full}}\n  d: {op: add, inputs: {a: f.y}}\n");
  p.install("times2");
  REQUIRE(p("run", "--only c").code == 0);
  const test::Snapshot before = test::snapshot(p.cache() + "/objects");
  auto r = p("run");
  CHECK(r.code == 1);
  CHECK_CONTAINS(r.out, "  FAILED  f: cannot go on: the disk is full\n");
  CHECK_CONTAINS(r.out, "done: 0 ran, 1 cached, 1 failed, 1 skipped");
  CHECK(test::difference(before, test::snapshot(p.cache() + "/objects")) == "");
}

TEST_CASE("plugin: each bad plugin is an error at its place in the graph, exit code 2, cache untouched") {
  Project p(kGraph);
  p.install("times2");
  REQUIRE(p("run").code == 0);
  const test::Snapshot before = test::snapshot(p.cache());
  const std::string lib = std::filesystem::canonical(p.lib).string();
  auto bad = [&](const std::string& message, int errors = 1, const std::string& more = "") {
    auto r = p("run", more);
    CHECK(r.code == 2);
    CHECK(test::lines_of(r.err).at(0) == message);
    CHECK(test::last_line(r.err) == std::to_string(errors) + (errors == 1 ? " error" : " errors") + " in g/g.yaml");
    CHECK(test::difference(before, test::snapshot(p.cache())) == "");
  };
  SUBCASE("built for another API") {
    p.install("stale_api");
    bad("g/g.yaml:1:11: error: plugin g/lib/ops.so: was built for plugin API 99, but this untangle has API 1: "
        "rebuild it against this untangle", 2);  // and: unknown op 'scale'
  }
  SUBCASE("built with another layout of the shared types") {
    p.install("stale_layout");
    bad("g/g.yaml:1:11: error: plugin g/lib/ops.so: was built against untangle headers whose types have another "
        "layout (another compiler or standard library mode): rebuild it against this untangle", 2);
  }
  SUBCASE("a shared library that is no plugin") {
    p.install("not_a_plugin");
    bad("g/g.yaml:1:11: error: plugin g/lib/ops.so: is no untangle plugin: it defines no untangle_plugin function "
        "(see UNTANGLE_PLUGIN in <untangle/plugin.h>)", 2);
  }
  SUBCASE("a file that is no shared library") {
    test::write_file(p.lib, "#!/bin/sh\n");
    auto r = p("run");
    CHECK(r.code == 2);
    CHECK_CONTAINS(r.err, "g/g.yaml:1:11: error: plugin g/lib/ops.so: cannot be loaded: ");
    CHECK(test::difference(before, test::snapshot(p.cache())) == "");
  }
  SUBCASE("a missing file") {
    std::filesystem::remove(p.lib);
    bad("g/g.yaml:1:11: error: plugin g/lib/ops.so: no such file", 2);
  }
  SUBCASE("an op name untangle has") {
    p.install("taken");
    bad("g/g.yaml:1:11: error: plugin g/lib/ops.so: adds op 'constant', which untangle already has", 2);
  }
  SUBCASE("an op another plugin adds") {
    test::write_file(p.graph, "plugins: [lib/ops.so, " + plugin("times3") + "]\nnodes:\n  c: {op: constant}\n");
    bad("g/g.yaml:1:23: error: plugin " + plugin("times3") + ": adds op 'fail', which plugin " + lib + " already adds");
  }
  SUBCASE("an op the registry refuses") {
    p.install("broken");
    bad("g/g.yaml:1:11: error: plugin g/lib/ops.so: adding its ops failed: op broken: no run function", 2);
  }
  SUBCASE("plugins that is no list") {
    test::write_file(p.graph, "plugins: lib/ops.so\nnodes:\n  c: {op: constant}\n");
    bad("g/g.yaml:1:10: error: plugins must be a list of plugin files (shared libraries)");
  }
  SUBCASE("a missing --plugin") {
    bad("--plugin: error: plugin nope.so: no such file", 1, "--plugin nope.so");
  }
}

TEST_CASE("plugin: ops --plugin with a bad plugin says what is wrong and exits 2") {
  auto r = test::run_command(std::string(UNTANGLE_BINARY) + " ops --plugin " + plugin("stale_api"));
  CHECK(r.code == 2);
  CHECK(r.err == "untangle: error: plugin " + plugin("stale_api") +
                     ": was built for plugin API 99, but this untangle has API 1: rebuild it against this untangle\n");
}
