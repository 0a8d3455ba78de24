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

enum class ParamType { integer, number, boolean, string, choice, path, any };
const char* param_type_name(ParamType t);

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::number;
  std::string doc;
  std::optional<std::string> default_value;  // YAML text; none: the param is required
  std::optional<double> min{}, max{};        // inclusive bounds for integer and number
  std::vector<std::string> choices{};        // for choice
  // Paths name where a file lives, not what it holds; the files themselves enter the key by
  // content (OpSchema::files), so moving a data directory does not invalidate anything.
  bool hashed = true;
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
  std::function<void(double fraction, const std::string& what)> progress = [](double, const std::string&) {};
  // Text for the user (a model summary, a line per epoch), printed under the node's name.
  std::function<void(const std::string& text)> log = [](const std::string&) {};

  bool has(const std::string& port) const;
  const Tensor& input(const std::string& port) const;  // the single tensor of a port
  std::int64_t integer(const std::string& name) const;
  double number(const std::string& name) const;
  bool boolean(const std::string& name) const;
  std::string string(const std::string& name) const;
};

struct OpSchema {
  std::string name;
  int version = 1;  // bump when the op's output for the same inputs changes
  std::string doc;
  std::vector<PortSpec> inputs, outputs;
  std::vector<ParamSpec> params;
  std::function<Outputs(OpContext&)> run;
  // Files the op reads, given its resolved params; their digests enter the cache key.
  std::function<std::vector<std::string>(const YAML::Node& params)> files;
  // Makes missing files available (e.g. downloads them); called before hashing them.
  std::function<void(const YAML::Node& params)> prepare;

  const ParamSpec* param(const std::string& n) const;
  const PortSpec* input(const std::string& n) const;
  const PortSpec* output(const std::string& n) const;
};

// Checks a value against a param's schema. On success returns the canonical form (so that
// 0.5 and 5e-1 hash alike) and leaves `error` empty.
YAML::Node canonical_param(const ParamSpec& spec, const YAML::Node& value, std::string& error);

// Canonical text of a resolved param map, in schema order: the part of the cache key that
// params contribute. Unhashed params are left out.
std::string params_key_text(const OpSchema& op, const YAML::Node& params);

// The digest a consumer of `port` depends on: the tensor's own, or for a group port one digest
// over all its members. Empty when the port has no recorded digest.
std::string port_digest(const std::map<std::string, std::string>& digests, const PortSpec& port);

// Readable YAML of resolved params, stored in artifacts and shown to users.
std::string params_yaml(const OpSchema& op, const YAML::Node& params);

}  // namespace untangle
