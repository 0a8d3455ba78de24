// Graph files through parsing, validation and planning with every op untangle ships, as
// `untangle run --dry-run` plans them, and nothing further: nothing is run, fetched or hashed.
// Parsing and planning report every problem as a diagnostic; an exception escaping them, of
// any kind, is a finding.
#include <regex>

#include "nodes/register.h"
#include "pipeline/plan.h"
#include "tests/fuzz/fuzz.h"

using namespace untangle;

namespace {

// The graph as if it were a file in graphs/, so that `include:` finds the real graphs there.
const std::string kFile = std::string(UNTANGLE_SOURCE_DIR) + "/graphs/fuzzed.yaml";

// Parsing reads every file an `include:` names, and a fuzzed name could be any file at all
// (/dev/zero reads forever): only plain names, which stay in graphs/, are let through.
bool includes_only_graphs(const std::string& text) {
  static const std::regex plain("[A-Za-z0-9_][A-Za-z0-9_.-]*");
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception&) {
    return true;  // the parser refuses it before reading anything
  }
  if (!root.IsMap()) return true;
  for (auto it = root.begin(); it != root.end(); ++it) {
    if (!it->first.IsScalar() || it->first.Scalar() != "include" || !it->second.IsMap()) continue;
    for (auto in = it->second.begin(); in != it->second.end(); ++in)
      if (in->second.IsScalar() && !std::regex_match(in->second.Scalar(), plain)) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Registry ops = [] {
    Registry r;
    register_all_ops(r);
    return r;
  }();
  const std::string text = fuzz::bytes_of(data, size);
  if (!includes_only_graphs(text)) return -1;  // not kept in the corpus
  Diagnostics diags;
  GraphSpec spec = parse_graph_text(text, kFile, diags);
  // `plugins:` names libraries that load_plan would load, running their code: the fuzzer
  // plans with make_plan, which loads none, and the list goes so that no later change to
  // planning can start loading what a fuzzed graph names.
  spec.plugins.clear();
  Plan plan = make_plan(std::move(spec), ops, {}, diags);
  for (const auto& d : diags) (void)d.str();
  if (!diags.empty()) return 0;
  // What a run computes next from the plan, before any op runs: each instance's key text.
  for (const auto& inst : plan.instances) {
    (void)params_key_text(*inst.op, inst.params);
    (void)params_yaml(*inst.op, inst.params);
  }
  return 0;
}
