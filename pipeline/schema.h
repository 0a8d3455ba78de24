// What an op declares about itself: its ports, its parameter schema and the function that
// computes it. Ops are plain functions of (inputs, params); they never see the cache or the
// scheduler.
#pragma once
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "pipeline/tensor.h"

namespace untangle {

// Nested kinds describe structured params (a network's layers, an optimizer's settings) to the
// last key, so that a typo is an error rather than a silently ignored setting, and two
// spellings of one meaning canonicalise to one cache key.
//   list     a sequence of `items[0]`
//   record   a map with the keys `fields`, each one a ParamSpec; unknown keys are errors
//   variant  one of `fields` (records), written `name`, `{name: {...}}` or `{name: null}`;
//            canonically always `{name: {every key}}`
//   dict     a map from free-form names to `items[0]`
enum class ParamType { integer, number, boolean, string, choice, path, any, list, record, variant, dict };
const char* param_type_name(ParamType t);

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::number;
  std::string doc;
  std::optional<std::string> default_value;  // YAML text; none: the param is required
  std::optional<double> min{}, max{};        // bounds for integer and number; a list's length
  bool min_open = false, max_open = false;   // bounds exclude the value itself (beta1 < 1)
  std::vector<std::string> choices{};        // for choice
  // Paths name where a file lives, not what it holds; the files themselves enter the key by
  // content (OpSchema::files), so moving a data directory does not invalidate anything.
  bool hashed = true;
  // In a record: a key that may be left out although it has no fixed default (`complete`
  // may fill it from other values, or the op derives it).
  bool optional = false;
  std::vector<ParamSpec> fields{};  // record: its keys; variant: its alternatives
  std::vector<ParamSpec> items{};   // list and dict: one spec, for every element
  // list: a fixed length; a scalar then stands for that many copies of itself (kernel: 5).
  std::size_t length = 0;
  // Fills in values that depend on others (a layer's default name, a pool's stride), after
  // the value's own parts are canonical, so that writing them out does not change the key.
  std::function<void(YAML::Node& value)> complete{};
  // What the type alone cannot say (a duration's form, say): given the canonical value, the
  // rest of an error message ("must be a duration like 30s, got 'soon'"), or "" when it is fine.
  // Checked when the graph is planned, so the mistake is located like any other.
  std::function<std::string(const YAML::Node& value)> check{};
};

struct PortSpec {
  std::string name;
  std::string doc;
  bool optional = false;
  // A gather port receives the port's value from every instance of a swept upstream node
  // (e.g. aggregate), instead of being expanded alongside it.
  bool gather = false;
  // A group port holds a named set of tensors (say, a model's weights): the op returns them
  // as outputs "port/name", and a consumer receives them all, names in `labels`.
  bool group = false;
  // A file output holds a file's bytes (u8, 1-D), e.g. a figure. The cache keeps it like any
  // tensor; `untangle run` copies it to results/<graph>/<instance>.<file>, or, when `file` is
  // a whole name ("summary.json"), to results/<graph>/<file>.
  std::string file{};
  // Shown at the end of every run, cached or not: text for people (a summary table).
  bool print = false;
};

using Outputs = std::map<std::string, Tensor>;

struct OpContext {
  YAML::Node params;  // resolved: every declared param present, canonical values
  // One tensor per port; several for a gather port, labelled like "seed=3", or for a group
  // port, labelled with their names.
  std::map<std::string, std::vector<Tensor>> inputs;
  std::map<std::string, std::vector<std::string>> labels;
  std::string instance;  // e.g. "sample[seed=3]", for messages
  std::string graph_dir;  // the directory of the graph file that declares the node
  std::function<void(double fraction, const std::string& what)> progress = [](double, const std::string&) {};
  // Text for the user (a model summary, a line per epoch), printed under the node's name.
  std::function<void(const std::string& text)> log = [](const std::string&) {};
  // Wall-clock figures of this run (say, seconds per epoch). They differ on every run, so they
  // go to the entry's metadata, shown by `untangle show`, and never into an output: an output
  // that holds a time would never compare equal and would defeat early cutoff.
  std::map<std::string, std::vector<double>> timings;

  bool has(const std::string& port) const;
  const Tensor& input(const std::string& port) const;  // the single tensor of a port
  std::int64_t integer(const std::string& name) const;
  double number(const std::string& name) const;
  bool boolean(const std::string& name) const;
  std::string string(const std::string& name) const;
};

// The port of that name in a list, or null.
const PortSpec* find_port(const std::vector<PortSpec>& ports, const std::string& name);

// What a cluster job asks Slurm for, for one instance. An op declares what it usually needs;
// a graph's top-level `resources:` and a node's own override that (pipeline/resources.h).
struct Resources {
  int cpus = 1;
  std::string mem = "1G";    // Slurm's form: 500M, 4G
  std::string time = "30m";  // 30s, 10m, 2h, 1h30m
  std::string partition;     // empty: the cluster's default
  int gpus = 0;
};

struct OpSchema {
  std::string name;
  // The key has no other way to know that the code changed: bump the version in the same
  // commit as any change that alters the op's output bytes for the same inputs and params
  // (a new default, another algorithm, a fixed bug), then update the op's row in
  // tests/pinned_outputs.txt. The pinned-output test runs every registered op on fixed inputs
  // and fails while a changed output still carries an old version.
  int version = 1;
  std::string doc;
  std::vector<PortSpec> inputs, outputs;
  std::vector<ParamSpec> params;
  std::function<Outputs(OpContext&)> run;
  // Files the op reads, given its resolved params; their digests enter the cache key.
  std::function<std::vector<std::string>(const YAML::Node& params)> files;
  // Makes missing files available (e.g. downloads them); called before hashing them.
  std::function<void(const YAML::Node& params)> prepare;
  // `files` names paths relative to the directory of the graph file that declares the node
  // (scripts kept beside the graph), not to the working directory.
  bool files_from_graph_dir = false;
  // Ops whose ports the graph names (exec runs any program): every input port a node gives is
  // accepted, each one tensor, and an instance's outputs come from its resolved params
  // instead of `outputs`.
  bool any_inputs = false;
  std::function<std::vector<PortSpec>(const YAML::Node& params)> outputs_of;
  // What else the output depends on, as text for the key, given the resolved params: say the
  // values of environment variables that the params name. Read when the key is computed.
  std::function<std::string(const YAML::Node& params)> key_extra;
  // Quick work on small inputs (a metric, a table, a figure): on a cluster it runs inside the
  // driver, as a job would cost more than the work.
  bool light = false;
  Resources resources;
  // Where the op comes from: empty for untangle's own ops, else the absolute path of the plugin
  // that added it, whose content digest enters the op's cache keys, so that a rebuilt plugin
  // reruns its nodes. Set by the plugin loader, never by the op.
  std::string origin, origin_digest;

  const ParamSpec* param(const std::string& n) const;
  const PortSpec* input(const std::string& n) const;
  const PortSpec* output(const std::string& n) const;
};

// A problem with a param's value; `mark` is where in the graph file, when known.
struct ParamIssue {
  std::string message;
  YAML::Mark mark = YAML::Mark::null_mark();
};

// Checks a value against a param's schema, however nested, and returns its canonical form:
// numbers in shortest round-trip form (0.5 and 5e-1 alike), defaults filled in, record keys in
// schema order. Every problem goes to `issues`, located through `marks`: the value as written
// in the graph file (before ${var} substitution), whose nodes carry file positions.
YAML::Node canonical_param(const ParamSpec& spec, const YAML::Node& value, std::vector<ParamIssue>& issues,
                           const YAML::Node& marks = YAML::Node());
// The same with the first problem only, for checks outside a graph file.
YAML::Node canonical_param(const ParamSpec& spec, const YAML::Node& value, std::string& error);

// The schema as text for `untangle ops`: a line per param, nested ones indented below.
// `keyed`: the param is a key of an op or record, so whether it is required matters.
std::string describe_param(const ParamSpec& spec, const std::string& indent, bool keyed = true);

// Canonical text of a resolved param map, in schema order: the part of the cache key that
// params contribute. Unhashed params are left out.
std::string params_key_text(const OpSchema& op, const YAML::Node& params);

// The digest a consumer of `port` depends on: the tensor's own, or for a group port one digest
// over all its members. Empty when the port has no recorded digest.
std::string port_digest(const std::map<std::string, std::string>& digests, const PortSpec& port);

// Readable YAML of resolved params, stored in artifacts and shown to users.
std::string params_yaml(const OpSchema& op, const YAML::Node& params);

}  // namespace untangle
